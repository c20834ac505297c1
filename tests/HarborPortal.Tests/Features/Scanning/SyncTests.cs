using HarborPortal.HarborSimulator;
using HarborPortal.Features.Connections;
using HarborPortal.Features.Findings;
using HarborPortal.Features.Scanning;
using HarborPortal.Harbor;
using HarborPortal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Xunit.Abstractions;
using Sim = HarborPortal.HarborSimulator.HarborSimulator;

namespace HarborPortal.Tests.Features.Scanning;

// The sync engine against the simulator's default scenario, through the app's own services (SyncRunner called directly).
public sealed class SyncTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string PortalSecret = DefaultScenario.PortalRobotSecret;
    private const string PaymentsDigest = "sha256:02551b79862b7096e1a0daec3d24dd514b70d4e29fa853debb27b905551f44df";

    private Sim _simulator = null!;
    private PortalApplication _app = null!;
    private long _connectionId;

    public async Task InitializeAsync()
    {
        _simulator = await Sim.StartAsync();
        _app = new PortalApplication(new Dictionary<string, string?> { ["Connections:VerifyOnSave"] = "false" }, output);
        await using var scope = _app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<HarborPortal.Data.PortalDbContext>();
        var connection = new HarborConnection
        {
            Name = "sim",
            BaseUrl = _simulator.BaseAddress.ToString().TrimEnd('/'),
            UserName = "robot$harbor-portal",
            ProtectedSecret = scope.ServiceProvider.GetRequiredService<ConnectionSecrets>().Protect(PortalSecret),
            AllowInsecureHttp = true,
            CaCertificatePem = _simulator.CaCertificatePem,
            Enabled = true,
        };
        db.HarborConnections.Add(connection);
        await db.SaveChangesAsync();
        _connectionId = connection.Id;
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _simulator.DisposeAsync();
    }

    [Fact]
    public async Task A_First_Sync_Creates_Exactly_The_Findings_Each_Report_Contains()
    {
        var run = await SyncAsync();

        Assert.Equal(SyncRunStatus.Succeeded, run.Status);
        Assert.Empty(run.ErrorList);
        Assert.True(run.ReportsFetched > 0);
        await using var db = _app.CreateDbContext();
        var findings = await db.Findings.ToListAsync();
        Assert.Equal(run.FindingsNew, findings.Count);
        Assert.All(findings, f =>
        {
            Assert.Equal(FindingStatus.Open, f.Status);
            Assert.Equal("Harbor", f.SourceTool);
            Assert.False(string.IsNullOrEmpty(f.ScannerName));
            Assert.Matches("^[0-9a-f]{64}$", f.Identity);
        });
        Assert.Equal(findings.Count, findings.Select(f => f.Identity).Distinct().Count());

        // Per artifact, the count per severity equals Harbor's own summary in the scan overview.
        var artifacts = await ScannedOverviewsAsync();
        Assert.NotEmpty(artifacts);
        foreach (var (repository, digest, summary) in artifacts)
        {
            var mine = findings.Where(f => f.RepositoryName == repository && f.Digest == digest)
                .GroupBy(f => f.Severity.ToString()).ToDictionary(g => g.Key, g => g.Count());
            Assert.Equal(summary.OrderBy(p => p.Key).ToList(), mine.OrderBy(p => p.Key).ToList());
        }

        // The image index: each vulnerability once, the children kept as evidence.
        var index = findings.Where(f => f.Digest.StartsWith("sha256:9e8d7c6b", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(index);
        Assert.All(index, f => Assert.Contains("sha256:2222", f.ArtifactDigests, StringComparison.Ordinal));

        // Unscanned and failed scans are counted, not read.
        Assert.True(run.ArtifactsNotScanned >= 2);
        await using var check = _app.CreateDbContext();
        Assert.NotNull((await check.HarborConnections.SingleAsync(c => c.Id == _connectionId)).LastSyncAt);
    }

    [Fact]
    public async Task A_Second_Sync_With_Nothing_Changed_Fetches_No_Report_And_Writes_No_Finding()
    {
        await SyncAsync();
        var before = await SnapshotAsync();
        _simulator.ResetStatistics();

        var run = await SyncAsync();

        Assert.Equal(SyncRunStatus.Succeeded, run.Status);
        Assert.DoesNotContain(_simulator.Requests, r => r.RawTarget.Contains("additions/vulnerabilities", StringComparison.Ordinal));
        Assert.Equal(0, run.ReportsFetched);
        Assert.Equal(0, run.FindingsNew + run.FindingsUpdated + run.FindingsResolved + run.FindingsReopened);
        Assert.True(run.ArtifactsSkipped > 0);
        Assert.Equal(before, await SnapshotAsync());
    }

    [Fact]
    public async Task A_Vulnerability_Gone_From_A_Report_Is_Resolved_And_Reopened_When_It_Comes_Back()
    {
        await SyncAsync();
        System.Text.Json.Nodes.JsonObject removed = null!;
        _simulator.Mutate(state =>
        {
            removed = state.VulnerabilitySets["payments"][0];
            state.VulnerabilitySets["payments"].RemoveAt(0);
            Bump(state, PaymentsDigest);
        });

        var resolving = await SyncAsync();

        Assert.Equal(1, resolving.FindingsResolved);
        Assert.Equal(1, resolving.ReportsFetched);
        await using (var db = _app.CreateDbContext())
        {
            var resolved = await db.Findings.SingleAsync(f => f.Status == FindingStatus.Resolved);
            Assert.Equal(removed["id"]!.GetValue<string>(), resolved.VulnerabilityId);
            Assert.Equal(PaymentsDigest, resolved.Digest);
            Assert.Equal(Finding.NoLongerReported, resolved.ResolvedReason);
            Assert.NotNull(resolved.ResolvedAt);
        }

        _simulator.Mutate(state =>
        {
            state.VulnerabilitySets["payments"].Insert(0, removed);
            Bump(state, PaymentsDigest);
        });
        var reopening = await SyncAsync();

        Assert.Equal(1, reopening.FindingsReopened);
        Assert.Equal(0, reopening.FindingsNew);
        await using var check = _app.CreateDbContext();
        Assert.DoesNotContain(await check.Findings.ToListAsync(), f => f.Status == FindingStatus.Resolved);
        var back = await check.Findings.SingleAsync(f => f.VulnerabilityId == removed["id"]!.GetValue<string>() && f.Digest == PaymentsDigest);
        Assert.Equal(1, back.ReopenCount);
        Assert.True(back.FirstSeenAt <= back.LastSeenAt);
    }

    [Fact]
    public async Task Harbor_Failing_One_Report_Makes_A_Partial_Run_That_Syncs_The_Rest_And_The_Next_Run_Picks_It_Up()
    {
        _simulator.Faults.FailNext(3, 500, $"/api/v2.0/projects/team-a/repositories/payments-api/artifacts/{PaymentsDigest}");

        var partial = await SyncAsync();

        Assert.Equal(SyncRunStatus.Partial, partial.Status);
        Assert.Equal(1, partial.ErrorCount);
        Assert.Contains($"team-a/payments-api@{PaymentsDigest}", Assert.Single(partial.ErrorList), StringComparison.Ordinal);
        await using (var db = _app.CreateDbContext())
        {
            Assert.False(await db.Findings.AnyAsync(f => f.Digest == PaymentsDigest));
            Assert.True(await db.Findings.AnyAsync(f => f.RepositoryName == "library/nginx"));
        }

        var next = await SyncAsync();

        Assert.Equal(SyncRunStatus.Succeeded, next.Status);
        Assert.Equal(1, next.ReportsFetched);
        await using var check = _app.CreateDbContext();
        Assert.True(await check.Findings.AnyAsync(f => f.Digest == PaymentsDigest));
    }

    [Fact]
    public async Task A_Deleted_Artifact_Resolves_Its_Findings()
    {
        await SyncAsync();
        _simulator.Mutate(state => state.Artifacts.RemoveAll(a => a.Digest == PaymentsDigest));

        var run = await SyncAsync();

        Assert.Equal(1, run.ArtifactsRemoved);
        await using var db = _app.CreateDbContext();
        var payments = await db.Findings.Where(f => f.Digest == PaymentsDigest).ToListAsync();
        Assert.NotEmpty(payments);
        Assert.All(payments, f => Assert.Equal(Finding.ArtifactRemoved, f.ResolvedReason));
        Assert.Equal(payments.Count, run.FindingsResolved);
    }

    [Fact]
    public async Task The_Api_Starts_A_Run_Refuses_A_Second_While_It_Runs_And_Reports_Its_Counts()
    {
        using var client = _app.CreateClient();
        var token = await HarborPortal.Tests.Features.Auth.ApiTokenTests.CreateTokenAsync(_app, "automation", HarborPortal.Features.Auth.PortalRoles.Admin);
        _simulator.Faults.Latency(TimeSpan.FromSeconds(2), "/api/v2.0/projects");

        using var started = await HarborPortal.Tests.Features.Auth.ApiTokenTests.SendAsync(client, HttpMethod.Post, $"/api/v1/connections/{_connectionId}/sync", token);
        Assert.Equal(System.Net.HttpStatusCode.Accepted, started.StatusCode);
        var runId = System.Text.Json.JsonDocument.Parse(await started.Content.ReadAsStringAsync()).RootElement.GetProperty("runId").GetInt64();
        using var again = await HarborPortal.Tests.Features.Auth.ApiTokenTests.SendAsync(client, HttpMethod.Post, $"/api/v1/connections/{_connectionId}/sync", token);
        Assert.Equal(System.Net.HttpStatusCode.Conflict, again.StatusCode);
        var refused = System.Text.Json.JsonDocument.Parse(await again.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(runId, refused.GetProperty("runId").GetInt64());
        Assert.True(refused.GetProperty("alreadyRunning").GetBoolean());
        _simulator.Faults.Clear();

        System.Text.Json.JsonElement run = default;
        for (var i = 0; i < 120; i++)
        {
            using var response = await HarborPortal.Tests.Features.Auth.ApiTokenTests.SendAsync(client, HttpMethod.Get, $"/api/v1/sync-runs/{runId}", token);
            Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
            run = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
            if (run.GetProperty("status").GetString() is "Succeeded" or "Partial" or "Failed")
            {
                break;
            }

            await Task.Delay(250);
        }

        Assert.Equal("Succeeded", run.GetProperty("status").GetString());
        Assert.True(run.GetProperty("counts").GetProperty("findingsNew").GetInt32() > 0);
        Assert.Empty(run.GetProperty("errors").EnumerateArray());
    }

    [Fact]
    public async Task Scan_Now_On_The_Connection_Page_Starts_A_Run()
    {
        using var admin = _app.CreateClientWithCookies();
        await _app.SignInAsAsync(admin, "alice", HarborPortal.Features.Auth.PortalRoles.Admin);

        using var posted = await HarborPortal.Tests.Features.Connections.ConnectionPages.PostFormAsync(admin, $"/admin/connections/{_connectionId}", "scan-now-form", new Dictionary<string, string>());

        Assert.Equal(System.Net.HttpStatusCode.Redirect, posted.StatusCode);
        var location = posted.Headers.Location!.PathAndQuery;
        Assert.Matches($@"^/admin/connections/{_connectionId}\?syncing=\d+(&syncRefused=true)?$", location);
        var page = await admin.GetStringAsync(location);
        Assert.Contains("data-testid=\"sync-started\"", page, StringComparison.Ordinal);
        await using var db = _app.CreateDbContext();
        Assert.True(await db.SyncRuns.AnyAsync(r => r.ConnectionId == _connectionId && r.RequestedBy == "alice"));
    }

    private static void Bump(HarborPortal.HarborSimulator.SimulatorState state, string digest)
    {
        var artifact = state.Artifacts.Single(a => a.Digest == digest);
        artifact.ScanEndTime = (artifact.ScanEndTime ?? artifact.PushTime).AddMinutes(5);
    }

    private async Task<SyncRun> SyncAsync()
    {
        await using var scope = _app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<HarborPortal.Data.PortalDbContext>();
        var run = new SyncRun { ConnectionId = _connectionId, Status = SyncRunStatus.Pending, RequestedAt = DateTimeOffset.UtcNow };
        db.SyncRuns.Add(run);
        await db.SaveChangesAsync();
        await scope.ServiceProvider.GetRequiredService<SyncRunner>().RunAsync(_connectionId, run.Id, CancellationToken.None);
        await using var read = _app.CreateDbContext();
        var done = await read.SyncRuns.SingleAsync(r => r.Id == run.Id);
        output.WriteLine($"run {done.Id}: {done.Status}, seen {done.ArtifactsSeen}, skipped {done.ArtifactsSkipped}, reports {done.ReportsFetched}, new {done.FindingsNew}, resolved {done.FindingsResolved}, reopened {done.FindingsReopened}, errors {done.Errors}");
        return done;
    }

    private async Task<string> SnapshotAsync()
    {
        await using var db = _app.CreateDbContext();
        var rows = await db.Findings.OrderBy(f => f.Id).ToListAsync();
        return string.Join('\n', rows.Select(f => $"{f.Id} {f.Identity} {f.Status} {f.LastSeenAt.UtcTicks} {f.ResolvedAt?.UtcTicks} {f.Severity} {f.FixedVersion}"));
    }

    // Harbor's own per-severity summary of every successfully scanned artifact, read through the portal's client.
    private async Task<List<(string Repository, string Digest, IReadOnlyDictionary<string, int> Summary)>> ScannedOverviewsAsync()
    {
        var client = _app.Services.GetRequiredService<HarborClient>();
        var settings = ConnectionSettings.For(
            new HarborConnection { Name = "sim", BaseUrl = _simulator.BaseAddress.ToString().TrimEnd('/'), UserName = "robot$harbor-portal", ProtectedSecret = "", AllowInsecureHttp = true, CaCertificatePem = _simulator.CaCertificatePem },
            PortalSecret, _app.Services.GetRequiredService<IOptions<ConnectionsOptions>>().Value.RequestTimeout);
        var result = new List<(string, string, IReadOnlyDictionary<string, int>)>();
        foreach (var project in (await client.ListProjectsAsync(settings)).Value!)
        {
            foreach (var repository in (await client.ListRepositoriesAsync(settings, project.Name)).Value!)
            {
                foreach (var artifact in (await client.ListArtifactsAsync(settings, project.Name, repository.NameInProject)).Value!)
                {
                    if (artifact.Overview is { ScanStatus: "Success" } overview)
                    {
                        result.Add((repository.Name, artifact.Digest, overview.Summary?.Summary ?? new Dictionary<string, int>()));
                    }
                }
            }
        }

        return result;
    }
}
