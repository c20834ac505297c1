using System.Net;
using System.Net.Http.Json;
using System.Security.Claims;
using AngleSharp.Html.Parser;
using HarborPortal.Features.Auth;
using HarborPortal.Features.Connections;
using HarborPortal.Features.Scanning;
using HarborPortal.Features.Schedules;
using HarborPortal.Features.Webhooks;
using HarborPortal.HarborSimulator;
using HarborPortal.Tests.Features.Connections;
using HarborPortal.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing.Handlers;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;
using Sim = HarborPortal.HarborSimulator.HarborSimulator;

namespace HarborPortal.Tests.Features.ScaleOut;

/// <summary>
/// What a user or Harbor sees when the portal runs as two instances on one PostgreSQL database: one session whichever
/// instance answers, one run per request however the requests are spread, one fire per schedule.
/// </summary>
public sealed class TwoInstanceTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string VulnerabilityReads = "additions/vulnerabilities";

    private TwoInstances _portal = null!;
    private Sim _simulator = null!;

    public async Task InitializeAsync()
    {
        _simulator = await Sim.StartAsync();
        _portal = await TwoInstances.StartAsync(output);
    }

    public async Task DisposeAsync()
    {
        await _portal.DisposeAsync();
        await _simulator.DisposeAsync();
    }

    [Fact]
    public async Task A_Session_Started_On_A_Is_Valid_On_B_Forms_Cross_Over_And_Signing_Out_On_A_Ends_It_On_B()
    {
        // One browser: the same cookies whichever instance the load balancer picks.
        var cookies = new System.Net.CookieContainer();
        using var onA = _portal.A.CreateDefaultClient(new CookieContainerHandler(cookies));
        using var onB = _portal.B.CreateDefaultClient(new CookieContainerHandler(cookies));
        await _portal.A.SignInAsAsync(onA, "alice", PortalRoles.Admin);

        using (var page = await onB.GetAsync("/admin/connections"))
        {
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        }

        // A connection saved through A: its secret, protected with the shared keys, reads back through B.
        var id = await ConnectionPages.CreateAsync(onA, "harbor-a", "S3cret-From-A-1");
        await using (var db = _portal.B.CreateDbContext())
        {
            var saved = await db.HarborConnections.SingleAsync(c => c.Id == id);
            Assert.Equal("S3cret-From-A-1", _portal.B.Services.GetRequiredService<ConnectionSecrets>().Unprotect(saved));
        }

        // The form (and its antiforgery token and cookie) came from A; the post lands on B.
        var form = new HtmlParser().ParseDocument(await onA.GetStringAsync("/admin/connections/new")).QuerySelector("form[data-testid=connection-form]")!;
        using var content = new MultipartFormDataContent();
        foreach (var hidden in form.QuerySelectorAll("input[type=hidden]"))
        {
            content.Add(new StringContent(hidden.GetAttribute("value") ?? ""), hidden.GetAttribute("name")!);
        }

        foreach (var (name, value) in ConnectionPages.NewConnection("harbor-b", "S3cret-From-B-1"))
        {
            content.Add(new StringContent(value), name);
        }

        using (var created = await onB.PostAsync("/admin/connections/new", content))
        {
            Assert.Equal(HttpStatusCode.Redirect, created.StatusCode);
            Assert.Matches(@"^/admin/connections/\d+\?saved=created", created.Headers.Location!.PathAndQuery);
        }

        // Signing out on A ends the session for B too: the session row is shared, not a copy per instance.
        var token = await PortalApplication.GetAntiforgeryTokenAsync(onA, "/admin/connections");
        using (var signOut = await onA.PostAsync(PortalAuthentication.LogoutPath, new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = token })))
        {
            Assert.Equal(HttpStatusCode.Redirect, signOut.StatusCode);
        }

        using var afterSignOut = await onB.GetAsync("/admin/connections");
        Assert.Equal(HttpStatusCode.Redirect, afterSignOut.StatusCode);
        Assert.StartsWith(PortalAuthentication.LoginPath, afterSignOut.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_Scheduled_Sync_Fires_On_One_Instance_Only()
    {
        var id = await _portal.AddSimulatorConnectionAsync(_simulator);
        // Once, a few seconds from now: both instances hold the trigger (it is a row in the shared Quartz store).
        var at = DateTimeOffset.UtcNow.AddSeconds(8);
        await using (var scope = _portal.A.Services.CreateAsyncScope())
        {
            var alice = new ClaimsPrincipal(new ClaimsIdentity([new Claim(PortalClaimTypes.Name, "alice")], "test", PortalClaimTypes.Name, PortalClaimTypes.Role));
            var saved = await scope.ServiceProvider.GetRequiredService<ConnectionSchedules>().SaveAsync(
                id, new ScheduleForm { Kind = ScheduleKind.Cron, Cron = $"{at.Second} {at.Minute} {at.Hour} * * ?" }, alice, CancellationToken.None);
            Assert.NotNull(saved.Schedule);
        }

        var runId = await WaitForAsync(async () =>
        {
            await using var db = _portal.A.CreateDbContext();
            return await db.SyncRuns.Where(r => r.ConnectionId == id).Select(r => (long?)r.Id).FirstOrDefaultAsync();
        }, TimeSpan.FromSeconds(60));
        await _portal.WaitForRunToEndAsync(runId, output);
        // Past the fire time by more than a check-in and the poll interval: a second fire would have started by now.
        await Task.Delay(TimeSpan.FromSeconds(3));

        await using var check = _portal.B.CreateDbContext();
        var run = Assert.Single(await check.SyncRuns.Where(r => r.ConnectionId == id).ToListAsync());
        Assert.Equal(SyncTrigger.Schedule, run.Trigger);
        Assert.Equal(SyncRunStatus.Succeeded, run.Status);
        Assert.Equal(1, _portal.ExecutionsOf(run.Id));
        // Harbor saw exactly one run's reads (a second execution would have read every report again).
        Assert.Equal(run.ReportsFetched, _simulator.Requests.Count(r => r.RawTarget.Contains(VulnerabilityReads, StringComparison.Ordinal)));
        Assert.Equal(run.Id, (await check.SyncSchedules.SingleAsync(s => s.ConnectionId == id)).LastFireRunId);
    }

    [Fact]
    public async Task A_Webhook_Delivered_To_A_Is_Processed_Once()
    {
        var id = await _portal.AddSimulatorConnectionAsync(_simulator);
        var secret = await GenerateWebhookSecretAsync(id);
        var artifact = _simulator.AddArtifact("team-a/payments-api", "1.9.0", vulnerabilitySet: "payments");
        _simulator.ResetStatistics();

        using (var accepted = await DeliverAsync(_portal.A, id, secret, _simulator.BuildWebhook(HarborWebhookEvents.PushArtifact, artifact.Digest)))
        {
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        }

        var run = await SingleRunAsync(id);
        await _portal.WaitForRunToEndAsync(run.Id, output);
        // Longer than a cluster check-in: a second instance firing the same trigger would have read Harbor by now.
        await Task.Delay(TimeSpan.FromSeconds(3));

        run = await SingleRunAsync(id);
        Assert.Equal(SyncRunStatus.Succeeded, run.Status);
        Assert.Equal(1, _portal.ExecutionsOf(run.Id));
        // The pushed artifact's report was read once, by one instance.
        Assert.Equal(1, ReadsOf(artifact.Digest));
        Assert.Equal(1, run.ReportsFetched);
    }

    [Fact]
    public async Task The_Same_Delivery_Sent_To_A_And_B_At_The_Same_Moment_Is_Coalesced_Into_One_Run()
    {
        var id = await _portal.AddSimulatorConnectionAsync(_simulator);
        var secret = await GenerateWebhookSecretAsync(id);
        var artifact = _simulator.AddArtifact("team-a/payments-api", "1.9.0", vulnerabilitySet: "payments");
        // Both schedulers stand by, so the run cannot start between the deliveries: the race is only between the instances.
        await _portal.PauseJobsAsync();
        _simulator.ResetStatistics();

        var push = _simulator.BuildWebhook(HarborWebhookEvents.PushArtifact, artifact.Digest);
        var deliveries = Enumerable.Range(0, 6).Select(i => DeliverAsync(i % 2 == 0 ? _portal.A : _portal.B, id, secret, push)).ToList();
        var responses = await Task.WhenAll(deliveries);
        try
        {
            Assert.All(responses, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
            var runIds = await Task.WhenAll(responses.Select(async r => (await r.Content.ReadFromJsonAsync<WebhookAccepted>())!.RunId));
            Assert.Single(runIds.Distinct());
        }
        finally
        {
            foreach (var response in responses)
            {
                response.Dispose();
            }
        }

        var run = await SingleRunAsync(id);
        Assert.Equal(SyncTrigger.Webhook, run.Trigger);
        Assert.Equal([artifact.Digest], run.TargetList!.Select(t => t.Digest));

        await _portal.ResumeJobsAsync();
        await _portal.WaitForRunToEndAsync(run.Id, output);
        await Task.Delay(TimeSpan.FromSeconds(3));
        run = await SingleRunAsync(id);
        Assert.Equal(SyncRunStatus.Succeeded, run.Status);
        Assert.Equal(1, _portal.ExecutionsOf(run.Id));
        // The pushed artifact's report was read once, by one instance.
        Assert.Equal(1, ReadsOf(artifact.Digest));
        Assert.Equal(1, run.ReportsFetched);
    }

    [Fact]
    public async Task Sync_Now_Pressed_On_A_And_B_At_The_Same_Moment_Makes_One_Run()
    {
        var id = await _portal.AddSimulatorConnectionAsync(_simulator);
        await _portal.PauseJobsAsync();

        var requests = Enumerable.Range(0, 6).Select(async i =>
        {
            await using var scope = (i % 2 == 0 ? _portal.A : _portal.B).Services.CreateAsyncScope();
            return await scope.ServiceProvider.GetRequiredService<SyncRequests>().StartAsync(id, i % 2 == 0 ? "alice on A" : "bob on B", CancellationToken.None);
        }).ToList();
        var starts = await Task.WhenAll(requests);

        Assert.Single(starts.Select(s => s!.RunId).Distinct());
        Assert.Single(starts, s => !s!.AlreadyRunning);
        var run = await SingleRunAsync(id);

        await _portal.ResumeJobsAsync();
        await _portal.WaitForRunToEndAsync(run.Id, output);
        Assert.Equal(1, _portal.ExecutionsOf(run.Id));
        await using var db = _portal.B.CreateDbContext();
        Assert.Equal(1, await db.SyncRuns.CountAsync(r => r.ConnectionId == id));
    }

    private int ReadsOf(string digest) =>
        _simulator.Requests.Count(r => r.RawTarget.Contains(VulnerabilityReads, StringComparison.Ordinal) && r.RawTarget.Contains(digest["sha256:".Length..], StringComparison.Ordinal));

    private async Task<string> GenerateWebhookSecretAsync(long connectionId)
    {
        await using var scope = _portal.A.Services.CreateAsyncScope();
        var alice = new ClaimsPrincipal(new ClaimsIdentity([new Claim(PortalClaimTypes.Name, "alice")], "test", PortalClaimTypes.Name, PortalClaimTypes.Role));
        var generated = await scope.ServiceProvider.GetRequiredService<WebhookCommands>().GenerateSecretAsync(connectionId, alice, CancellationToken.None);
        return generated!.Secret;
    }

    private static async Task<HttpResponseMessage> DeliverAsync(PortalApplication instance, long connectionId, string secret, System.Text.Json.Nodes.JsonNode payload)
    {
        using var client = instance.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, WebhookEndpoints.PathFor(connectionId))
        {
            Content = new StringContent(payload.ToJsonString(), System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("Authorization", secret);
        var response = await client.SendAsync(request);
        await response.Content.LoadIntoBufferAsync();
        return response;
    }

    private async Task<SyncRun> SingleRunAsync(long connectionId)
    {
        await using var db = _portal.A.CreateDbContext();
        return Assert.Single(await db.SyncRuns.AsNoTracking().Where(r => r.ConnectionId == connectionId).ToListAsync());
    }

    private static async Task<T> WaitForAsync<T>(Func<Task<T?>> probe, TimeSpan timeout)
        where T : struct
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (await probe() is { } value)
            {
                return value;
            }

            Assert.True(DateTime.UtcNow < deadline, $"nothing happened within {timeout.TotalSeconds} seconds");
            await Task.Delay(200);
        }
    }
}
