using System.Net;
using System.Text.Json;
using AngleSharp.Html.Dom;
using AngleSharp.Html.Parser;
using HarborPortal.Features.Auth;
using HarborPortal.Features.Scanning;
using HarborPortal.Tests.Features.Auth;
using HarborPortal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Xunit.Abstractions;
using static HarborPortal.Tests.Features.Connections.ConnectionPages;

namespace HarborPortal.Tests.Features.Scanning;

// The sync panel, run page, Jobs page and cancel API. Runs are seeded as rows (no job picks them up), so every UI state is
// shown exactly as the runner would leave it.
public sealed class SyncPanelTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly PortalApplication _app = new(new Dictionary<string, string?> { ["Connections:VerifyOnSave"] = "false" }, output);
    private HttpClient _admin = null!;
    private long _connectionId;

    public async Task InitializeAsync()
    {
        _admin = _app.CreateClientWithCookies();
        await _app.SignInAsAsync(_admin, "alice", PortalRoles.Admin);
        _connectionId = await CreateAsync(_admin, "harbor-prod", "S3cret-Value-1");
    }

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        await _app.DisposeAsync();
    }

    [Fact]
    public async Task The_Panel_Shows_The_Progress_Of_A_Running_Run_And_Polls_For_More()
    {
        var run = await SeedAsync(r =>
        {
            r.Status = SyncRunStatus.Running;
            r.ArtifactsTotal = 200;
            r.ArtifactsSeen = 50;
            r.Projects = 3;
            r.Repositories = 12;
            r.ReportsFetched = 7;
            r.FindingsNew = 40;
        });

        var progress = (await PageAsync()).QuerySelector("[data-testid=sync-panel] [data-testid=sync-progress]")!;

        Assert.Equal("running", progress.GetAttribute("data-status"));
        var bar = progress.QuerySelector("progress[data-testid=sync-progress-bar]")!;
        Assert.Equal("25", bar.GetAttribute("value"));
        Assert.Equal("100", bar.GetAttribute("max"));
        Assert.Contains("Reading artifacts: 50 of 200 (7 reports fetched)", progress.QuerySelector("[data-testid=sync-activity]")!.TextContent, StringComparison.Ordinal);
        var counts = Normalise(progress.QuerySelector("[data-testid=sync-counts]")!.TextContent);
        Assert.Contains("3 projects · 12 repositories · 50 of 200 artifacts", counts, StringComparison.Ordinal);
        Assert.Contains("findings 40 new", counts, StringComparison.Ordinal);
        Assert.Equal($"/admin/connections/{_connectionId}/syncs/{run}/progress", progress.GetAttribute("hx-get"));
        Assert.Equal("load delay:1s", progress.GetAttribute("hx-trigger"));
        Assert.Equal("outerHTML", progress.GetAttribute("hx-swap"));
        Assert.Equal($"/admin/connections/{_connectionId}/syncs/{run}/cancel", progress.QuerySelector("form[data-testid=cancel-sync-form]")!.GetAttribute("action"));
    }

    [Fact]
    public async Task A_Run_Waiting_To_Start_Or_Listing_Repositories_Has_An_Indeterminate_Bar()
    {
        await SeedAsync(r => r.Status = SyncRunStatus.Pending);
        var pending = (await PageAsync()).QuerySelector("[data-testid=sync-progress]")!;
        Assert.False(pending.QuerySelector("progress")!.HasAttribute("value"));
        Assert.Contains("Waiting to start", pending.TextContent, StringComparison.Ordinal);

        await using (var db = _app.CreateDbContext())
        {
            await db.SyncRuns.ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, SyncRunStatus.Running).SetProperty(r => r.Projects, 2).SetProperty(r => r.Repositories, 5));
        }

        var listing = (await PageAsync()).QuerySelector("[data-testid=sync-progress]")!;
        Assert.False(listing.QuerySelector("progress")!.HasAttribute("value"));
        Assert.Contains("Listing projects and repositories (2 projects, 5 repositories so far)", listing.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_Fragment_Stops_Polling_When_The_Run_Ends_And_Tells_Htmx_To_Reload_The_Page()
    {
        var run = await SeedAsync(r => r.Status = SyncRunStatus.Running);
        var url = $"/admin/connections/{_connectionId}/syncs/{run}/progress";

        using var polling = await HtmxGetAsync(url);
        Assert.Equal(HttpStatusCode.OK, polling.StatusCode);
        Assert.False(polling.Headers.Contains("HX-Refresh"));
        var live = Parse(await polling.Content.ReadAsStringAsync()).QuerySelector("[data-testid=sync-progress]")!;
        Assert.Equal(url, live.GetAttribute("hx-get"));
        // The swapped-in Cancel form still carries its antiforgery token.
        Assert.False(string.IsNullOrEmpty(live.QuerySelector("[data-testid=cancel-sync-form] input[name=__RequestVerificationToken]")?.GetAttribute("value")));

        await FinishAsync(run, SyncRunStatus.Succeeded);
        using var ended = await HtmxGetAsync(url);

        Assert.Equal("true", ended.Headers.GetValues("HX-Refresh").Single());
        var fragment = Parse(await ended.Content.ReadAsStringAsync()).QuerySelector("[data-testid=sync-progress]")!;
        Assert.Null(fragment.GetAttribute("hx-get"));
        Assert.Equal("succeeded", fragment.GetAttribute("data-status"));
        Assert.Equal("100", fragment.QuerySelector("progress")!.GetAttribute("value"));
        Assert.Null(fragment.QuerySelector("form[data-testid=cancel-sync-form]"));

        using var unknown = await HtmxGetAsync($"/admin/connections/{_connectionId}/syncs/4242/progress");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task Cancel_Records_The_Request_Is_Audited_And_Shows_Cancelling_Until_The_Run_Ends()
    {
        var run = await SeedAsync(r => r.Status = SyncRunStatus.Running);

        using var response = await PostCancelFormAsync($"/admin/connections/{_connectionId}");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal($"/admin/connections/{_connectionId}", response.Headers.Location!.OriginalString.Split('#')[0]);
        await using (var db = _app.CreateDbContext())
        {
            var cancelled = await db.SyncRuns.SingleAsync(r => r.Id == run);
            Assert.NotNull(cancelled.CancelRequestedAt);
            Assert.Equal("alice", cancelled.CancelRequestedBy);
            Assert.Equal(SyncRunStatus.Running, cancelled.Status);
            var audit = await db.AuditEvents.SingleAsync(e => e.Action == "sync.cancel");
            Assert.Equal("alice", audit.Actor);
            Assert.Equal($"run {run}", audit.Details);
        }

        var progress = (await PageAsync()).QuerySelector("[data-testid=sync-progress]")!;
        Assert.Equal("Cancelling…", progress.QuerySelector("[data-testid=sync-cancelling]")!.TextContent.Trim());
        Assert.Contains("Cancelling…", progress.QuerySelector("[data-testid=sync-activity]")!.TextContent, StringComparison.Ordinal);
        Assert.Null(progress.QuerySelector("[data-testid=cancel-sync-form]"));
        Assert.NotNull(progress.GetAttribute("hx-get"));

        // The runner ends it: the panel shows no run under way and the history says Cancelled.
        await FinishAsync(run, SyncRunStatus.Cancelled);
        var page = await PageAsync();
        Assert.NotNull(page.QuerySelector("[data-testid=sync-idle]"));
        Assert.Equal("cancelled", page.QuerySelector($"[data-testid=sync-run][data-run-id='{run}']")!.GetAttribute("data-status"));
    }

    [Fact]
    public async Task Cancelling_A_Run_That_Has_Just_Ended_Changes_Nothing()
    {
        var run = await SeedAsync(r => r.Status = SyncRunStatus.Running);
        var page = await PageAsync();
        await FinishAsync(run, SyncRunStatus.Succeeded);

        using var response = await PostFormAsync(page, "cancel-sync-form");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        await using var db = _app.CreateDbContext();
        Assert.Null((await db.SyncRuns.SingleAsync(r => r.Id == run)).CancelRequestedAt);
        Assert.False(await db.AuditEvents.AnyAsync(e => e.Action == "sync.cancel"));
    }

    [Fact]
    public async Task The_History_Lists_The_Last_Twenty_Runs_With_Counts_And_Expandable_Errors()
    {
        for (var i = 0; i < 21; i++)
        {
            await SeedAsync(r => Finish(r, SyncRunStatus.Succeeded));
        }

        var partial = await SeedAsync(r =>
        {
            Finish(r, SyncRunStatus.Partial);
            r.Trigger = SyncTrigger.Schedule;
            r.RequestedBy = "schedule";
            r.ArtifactsSeen = 120;
            r.ArtifactsChanged = 8;
            r.ArtifactsSkipped = 110;
            r.ReportsFetched = 8;
            r.FindingsNew = 31;
            r.FindingsUpdated = 2;
            r.FindingsResolved = 4;
            r.FindingsReopened = 1;
            r.AddError("team-a/payments-api@sha256:0255: Harbor answered 500");
            r.AddError("team-b/web@sha256:9e8d: timed out");
        });

        var history = (await PageAsync()).QuerySelector("[data-testid=sync-history]")!;
        var rows = history.QuerySelectorAll("[data-testid=sync-run]");

        Assert.Equal(20, rows.Length);
        var newest = rows[0];
        Assert.Equal(partial.ToString(System.Globalization.CultureInfo.InvariantCulture), newest.GetAttribute("data-run-id"));
        Assert.Equal("Schedule", newest.QuerySelector("[data-testid=sync-run-trigger]")!.TextContent.Trim());
        Assert.Contains("schedule", newest.TextContent, StringComparison.Ordinal);
        Assert.Contains("Partial", newest.TextContent, StringComparison.Ordinal);
        Assert.Contains("1 min 30 s", newest.TextContent, StringComparison.Ordinal);
        Assert.Equal("120 / 8 / 110", Normalise(newest.QuerySelector("[data-testid=sync-run-artifacts]")!.TextContent));
        Assert.Equal("8", newest.QuerySelector("[data-testid=sync-run-reports]")!.TextContent.Trim());
        Assert.Equal("31 / 2 / 4 / 1", Normalise(newest.QuerySelector("[data-testid=sync-run-findings]")!.TextContent));
        var errors = newest.QuerySelector("[data-testid=sync-run-errors] details")!;
        Assert.Equal("2 errors", errors.QuerySelector("summary")!.TextContent.Trim());
        Assert.Equal(["team-a/payments-api@sha256:0255: Harbor answered 500", "team-b/web@sha256:9e8d: timed out"],
            errors.QuerySelectorAll("[data-testid=sync-run-error]").Select(e => e.TextContent.Trim()));
        Assert.Equal($"/admin/connections/{_connectionId}/syncs/{partial}", newest.QuerySelector("a")!.GetAttribute("href"));
    }

    [Fact]
    public async Task The_Run_Page_Shows_Every_Count_And_The_Error_List()
    {
        var run = await SeedAsync(r =>
        {
            Finish(r, SyncRunStatus.Partial);
            r.ArtifactsTotal = 10;
            r.ArtifactsSeen = 10;
            r.ArtifactsScanRequested = 2;
            r.ArtifactsScanFailed = 1;
            r.ArtifactsNotScanned = 3;
            r.FindingsReopened = 6;
            r.AddError("library/nginx@sha256:aaaa: Harbor answered 500");
        });

        var page = await GetPageAsync(_admin, $"/admin/connections/{_connectionId}/syncs/{run}");

        Assert.Equal("Partial", page.QuerySelector("[data-testid=sync-run-status]")!.TextContent.Trim());
        var counts = page.QuerySelector("[data-testid=sync-run-counts]")!;
        Assert.Equal("10", counts.QuerySelector("[data-count='Artifacts in scope']")!.TextContent);
        Assert.Equal("2", counts.QuerySelector("[data-count='Scans requested']")!.TextContent);
        Assert.Equal("1", counts.QuerySelector("[data-count='Scans failed']")!.TextContent);
        Assert.Equal("3", counts.QuerySelector("[data-count='Artifacts not scanned']")!.TextContent);
        Assert.Equal("6", counts.QuerySelector("[data-count='Findings reopened']")!.TextContent);
        Assert.Equal(16, counts.QuerySelectorAll("tr").Length);
        Assert.Equal("library/nginx@sha256:aaaa: Harbor answered 500", page.QuerySelector("[data-testid=sync-run-error-list] [data-testid=sync-run-error]")!.TextContent.Trim());

        using var unknown = await _admin.GetAsync($"/admin/connections/{_connectionId}/syncs/4242");
        using var otherConnection = await _admin.GetAsync($"/admin/connections/{_connectionId + 1}/syncs/{run}");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, otherConnection.StatusCode);
    }

    [Fact]
    public async Task The_Jobs_Page_Shows_Running_Syncs_With_Their_Progress_And_Cancel()
    {
        var run = await SeedAsync(r =>
        {
            r.Status = SyncRunStatus.Running;
            r.ArtifactsTotal = 4;
            r.ArtifactsSeen = 3;
        });
        await SeedAsync(r => Finish(r, SyncRunStatus.Succeeded));

        var jobs = await GetPageAsync(_admin, "/admin/jobs");

        var running = jobs.QuerySelectorAll("[data-testid=running-syncs] [data-testid=sync-progress]");
        var progress = Assert.Single(running);
        Assert.Equal(run.ToString(System.Globalization.CultureInfo.InvariantCulture), progress.GetAttribute("data-run-id"));
        Assert.Equal("75", progress.QuerySelector("progress")!.GetAttribute("value"));
        Assert.Contains("harbor-prod", progress.TextContent, StringComparison.Ordinal);
        Assert.Equal($"/admin/connections/{_connectionId}/syncs/{run}/progress?jobs=true", progress.GetAttribute("hx-get"));

        using var cancelled = await PostFormAsync(jobs, "cancel-sync-form");

        Assert.Equal("/admin/jobs", cancelled.Headers.Location!.OriginalString);
        var after = await GetPageAsync(_admin, "/admin/jobs");
        Assert.NotNull(after.QuerySelector("[data-testid=running-syncs] [data-testid=sync-cancelling]"));
    }

    [Fact]
    public async Task A_Posted_Return_Address_Outside_The_Portal_Is_Not_Followed()
    {
        var run = await SeedAsync(r => r.Status = SyncRunStatus.Running);
        var token = await PortalApplication.GetAntiforgeryTokenAsync(_admin, $"/admin/connections/{_connectionId}");

        using var response = await _admin.PostAsync($"/admin/connections/{_connectionId}/syncs/{run}/cancel", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token,
            ["returnUrl"] = "//evil.example/phish",
        }));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal($"/admin/connections/{_connectionId}#sync", response.Headers.Location!.OriginalString);
    }

    [Theory]
    [InlineData(PortalRoles.Security)]
    [InlineData(PortalRoles.Developer)]
    [InlineData(PortalRoles.Viewer)]
    public async Task The_Fragment_Run_Page_And_Cancel_Are_For_Admins_Only(string role)
    {
        var run = await SeedAsync(r => r.Status = SyncRunStatus.Running);
        var token = await PortalApplication.GetAntiforgeryTokenAsync(_admin, $"/admin/connections/{_connectionId}");
        using var other = _app.CreateClientWithCookies();
        await _app.SignInAsAsync(other, "bob", role);
        using var anonymous = _app.CreateClientWithCookies();

        foreach (var path in new[] { $"/admin/connections/{_connectionId}/syncs/{run}/progress", $"/admin/connections/{_connectionId}/syncs/{run}" })
        {
            using var get = await other.GetAsync(path);
            using var anonymousGet = await anonymous.GetAsync(path);
            Assert.Equal(HttpStatusCode.Forbidden, get.StatusCode);
            Assert.Equal(HttpStatusCode.Redirect, anonymousGet.StatusCode);
            Assert.StartsWith("/account/login", anonymousGet.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
        }

        using var cancel = await other.PostAsync($"/admin/connections/{_connectionId}/syncs/{run}/cancel", new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = token }));
        var apiToken = await ApiTokenTests.CreateTokenAsync(_app, "bot", role);
        using var api = await ApiTokenTests.SendAsync(_app.CreateClient(), HttpMethod.Post, $"/api/v1/sync-runs/{run}/cancel", apiToken);

        Assert.Equal(HttpStatusCode.Forbidden, cancel.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, api.StatusCode);
        await using var db = _app.CreateDbContext();
        Assert.Null((await db.SyncRuns.SingleAsync(r => r.Id == run)).CancelRequestedAt);
    }

    [Fact]
    public async Task The_Api_Cancels_With_202_And_Answers_404_Unknown_409_Finished_And_403_To_A_Cookie()
    {
        var running = await SeedAsync(r =>
        {
            r.Status = SyncRunStatus.Running;
            r.Trigger = SyncTrigger.Webhook;
            r.ArtifactsTotal = 8;
            r.ArtifactsSeen = 2;
            r.ArtifactsScanRequested = 1;
        });
        var finished = await SeedAsync(r => Finish(r, SyncRunStatus.Succeeded));
        var token = await ApiTokenTests.CreateTokenAsync(_app, "automation", PortalRoles.Admin);
        using var client = _app.CreateClient();

        using var cookie = await _admin.PostAsync($"/api/v1/sync-runs/{running}/cancel", null);
        using var accepted = await ApiTokenTests.SendAsync(client, HttpMethod.Post, $"/api/v1/sync-runs/{running}/cancel", token);
        using var unknown = await ApiTokenTests.SendAsync(client, HttpMethod.Post, "/api/v1/sync-runs/4242/cancel", token);
        using var conflict = await ApiTokenTests.SendAsync(client, HttpMethod.Post, $"/api/v1/sync-runs/{finished}/cancel", token);
        using var read = await ApiTokenTests.SendAsync(client, HttpMethod.Get, $"/api/v1/sync-runs/{running}", token);

        Assert.Equal(HttpStatusCode.Forbidden, cookie.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        Assert.Equal($"/api/v1/sync-runs/{running}", accepted.Headers.Location!.OriginalString);
        Assert.True(JsonDocument.Parse(await accepted.Content.ReadAsStringAsync()).RootElement.GetProperty("cancelRequested").GetBoolean());
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
        Assert.Equal("Succeeded", JsonDocument.Parse(await conflict.Content.ReadAsStringAsync()).RootElement.GetProperty("status").GetString());

        var run = JsonDocument.Parse(await read.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("Webhook", run.GetProperty("trigger").GetString());
        Assert.True(run.GetProperty("cancelRequested").GetBoolean());
        Assert.Equal("automation", run.GetProperty("cancelRequestedBy").GetString());
        Assert.Equal(8, run.GetProperty("progress").GetProperty("artifactsTotal").GetInt32());
        Assert.Equal(25, run.GetProperty("progress").GetProperty("percent").GetInt32());
        Assert.Equal("Cancelling…", run.GetProperty("progress").GetProperty("activity").GetString());
        Assert.Equal(1, run.GetProperty("counts").GetProperty("artifactsScanRequested").GetInt32());
        Assert.Equal(0, run.GetProperty("counts").GetProperty("artifactsScanFailed").GetInt32());
        await using var db = _app.CreateDbContext();
        Assert.Null((await db.SyncRuns.SingleAsync(r => r.Id == finished)).CancelRequestedAt);
    }

    private async Task<long> SeedAsync(Action<SyncRun> arrange)
    {
        await using var db = _app.CreateDbContext();
        var run = new SyncRun { ConnectionId = _connectionId, Status = SyncRunStatus.Pending, RequestedBy = "alice", RequestedAt = DateTimeOffset.UtcNow.AddMinutes(-5) };
        arrange(run);
        db.SyncRuns.Add(run);
        await db.SaveChangesAsync();
        return run.Id;
    }

    private static void Finish(SyncRun run, SyncRunStatus status)
    {
        run.Status = status;
        run.StartedAt = run.RequestedAt.AddSeconds(1);
        run.FinishedAt = run.StartedAt.Value.AddSeconds(90);
    }

    private async Task FinishAsync(long runId, SyncRunStatus status)
    {
        await using var db = _app.CreateDbContext();
        var run = await db.SyncRuns.SingleAsync(r => r.Id == runId);
        Finish(run, status);
        await db.SaveChangesAsync();
    }

    private Task<IHtmlDocument> PageAsync() => GetPageAsync(_admin, $"/admin/connections/{_connectionId}");

    private async Task<HttpResponseMessage> PostCancelFormAsync(string pagePath) => await PostFormAsync(await GetPageAsync(_admin, pagePath), "cancel-sync-form");

    // As a browser without JavaScript: the form's own action, its hidden fields.
    private async Task<HttpResponseMessage> PostFormAsync(IHtmlDocument page, string testId)
    {
        var form = page.QuerySelector($"form[data-testid={testId}]") ?? throw new InvalidOperationException($"The page has no form {testId}.");
        var fields = form.QuerySelectorAll("input[type=hidden]").ToDictionary(i => i.GetAttribute("name")!, i => i.GetAttribute("value") ?? "");
        return await _admin.PostAsync(form.GetAttribute("action"), new FormUrlEncodedContent(fields));
    }

    private async Task<HttpResponseMessage> HtmxGetAsync(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("HX-Request", "true");
        return await _admin.SendAsync(request);
    }

    private static IHtmlDocument Parse(string html) => new HtmlParser().ParseDocument(html);

    private static string Normalise(string text) => string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
}
