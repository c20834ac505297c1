using System.Net;
using System.Text.Json;
using HarborPortal.Data;
using HarborPortal.Features.Auth;
using HarborPortal.Features.Connections;
using HarborPortal.Features.Scanning;
using HarborPortal.Features.Schedules;
using HarborPortal.HarborSimulator;
using HarborPortal.Tests.Features.Auth;
using HarborPortal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Quartz;
using Xunit.Abstractions;
using static HarborPortal.Tests.Features.Connections.ConnectionPages;
using Sim = HarborPortal.HarborSimulator.HarborSimulator;

namespace HarborPortal.Tests.Features.Schedules;

// The schedule panel on the connection page, the API, and the Quartz triggers they keep in step (read back from the scheduler).
public sealed class SchedulesTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly PortalApplication _app = new(new Dictionary<string, string?> { ["Connections:VerifyOnSave"] = "false" }, output);
    private HttpClient _admin = null!;

    public async Task InitializeAsync()
    {
        _admin = _app.CreateClientWithCookies();
        await _app.SignInAsAsync(_admin, "alice", PortalRoles.Admin);
    }

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        await _app.DisposeAsync();
    }

    [Fact]
    public async Task A_New_Connection_Syncs_Manually_Only_And_Has_No_Trigger()
    {
        var id = await CreateAsync(_admin, "harbor-prod", "S3cret-Value-1");

        var panel = (await GetPageAsync(_admin, $"/admin/connections/{id}")).QuerySelector("[data-testid=schedule-panel]")!;

        Assert.Equal("Manual only", panel.QuerySelector("[data-testid=schedule-current]")!.TextContent.Trim());
        Assert.Null(panel.QuerySelector("[data-testid=next-fire-times]"));
        Assert.Contains("UTC", panel.QuerySelector("[data-testid=schedule-time-zone]")!.TextContent, StringComparison.Ordinal);
        Assert.Equal("#webhooks", panel.QuerySelector("a[data-testid=schedule-webhooks-link]")!.GetAttribute("href"));
        Assert.Null(await TriggerAsync(id));
    }

    [Fact]
    public async Task An_Invalid_Cron_Shows_Its_Error_And_Keeps_The_Input()
    {
        var id = await CreateAsync(_admin, "harbor-prod", "S3cret-Value-1");

        using var response = await PostScheduleAsync(id, new() { ["Form.Kind"] = "Cron", ["Form.Cron"] = "0 61 * * * ?" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var page = new AngleSharp.Html.Parser.HtmlParser().ParseDocument(await response.Content.ReadAsStringAsync());
        Assert.Contains("Minute and Second values must be between 0 and 59", page.QuerySelector("[data-testid=schedule-errors]")!.TextContent, StringComparison.Ordinal);
        Assert.Equal("0 61 * * * ?", page.QuerySelector("#schedule-cron-expression")!.GetAttribute("value"));
        Assert.NotNull(page.QuerySelector("#schedule-cron[checked]"));
        Assert.Null(await TriggerAsync(id));
        await using var db = _app.CreateDbContext();
        Assert.False(await db.SyncSchedules.AnyAsync());
    }

    [Fact]
    public async Task A_Minute_That_Is_Not_A_Number_Is_Refused_And_Kept()
    {
        var id = await CreateAsync(_admin, "harbor-prod", "S3cret-Value-1");

        using var response = await PostScheduleAsync(id, new() { ["Form.Kind"] = "Hourly", ["Form.Minute"] = "half past" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var page = new AngleSharp.Html.Parser.HtmlParser().ParseDocument(await response.Content.ReadAsStringAsync());
        Assert.Contains("half past", page.QuerySelector("[data-testid=schedule-errors]")!.TextContent, StringComparison.Ordinal);
        Assert.Null(await TriggerAsync(id));
    }

    [Fact]
    public async Task A_Form_With_An_Unknown_Kind_Is_Refused_And_Leaves_The_Schedule_Alone()
    {
        var id = await CreateAsync(_admin, "harbor-prod", "S3cret-Value-1");
        await PostScheduleAsync(id, new() { ["Form.Kind"] = "Hourly" });

        using var response = await PostScheduleAsync(id, new() { ["Form.Kind"] = "Sometimes" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var page = new AngleSharp.Html.Parser.HtmlParser().ParseDocument(await response.Content.ReadAsStringAsync());
        Assert.False(string.IsNullOrWhiteSpace(page.QuerySelector("[data-testid=schedule-errors]")!.TextContent));
        Assert.Equal("0 0 * * * ?", Assert.IsAssignableFrom<ICronTrigger>(await TriggerAsync(id)).CronExpressionString);
    }

    [Fact]
    public async Task A_Valid_Cron_Is_Saved_Audited_And_Shows_The_Next_Three_Fire_Times()
    {
        var id = await CreateAsync(_admin, "harbor-prod", "S3cret-Value-1");

        using var response = await PostScheduleAsync(id, new() { ["Form.Kind"] = "Cron", ["Form.Cron"] = "0 15 3 ? * MON-FRI" });

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal($"/admin/connections/{id}?schedule=saved", response.Headers.Location!.PathAndQuery);
        Assert.Equal("#schedule", response.Headers.Location.Fragment);
        var panel = (await GetPageAsync(_admin, $"/admin/connections/{id}?schedule=saved")).QuerySelector("[data-testid=schedule-panel]")!;
        Assert.NotNull(panel.QuerySelector("[data-testid=schedule-saved]"));
        Assert.Equal("Cron 0 15 3 ? * MON-FRI (UTC)", panel.QuerySelector("[data-testid=schedule-current]")!.TextContent.Trim());
        var fires = panel.QuerySelectorAll("[data-testid=next-fire-time]").Select(f => f.TextContent.Trim()).ToList();
        Assert.Equal(3, fires.Count);
        Assert.All(fires, f => Assert.Matches(@"^\d{4}-\d{2}-\d{2} 03:15 (Mon|Tue|Wed|Thu|Fri) UTC$", f));
        Assert.Equal(fires, fires.Order(StringComparer.Ordinal).ToList());

        var trigger = Assert.IsAssignableFrom<ICronTrigger>(await TriggerAsync(id));
        var expected = ScheduleRules.NextFireTimes(new ScheduleDefinition(ScheduleKind.Cron, null, null, null, "0 15 3 ? * MON-FRI"), TimeZoneInfo.Utc, DateTimeOffset.UtcNow)[0];
        Assert.Equal(expected, trigger.NextFireTimeUtc);
        await using var db = _app.CreateDbContext();
        var audit = await db.AuditEvents.Where(e => e.Action == "connection.schedule").SingleAsync();
        Assert.Equal("harbor-prod", audit.Target);
        Assert.Equal("alice", audit.Actor);
        Assert.Equal("Cron 0 15 3 ? * MON-FRI (UTC) (was Manual only)", audit.Details);
    }

    [Fact]
    public async Task Each_Kind_Creates_Its_Trigger_And_Editing_Replaces_It_At_Once_And_Manual_Removes_It()
    {
        var id = await CreateAsync(_admin, "harbor-prod", "S3cret-Value-1");
        var steps = new (Dictionary<string, string> Form, string Cron, string Description)[]
        {
            (new() { ["Form.Kind"] = "Hourly", ["Form.Minute"] = "20" }, "0 20 * * * ?", "Every hour at 20 minutes past (UTC)"),
            (new() { ["Form.Kind"] = "Daily", ["Form.Time"] = "02:30" }, "0 30 2 * * ?", "Daily at 02:30 (UTC)"),
            (new() { ["Form.Kind"] = "Weekly", ["Form.Day"] = "Sunday", ["Form.Time"] = "23:45" }, "0 45 23 ? * SUN", "Weekly on Sundays at 23:45 (UTC)"),
            (new() { ["Form.Kind"] = "Cron", ["Form.Cron"] = "0 0 */6 * * ?" }, "0 0 */6 * * ?", "Cron 0 0 */6 * * ? (UTC)"),
        };

        foreach (var (form, cron, description) in steps)
        {
            using var response = await PostScheduleAsync(id, form);
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);

            // Read back from the scheduler right after the save: no restart, no delay.
            var trigger = Assert.IsAssignableFrom<ICronTrigger>(await TriggerAsync(id));
            Assert.Equal(cron, trigger.CronExpressionString);
            Assert.Equal("UTC", trigger.TimeZone.Id);
            Assert.Equal(description, trigger.Description);
            Assert.Equal(ScheduledSyncJob.KeyFor(id), trigger.JobKey);
            Assert.Equal(TriggerState.Normal, await (await SchedulerAsync()).GetTriggerState(trigger.Key));
            Assert.Single(await (await SchedulerAsync()).GetTriggersOfJob(ScheduledSyncJob.KeyFor(id)));
        }

        using var manual = await PostScheduleAsync(id, new() { ["Form.Kind"] = "Manual" });

        Assert.Equal(HttpStatusCode.Redirect, manual.StatusCode);
        Assert.Null(await TriggerAsync(id));
        Assert.False(await (await SchedulerAsync()).Exists(ScheduledSyncJob.KeyFor(id)));
    }

    [Fact]
    public async Task The_Trigger_Is_Stored_In_The_Database_And_Reads_Well_On_The_Jobs_Page()
    {
        var id = await CreateAsync(_admin, "harbor-prod", "S3cret-Value-1");

        await PostScheduleAsync(id, new() { ["Form.Kind"] = "Daily", ["Form.Time"] = "04:00" });

        // Quartz's persistent store: the trigger is a row in the portal's database, so it survives a restart.
        await using (var db = _app.CreateDbContext())
        {
            // Unquoted names: SQLite ignores their case and PostgreSQL folds them to Quartz's lower-case tables.
            var connection = db.Database.GetDbConnection();
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT c.CRON_EXPRESSION, c.TIME_ZONE_ID FROM QRTZ_CRON_TRIGGERS c WHERE c.TRIGGER_NAME = @name";
            var name = command.CreateParameter();
            name.ParameterName = "@name";
            name.Value = ScheduledSyncJob.TriggerKeyFor(id).Name;
            command.Parameters.Add(name);
            await using var reader = await command.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.Equal("0 0 4 * * ?", reader.GetString(0));
            Assert.Equal("UTC", reader.GetString(1));
        }

        var row = (await GetPageAsync(_admin, "/admin/jobs")).QuerySelector($"tr[data-job='schedules.sync-schedule-{id}']")!;
        Assert.Contains("Scheduled sync of \"harbor-prod\"", row.TextContent, StringComparison.Ordinal);
        Assert.Contains("Daily at 04:00 (UTC)", row.TextContent, StringComparison.Ordinal);
        Assert.Matches(@"\d{4}-\d{2}-\d{2} 04:00:00", row.TextContent);
    }

    [Fact]
    public async Task Deleting_The_Connection_Removes_Its_Trigger()
    {
        var id = await CreateAsync(_admin, "harbor-prod", "S3cret-Value-1");
        await PostScheduleAsync(id, new() { ["Form.Kind"] = "Hourly", ["Form.Minute"] = "5" });
        Assert.NotNull(await TriggerAsync(id));

        using var deleted = await PostFormAsync(_admin, $"/admin/connections/{id}", "delete-form", new Dictionary<string, string> { ["Delete.Findings"] = "Purge" });

        Assert.Equal(HttpStatusCode.Redirect, deleted.StatusCode);
        Assert.Null(await TriggerAsync(id));
        Assert.False(await (await SchedulerAsync()).Exists(ScheduledSyncJob.KeyFor(id)));
        await using var db = _app.CreateDbContext();
        Assert.False(await db.SyncSchedules.AnyAsync());
    }

    [Fact]
    public async Task Reconciling_Restores_A_Lost_Trigger_And_Removes_A_Stray_One()
    {
        var kept = await CreateAsync(_admin, "harbor-prod", "S3cret-Value-1");
        await PostScheduleAsync(kept, new() { ["Form.Kind"] = "Daily", ["Form.Time"] = "01:00" });
        var scheduler = await SchedulerAsync();
        // As after a crash between the two writes, or a restored backup: the table and Quartz disagree.
        await scheduler.DeleteJob(ScheduledSyncJob.KeyFor(kept));
        await scheduler.AddJob(JobBuilder.Create<ScheduledSyncJob>().WithIdentity(ScheduledSyncJob.KeyFor(999)).UsingJobData(ScheduledSyncJob.ConnectionIdKey, "999").StoreDurably().Build(), AddJobOptions.Replacing);

        await using var scope = _app.Services.CreateAsyncScope();
        var changed = await scope.ServiceProvider.GetRequiredService<ConnectionSchedules>().ReconcileAsync(CancellationToken.None);

        Assert.Equal(2, changed);
        Assert.Equal("0 0 1 * * ?", Assert.IsAssignableFrom<ICronTrigger>(await TriggerAsync(kept)).CronExpressionString);
        Assert.False(await scheduler.Exists(ScheduledSyncJob.KeyFor(999)));
        Assert.Equal(0, await scope.ServiceProvider.GetRequiredService<ConnectionSchedules>().ReconcileAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_Fire_Starts_A_Scheduled_Sync_And_A_Fire_While_One_Is_Under_Way_Is_Skipped_Visibly()
    {
        await using var simulator = await Sim.StartAsync();
        var id = await AddSimulatorConnectionAsync(simulator);
        await PostScheduleAsync(id, new() { ["Form.Kind"] = "Daily", ["Form.Time"] = "03:00" });

        await FireAsync(id);

        var started = await LastFireAsync(id);
        Assert.Equal(ScheduleFireOutcome.Started, started.LastFireOutcome);
        await using (var db = _app.CreateDbContext())
        {
            var run = await db.SyncRuns.SingleAsync(r => r.Id == started.LastFireRunId);
            Assert.Equal(SyncTrigger.Schedule, run.Trigger);
            Assert.Equal("schedule", run.RequestedBy);
        }

        await WaitForRunToEndAsync(started.LastFireRunId!.Value);

        // A run under way (seeded, so that it stays under way): the next fire must not queue behind it.
        long busy;
        await using (var db = _app.CreateDbContext())
        {
            var run = new SyncRun { ConnectionId = id, Status = SyncRunStatus.Running, RequestedAt = DateTimeOffset.UtcNow, StartedAt = DateTimeOffset.UtcNow, Trigger = SyncTrigger.Manual };
            db.SyncRuns.Add(run);
            await db.SaveChangesAsync();
            busy = run.Id;
        }

        await FireAsync(id);

        var skipped = await LastFireAsync(id);
        Assert.Equal(ScheduleFireOutcome.SkippedRunUnderWay, skipped.LastFireOutcome);
        Assert.Equal(busy, skipped.LastFireRunId);
        Assert.Equal(1, skipped.SkippedFires);
        var panel = (await GetPageAsync(_admin, $"/admin/connections/{id}")).QuerySelector("[data-testid=schedule-last-fire]")!;
        Assert.Contains($"skipped, a run was under way (run {busy})", panel.TextContent, StringComparison.Ordinal);
        Assert.Contains("1 fire skipped since this schedule was saved", panel.TextContent, StringComparison.Ordinal);
        Assert.Contains($"run {busy} was under way", _app.AllLogText(), StringComparison.Ordinal);
        await using (var db = _app.CreateDbContext())
        {
            Assert.Equal(2, await db.SyncRuns.CountAsync());
        }
    }

    [Fact]
    public async Task A_Fire_For_A_Disabled_Connection_Is_Skipped()
    {
        var id = await CreateAsync(_admin, "harbor-off", "S3cret-Value-1");
        await PostScheduleAsync(id, new() { ["Form.Kind"] = "Hourly" });
        await using (var db = _app.CreateDbContext())
        {
            await db.HarborConnections.Where(c => c.Id == id).ExecuteUpdateAsync(s => s.SetProperty(c => c.Enabled, false));
        }

        await FireAsync(id);

        Assert.Equal(ScheduleFireOutcome.SkippedDisabled, (await LastFireAsync(id)).LastFireOutcome);
        var panel = (await GetPageAsync(_admin, $"/admin/connections/{id}")).QuerySelector("[data-testid=schedule-last-fire]")!;
        Assert.Contains("skipped, the connection is disabled", panel.TextContent, StringComparison.Ordinal);
        await using var check = _app.CreateDbContext();
        Assert.False(await check.SyncRuns.AnyAsync());
    }

    [Fact]
    public async Task The_Api_Reads_And_Replaces_The_Schedule_With_A_Token()
    {
        var id = await CreateAsync(_admin, "harbor-prod", "S3cret-Value-1");
        var token = await ApiTokenTests.CreateTokenAsync(_app, "automation", PortalRoles.Admin);
        using var client = _app.CreateClient();

        using var put = await ApiTokenTests.SendAsync(client, HttpMethod.Put, $"/api/v1/connections/{id}/schedule", token, new { kind = "weekly", day = "Tuesday", time = "06:10" });
        var saved = JsonDocument.Parse(await put.Content.ReadAsStringAsync()).RootElement;
        using var get = await ApiTokenTests.SendAsync(client, HttpMethod.Get, $"/api/v1/connections/{id}/schedule", token);
        var read = JsonDocument.Parse(await get.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        foreach (var schedule in new[] { saved, read })
        {
            Assert.Equal("Weekly", schedule.GetProperty("kind").GetString());
            Assert.Equal("Tuesday", schedule.GetProperty("day").GetString());
            Assert.Equal("06:10", schedule.GetProperty("time").GetString());
            Assert.Equal("0 10 6 ? * TUE", schedule.GetProperty("cronExpression").GetString());
            Assert.Equal("UTC", schedule.GetProperty("timeZone").GetString());
            var fires = schedule.GetProperty("nextFireTimes").EnumerateArray().Select(f => f.GetDateTimeOffset()).ToList();
            Assert.Equal(3, fires.Count);
            Assert.All(fires, f => Assert.Equal((DayOfWeek.Tuesday, new TimeSpan(6, 10, 0)), (f.DayOfWeek, f.TimeOfDay)));
        }

        Assert.Equal("0 10 6 ? * TUE", Assert.IsAssignableFrom<ICronTrigger>(await TriggerAsync(id)).CronExpressionString);
    }

    [Fact]
    public async Task The_Api_Refuses_Bad_Input_Unknown_Connections_And_Cookie_Writes()
    {
        var id = await CreateAsync(_admin, "harbor-prod", "S3cret-Value-1");
        var token = await ApiTokenTests.CreateTokenAsync(_app, "automation", PortalRoles.Admin);
        using var client = _app.CreateClient();

        using var badCron = await ApiTokenTests.SendAsync(client, HttpMethod.Put, $"/api/v1/connections/{id}/schedule", token, new { kind = "cron", cron = "every day" });
        using var badKind = await ApiTokenTests.SendAsync(client, HttpMethod.Put, $"/api/v1/connections/{id}/schedule", token, new { kind = "sometimes" });
        using var unknown = await ApiTokenTests.SendAsync(client, HttpMethod.Get, "/api/v1/connections/4242/schedule", token);
        using var cookieWrite = await _admin.PutAsync($"/api/v1/connections/{id}/schedule", System.Net.Http.Json.JsonContent.Create(new { kind = "hourly" }));
        using var cookieRead = await _admin.GetAsync($"/api/v1/connections/{id}/schedule");

        Assert.Equal(HttpStatusCode.BadRequest, badCron.StatusCode);
        Assert.Contains("Not a valid Quartz cron expression", JsonDocument.Parse(await badCron.Content.ReadAsStringAsync()).RootElement.GetProperty("errors").GetProperty("cron")[0].GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, badKind.StatusCode);
        Assert.True(JsonDocument.Parse(await badKind.Content.ReadAsStringAsync()).RootElement.GetProperty("errors").TryGetProperty("kind", out _));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, cookieWrite.StatusCode);
        Assert.Equal(HttpStatusCode.OK, cookieRead.StatusCode);
        Assert.Null(await TriggerAsync(id));
    }

    [Theory]
    [InlineData(PortalRoles.Security)]
    [InlineData(PortalRoles.Developer)]
    [InlineData(PortalRoles.Viewer)]
    public async Task Non_Admins_Get_403_On_The_Schedule_Form_And_Api(string role)
    {
        var id = await CreateAsync(_admin, "harbor-prod", "S3cret-Value-1");
        var antiforgery = await PortalApplication.GetAntiforgeryTokenAsync(_admin, $"/admin/connections/{id}");
        using var other = _app.CreateClientWithCookies();
        await _app.SignInAsAsync(other, "bob", role);
        var token = await ApiTokenTests.CreateTokenAsync(_app, "bot", role);
        using var client = _app.CreateClient();

        using var form = await other.PostAsync($"/admin/connections/{id}", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = antiforgery,
            ["_handler"] = "schedule",
            ["Form.Kind"] = "Hourly",
        }));
        using var get = await ApiTokenTests.SendAsync(client, HttpMethod.Get, $"/api/v1/connections/{id}/schedule", token);
        using var put = await ApiTokenTests.SendAsync(client, HttpMethod.Put, $"/api/v1/connections/{id}/schedule", token, new { kind = "hourly" });

        Assert.Equal(HttpStatusCode.Forbidden, form.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, get.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, put.StatusCode);
        Assert.Null(await TriggerAsync(id));
    }

    [Fact]
    public async Task A_Configured_Time_Zone_Is_Used_For_The_Trigger_And_Stated_On_The_Page()
    {
        await using var app = new PortalApplication(new Dictionary<string, string?> { ["Connections:VerifyOnSave"] = "false", ["Schedules:TimeZone"] = "Europe/Berlin" }, output);
        using var admin = app.CreateClientWithCookies();
        await app.SignInAsAsync(admin, "alice", PortalRoles.Admin);
        var id = await CreateAsync(admin, "harbor-prod", "S3cret-Value-1");

        await PostFormAsync(admin, $"/admin/connections/{id}", "schedule-form", new Dictionary<string, string> { ["Form.Kind"] = "Daily", ["Form.Time"] = "02:30" });

        var trigger = Assert.IsAssignableFrom<ICronTrigger>(await (await app.Services.GetRequiredService<ISchedulerFactory>().GetScheduler()).GetTrigger(ScheduledSyncJob.TriggerKeyFor(id)));
        Assert.Equal("Europe/Berlin", trigger.TimeZone.Id);
        var panel = (await GetPageAsync(admin, $"/admin/connections/{id}")).QuerySelector("[data-testid=schedule-panel]")!;
        Assert.Contains("Europe/Berlin", panel.QuerySelector("[data-testid=schedule-time-zone]")!.TextContent, StringComparison.Ordinal);
        Assert.All(panel.QuerySelectorAll("[data-testid=next-fire-time]"), f => Assert.Contains("02:30", f.TextContent, StringComparison.Ordinal));
    }

    [Fact]
    public void An_Unknown_Time_Zone_Stops_The_Start_With_A_Message_Naming_The_Key()
    {
        using var app = new PortalApplication(new Dictionary<string, string?> { ["Schedules:TimeZone"] = "Mars/Olympus_Mons" }, output);

        var error = Assert.ThrowsAny<Exception>(() => app.CreateClient());

        Assert.Contains("Schedules:TimeZone", error.ToString(), StringComparison.Ordinal);
    }

    private Task<HttpResponseMessage> PostScheduleAsync(long id, Dictionary<string, string> fields) =>
        PostFormAsync(_admin, $"/admin/connections/{id}", "schedule-form", fields);

    private async Task<IScheduler> SchedulerAsync() => await _app.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();

    private async Task<ITrigger?> TriggerAsync(long connectionId) => await (await SchedulerAsync()).GetTrigger(ScheduledSyncJob.TriggerKeyFor(connectionId));

    private async Task<long> AddSimulatorConnectionAsync(Sim simulator)
    {
        await using var scope = _app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
        var connection = new HarborConnection
        {
            Name = "sim",
            BaseUrl = simulator.BaseAddress.ToString().TrimEnd('/'),
            UserName = DefaultScenario.PortalRobot,
            ProtectedSecret = scope.ServiceProvider.GetRequiredService<ConnectionSecrets>().Protect(DefaultScenario.PortalRobotSecret),
            AllowInsecureHttp = true,
            Enabled = true,
        };
        db.HarborConnections.Add(connection);
        await db.SaveChangesAsync();
        return connection.Id;
    }

    // "Run now" on the schedule's job: the same Execute a cron fire runs, without waiting for the clock.
    private async Task FireAsync(long connectionId)
    {
        var before = (await LastFireAsync(connectionId)).LastFiredAt;
        await (await SchedulerAsync()).TriggerJob(ScheduledSyncJob.KeyFor(connectionId));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await LastFireAsync(connectionId)).LastFiredAt == before)
        {
            Assert.True(DateTime.UtcNow < deadline, "the schedule's job did not run within 30 seconds");
            await Task.Delay(100);
        }
    }

    private async Task<SyncSchedule> LastFireAsync(long connectionId)
    {
        await using var db = _app.CreateDbContext();
        return await db.SyncSchedules.AsNoTracking().SingleAsync(s => s.ConnectionId == connectionId);
    }

    private async Task WaitForRunToEndAsync(long runId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            await using var db = _app.CreateDbContext();
            if (!(await db.SyncRuns.SingleAsync(r => r.Id == runId)).IsActive)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"run {runId} did not end within 60 seconds");
            await Task.Delay(200);
        }
    }
}
