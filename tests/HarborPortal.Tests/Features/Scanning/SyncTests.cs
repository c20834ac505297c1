using System.Net;
using System.Text.Json;
using HarborPortal.Features.Auth;
using HarborPortal.Features.Findings;
using HarborPortal.Features.Scanning;
using HarborPortal.Tests.Features.Auth;
using HarborPortal.Tests.Features.Connections;
using HarborPortal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;
using static HarborPortal.Tests.Features.Scanning.SyncHarness;

namespace HarborPortal.Tests.Features.Scanning;

// The sync engine against the simulator's default scenario (every project, tagged artifacts), through the app's own services.
public sealed class SyncTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string FailedScanDigest = "sha256:be6634e0be03ac3063847483b184a38afac029a38464bab95ba318a5d6e225cf";
    private const string UntaggedDigest = "sha256:991e5b930fd9f8bfd9904b057b8860e4a9c3ba6d63c93f5fb3770bf0ab592f77";
    private SyncHarness _harness = null!;

    public async Task InitializeAsync() => _harness = await SyncHarness.StartAsync(output);

    public async Task DisposeAsync() => await _harness.DisposeAsync();

    [Fact]
    public async Task A_First_Sync_Creates_Exactly_The_Findings_Each_Report_Contains()
    {
        var run = await _harness.SyncAsync();

        Assert.Equal(SyncRunStatus.Succeeded, run.Status);
        Assert.Empty(run.ErrorList);
        var findings = await _harness.FindingsAsync();
        Assert.Equal(run.FindingsNew, findings.Count);
        Assert.All(findings, f =>
        {
            Assert.Equal(FindingStatus.Open, f.Status);
            Assert.Equal("Harbor", f.SourceTool);
            Assert.Equal("Trivy", f.ScannerName);
            Assert.Matches("^[0-9a-f]{64}$", f.Identity);
        });
        Assert.Equal(findings.Count, findings.Select(f => f.Identity).Distinct().Count());

        // Per artifact, the count per severity equals Harbor's own summary in the scan overview.
        AssertMatchesHarbor(findings, await _harness.HarborSummariesAsync());

        // The image index: each vulnerability once, the children kept as evidence.
        var index = findings.Where(f => f.Digest.StartsWith("sha256:9e8d7c6b", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(index);
        Assert.All(index, f => Assert.Contains("sha256:2222", f.ArtifactDigests, StringComparison.Ordinal));

        // The default selection is every tagged artifact: the untagged one is not even recorded.
        var scanned = await _harness.ScannedArtifactsAsync();
        Assert.DoesNotContain(scanned, a => a.Digest == UntaggedDigest);
        Assert.Equal(6, run.ArtifactsTotal);
        Assert.Equal(6, run.ArtifactsSeen);

        // A scan that ended in Error is counted and recorded, never read.
        Assert.Equal(1, run.ArtifactsScanFailed);
        Assert.Equal("Error", scanned.Single(a => a.Digest == FailedScanDigest).ScanStatus);
        Assert.Null(scanned.Single(a => a.Digest == FailedScanDigest).ScanCompletedAt);

        // Every finding's history starts with one "Opened" by this run.
        var events = await _harness.EventsAsync();
        Assert.Equal(findings.Select(f => f.Id).Order(), events.Select(e => e.FindingId).Order());
        Assert.All(events, e =>
        {
            Assert.Equal(FindingEventKind.Opened, e.Kind);
            Assert.Equal(run.Id, e.SyncRunId);
            Assert.Null(e.Actor);
        });

        await using var check = _harness.App.CreateDbContext();
        Assert.NotNull((await check.HarborConnections.SingleAsync(c => c.Id == _harness.ConnectionId)).LastSyncAt);
    }

    [Fact]
    public async Task A_Second_Sync_With_Nothing_Changed_Fetches_No_Report_And_Writes_No_Finding()
    {
        await _harness.SyncAsync();
        var before = await _harness.SnapshotAsync();
        _harness.Simulator.ResetStatistics();

        var run = await _harness.SyncAsync();

        Assert.Equal(SyncRunStatus.Succeeded, run.Status);
        Assert.DoesNotContain(_harness.Simulator.Requests, r => r.RawTarget.Contains("additions/vulnerabilities", StringComparison.Ordinal));
        Assert.Equal(0, run.ReportsFetched);
        Assert.Equal(0, run.FindingsNew + run.FindingsUpdated + run.FindingsResolved + run.FindingsReopened);
        Assert.Equal(5, run.ArtifactsSkipped);
        Assert.Equal(before, await _harness.SnapshotAsync());
    }

    [Fact]
    public async Task A_Vulnerability_Gone_From_A_Report_Is_Resolved_And_Reopened_With_Its_History()
    {
        var first = await _harness.SyncAsync();
        System.Text.Json.Nodes.JsonObject removed = null!;
        _harness.Rescan(PaymentsDigest, state =>
        {
            removed = state.VulnerabilitySets["payments"][0];
            state.VulnerabilitySets["payments"].RemoveAt(0);
        });

        var resolving = await _harness.SyncAsync();

        Assert.Equal(1, resolving.FindingsResolved);
        Assert.Equal(1, resolving.ReportsFetched);
        var resolved = Assert.Single(await _harness.FindingsAsync(), f => f.Status == FindingStatus.Resolved);
        Assert.Equal(removed["id"]!.GetValue<string>(), resolved.VulnerabilityId);
        Assert.Equal(PaymentsDigest, resolved.Digest);
        Assert.Equal(Finding.NoLongerReported, resolved.ResolvedReason);
        Assert.NotNull(resolved.ResolvedAt);

        _harness.Rescan(PaymentsDigest, state => state.VulnerabilitySets["payments"].Insert(0, removed));
        var reopening = await _harness.SyncAsync();

        Assert.Equal(1, reopening.FindingsReopened);
        Assert.Equal(0, reopening.FindingsNew + reopening.FindingsResolved);
        var findings = await _harness.FindingsAsync();
        Assert.DoesNotContain(findings, f => f.Status == FindingStatus.Resolved);
        var back = findings.Single(f => f.Id == resolved.Id);
        Assert.Equal(1, back.ReopenCount);
        Assert.Null(back.ResolvedReason);
        Assert.True(back.FirstSeenAt < back.LastSeenAt);

        // Its timeline: opened by the first run, resolved by the second, reopened by the third; nothing else happened to anything.
        var events = await _harness.EventsAsync();
        Assert.Equal(
            [(FindingEventKind.Opened, null, first.Id), (FindingEventKind.Resolved, Finding.NoLongerReported, resolving.Id), (FindingEventKind.Reopened, null, reopening.Id)],
            events.Where(e => e.FindingId == resolved.Id).Select(e => (e.Kind, e.Reason, e.SyncRunId)).ToList());
        Assert.Equal(findings.Count + 2, events.Count);
    }

    [Fact]
    public async Task New_Evidence_In_A_Newer_Report_Updates_The_Finding_Without_A_New_One()
    {
        await _harness.SyncAsync();
        _harness.Rescan(PaymentsDigest, state => state.VulnerabilitySets["payments"][0]["fix_version"] = "9.9.9");

        var run = await _harness.SyncAsync();

        Assert.Equal(1, run.FindingsUpdated);
        Assert.Equal(0, run.FindingsNew + run.FindingsResolved + run.FindingsReopened);
        var findings = await _harness.FindingsAsync();
        Assert.Single(findings, f => f.Digest == PaymentsDigest && f.FixedVersion == "9.9.9");
        Assert.All(findings.Where(f => f.Digest == PaymentsDigest), f => Assert.True(f.LastSeenAt > f.FirstSeenAt));
    }

    [Fact]
    public async Task A_New_Tag_Reaches_The_Findings_Without_Reading_The_Report_Again()
    {
        await _harness.SyncAsync();
        _harness.Simulator.Mutate(state => state.Artifacts.Single(a => a.Digest == PaymentsDigest).Tags.Add("stable"));
        _harness.Simulator.ResetStatistics();

        var run = await _harness.SyncAsync();

        Assert.Equal(0, run.ReportsFetched);
        Assert.All((await _harness.FindingsAsync()).Where(f => f.Digest == PaymentsDigest), f => Assert.Equal("1.8.2,stable", f.Tags));
        Assert.Equal("1.8.2,stable", (await _harness.ScannedArtifactsAsync()).Single(a => a.Digest == PaymentsDigest).Tags);
    }

    [Fact]
    public async Task Harbor_Failing_Some_Reports_Makes_A_Partial_Run_That_Names_Them_Syncs_The_Rest_And_The_Next_Run_Picks_Them_Up()
    {
        // Three answers per artifact: the first attempt and both retries.
        _harness.Simulator.Faults.FailNext(3, 500, $"/api/v2.0/projects/team-a/repositories/payments-api/artifacts/{PaymentsDigest}");
        _harness.Simulator.Faults.FailNext(3, 503, $"/api/v2.0/projects/library/repositories/nginx/artifacts/{NginxDigest}");

        var partial = await _harness.SyncAsync();

        Assert.Equal(SyncRunStatus.Partial, partial.Status);
        Assert.Equal(2, partial.ErrorCount);
        Assert.Contains(partial.ErrorList, e => e.StartsWith($"team-a/payments-api@{PaymentsDigest}: Harbor failed", StringComparison.Ordinal));
        Assert.Contains(partial.ErrorList, e => e.StartsWith($"library/nginx@{NginxDigest}: Harbor failed", StringComparison.Ordinal));
        var findings = await _harness.FindingsAsync();
        Assert.DoesNotContain(findings, f => f.Digest is PaymentsDigest or NginxDigest);
        Assert.Contains(findings, f => f.RepositoryName == "team/app/api");

        var next = await _harness.SyncAsync();

        Assert.Equal(SyncRunStatus.Succeeded, next.Status);
        Assert.Equal(2, next.ReportsFetched);
        AssertMatchesHarbor(await _harness.FindingsAsync(), await _harness.HarborSummariesAsync());
    }

    [Fact]
    public async Task A_Deleted_Artifact_Resolves_Its_Findings()
    {
        await _harness.SyncAsync();
        _harness.Simulator.Mutate(state => state.Artifacts.RemoveAll(a => a.Digest == PaymentsDigest));

        var run = await _harness.SyncAsync();

        Assert.Equal(1, run.ArtifactsRemoved);
        var payments = (await _harness.FindingsAsync()).Where(f => f.Digest == PaymentsDigest).ToList();
        Assert.NotEmpty(payments);
        Assert.All(payments, f => Assert.Equal(Finding.ArtifactRemoved, f.ResolvedReason));
        Assert.Equal(payments.Count, run.FindingsResolved);
        Assert.Equal(payments.Count, (await _harness.EventsAsync()).Count(e => e.Kind == FindingEventKind.Resolved && e.Reason == Finding.ArtifactRemoved && e.SyncRunId == run.Id));
        Assert.DoesNotContain(await _harness.ScannedArtifactsAsync(), a => a.Digest == PaymentsDigest);
    }

    [Fact]
    public async Task A_Repository_Harbor_Cannot_List_Resolves_Nothing_In_It()
    {
        await _harness.SyncAsync();
        _harness.Simulator.Faults.FailNext(3, 500, "/api/v2.0/projects/team-a/repositories/payments-api/artifacts");

        var run = await _harness.SyncAsync();

        Assert.Equal(SyncRunStatus.Partial, run.Status);
        Assert.Contains("Listing artifacts of team-a/payments-api", Assert.Single(run.ErrorList), StringComparison.Ordinal);
        Assert.Equal(0, run.FindingsResolved + run.ArtifactsRemoved);
        Assert.DoesNotContain(await _harness.FindingsAsync(), f => f.Status == FindingStatus.Resolved);
    }

    [Fact]
    public async Task The_Api_Starts_A_Run_Refuses_A_Second_While_It_Runs_And_Reports_Its_Counts()
    {
        using var client = _harness.App.CreateClient();
        var token = await ApiTokenTests.CreateTokenAsync(_harness.App, "automation", PortalRoles.Admin);
        _harness.Simulator.Faults.Latency(TimeSpan.FromSeconds(2), "/api/v2.0/projects");

        using var started = await ApiTokenTests.SendAsync(client, HttpMethod.Post, $"/api/v1/connections/{_harness.ConnectionId}/sync", token);
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var runId = JsonDocument.Parse(await started.Content.ReadAsStringAsync()).RootElement.GetProperty("runId").GetInt64();
        using var again = await ApiTokenTests.SendAsync(client, HttpMethod.Post, $"/api/v1/connections/{_harness.ConnectionId}/sync", token);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        var refused = JsonDocument.Parse(await again.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(runId, refused.GetProperty("runId").GetInt64());
        Assert.True(refused.GetProperty("alreadyRunning").GetBoolean());
        _harness.Simulator.Faults.Clear();

        await _harness.WaitForRunAsync(runId, r => !r.IsActive);
        using var response = await ApiTokenTests.SendAsync(client, HttpMethod.Get, $"/api/v1/sync-runs/{runId}", token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var run = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("Succeeded", run.GetProperty("status").GetString());
        Assert.True(run.GetProperty("counts").GetProperty("findingsNew").GetInt32() > 0);
        Assert.Equal(6, run.GetProperty("counts").GetProperty("artifactsTotal").GetInt32());
        Assert.Equal(6, run.GetProperty("counts").GetProperty("artifactsSeen").GetInt32());
        Assert.Equal(1, run.GetProperty("counts").GetProperty("artifactsScanFailed").GetInt32());
        Assert.Empty(run.GetProperty("errors").EnumerateArray());
    }

    [Fact]
    public async Task Scan_Now_On_The_Connection_Page_Starts_A_Run()
    {
        using var admin = _harness.App.CreateClientWithCookies();
        await _harness.App.SignInAsAsync(admin, "alice", PortalRoles.Admin);

        using var posted = await ConnectionPages.PostFormAsync(admin, $"/admin/connections/{_harness.ConnectionId}", "scan-now-form", new Dictionary<string, string>());

        Assert.Equal(HttpStatusCode.Redirect, posted.StatusCode);
        var location = posted.Headers.Location!.PathAndQuery;
        Assert.Matches($@"^/admin/connections/{_harness.ConnectionId}\?syncing=\d+(&syncRefused=true)?$", location);
        var page = await admin.GetStringAsync(location);
        Assert.Contains("data-testid=\"sync-started\"", page, StringComparison.Ordinal);
        await using var db = _harness.App.CreateDbContext();
        Assert.True(await db.SyncRuns.AnyAsync(r => r.ConnectionId == _harness.ConnectionId && r.RequestedBy == "alice"));
    }
    [Fact]
    public async Task Run_Now_On_The_Jobs_Page_Records_A_Run_For_The_Connections_Sync_Job()
    {
        // The job exists once a first sync was requested; Run now fires it without a run of its own.
        long firstRunId;
        using (var scope = _harness.App.Services.CreateScope())
        {
            firstRunId = (await scope.ServiceProvider.GetRequiredService<SyncRequests>().StartAsync(_harness.ConnectionId, "test", CancellationToken.None))!.RunId;
        }

        await _harness.WaitForRunAsync(firstRunId, r => !r.IsActive);
        using var admin = _harness.App.CreateClientWithCookies();
        await _harness.App.SignInAsAsync(admin, "alice", PortalRoles.Admin);
        var key = SyncJob.KeyFor(_harness.ConnectionId);

        var token = await PortalApplication.GetAntiforgeryTokenAsync(admin, "/admin/jobs");
        using var posted = await admin.PostAsync("/admin/jobs/run", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token,
            ["group"] = key.Group,
            ["name"] = key.Name,
        }));

        Assert.Equal(HttpStatusCode.Redirect, posted.StatusCode);
        // The job records its run on the scheduler's thread, after the redirect.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        long? recorded = null;
        while (recorded is null && DateTime.UtcNow < deadline)
        {
            await using var db = _harness.App.CreateDbContext();
            recorded = await db.SyncRuns.Where(r => r.Id > firstRunId).Select(r => (long?)r.Id).FirstOrDefaultAsync();
            await Task.Delay(100);
        }

        Assert.NotNull(recorded);
        var run = await _harness.WaitForRunAsync(recorded.Value, r => !r.IsActive);
        Assert.Equal(SyncRunStatus.Succeeded, run.Status);
        Assert.Equal("jobs page", run.RequestedBy);
    }
}
