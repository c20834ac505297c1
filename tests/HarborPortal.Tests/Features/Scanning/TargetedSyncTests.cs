using HarborPortal.Features.Findings;
using HarborPortal.Features.Locations;
using HarborPortal.Features.Scanning;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;
using static HarborPortal.Tests.Features.Scanning.SyncHarness;

namespace HarborPortal.Tests.Features.Scanning;

// A targeted run (what webhooks ask for) re-reads only the artifacts it names, from Harbor, and touches nothing else.
public sealed class TargetedSyncTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string MigratorDigest = "sha256:3c1f7e0b5a9d2e4f6a8b0c2d4e6f8a0b2c4d6e8f0a2b4c6d8e0f2a4b6c8d0e2f";
    private SyncHarness _harness = null!;

    public async Task InitializeAsync() => _harness = await SyncHarness.StartAsync(output);

    public async Task DisposeAsync() => await _harness.DisposeAsync();

    [Fact]
    public async Task A_Targeted_Run_Rereads_Only_Its_Targets_And_Resolves_A_Deleted_One()
    {
        await _harness.SyncAsync();
        string removed = null!;
        _harness.Rescan(PaymentsDigest, state =>
        {
            removed = state.VulnerabilitySets["payments"][0]["id"]!.GetValue<string>();
            state.VulnerabilitySets["payments"].RemoveAt(0);
        });
        // Deleted in Harbor, but not named by the run: a targeted run proves nothing about it.
        _harness.Simulator.Mutate(state => state.Artifacts.RemoveAll(a => a.Digest is NginxDigest or MigratorDigest));
        _harness.Simulator.ResetStatistics();

        var run = await _harness.SyncAsync([new ArtifactRef("team-a", "team-a/payments-api", PaymentsDigest), new ArtifactRef("library", "nginx", NginxDigest)]);

        Assert.Equal(SyncRunStatus.Succeeded, run.Status);
        Assert.Equal(
            [
                // Each target's project once, for its visibility (a priority factor).
                "GET /api/v2.0/projects/library",
                $"GET /api/v2.0/projects/library/repositories/nginx/artifacts/{NginxDigest}",
                "GET /api/v2.0/projects/team-a",
                $"GET /api/v2.0/projects/team-a/repositories/payments-api/artifacts/{PaymentsDigest}",
                $"GET /api/v2.0/projects/team-a/repositories/payments-api/artifacts/{PaymentsDigest}/additions/vulnerabilities",
            ],
            _harness.Simulator.Requests.Select(r => $"{r.Method} {Uri.UnescapeDataString(r.RawTarget.Split('?')[0])}").Order(StringComparer.Ordinal).ToList());
        Assert.Equal(2, run.ArtifactsTotal);
        Assert.Equal(2, run.ArtifactsSeen);
        Assert.Equal(1, run.ArtifactsRemoved);

        var findings = await _harness.FindingsAsync();
        Assert.All(findings.Where(f => f.Digest == NginxDigest), f => Assert.Equal(Finding.ArtifactRemoved, f.ResolvedReason));
        var gone = Assert.Single(findings, f => f.Digest == PaymentsDigest && f.Status == FindingStatus.Resolved);
        Assert.Equal(removed, gone.VulnerabilityId);
        Assert.Equal(Finding.NoLongerReported, gone.ResolvedReason);
        Assert.All(findings.Where(f => f.Digest is not (NginxDigest or PaymentsDigest)), f => Assert.Equal(FindingStatus.Open, f.Status));
        Assert.Contains(await _harness.ScannedArtifactsAsync(), a => a.Digest == MigratorDigest);
    }

    [Fact]
    public async Task A_Target_Outside_The_Scanned_Locations_Is_Ignored_Without_Asking_Harbor()
    {
        await _harness.SetLocationsAsync(ScanLocations.Everything with { Projects = [new ProjectLocation { Name = "library", Exclude = ["**"] }] });
        await _harness.SyncAsync();
        _harness.Simulator.ResetStatistics();

        var run = await _harness.SyncAsync([new ArtifactRef("library", "library/nginx", NginxDigest)]);

        Assert.Equal(SyncRunStatus.Succeeded, run.Status);
        Assert.Empty(_harness.Simulator.Requests);
        Assert.Equal(1, run.ArtifactsSkipped);
        Assert.DoesNotContain(await _harness.FindingsAsync(), f => f.Digest == NginxDigest);
    }

    [Fact]
    public async Task A_Pushed_Artifact_Named_In_A_Request_Gets_Its_Findings_Without_A_Full_Sync()
    {
        await _harness.SyncAsync();
        var pushed = _harness.Simulator.AddArtifact("team-a/payments-api", "1.9.0", "api");
        _harness.Simulator.ResetStatistics();

        await using var scope = _harness.App.Services.CreateAsyncScope();
        var start = await scope.ServiceProvider.GetRequiredService<SyncRequests>()
            .RequestArtifactsAsync(_harness.ConnectionId, [new ArtifactRef("team-a", "team-a/payments-api", pushed.Digest)], "webhook", CancellationToken.None);
        var run = await _harness.WaitForRunAsync(start!.RunId, r => !r.IsActive);

        Assert.Equal(SyncRunStatus.Succeeded, run.Status);
        Assert.Equal(SyncTrigger.Webhook, run.Trigger);
        Assert.Equal(4, run.FindingsNew);
        Assert.Equal(4, (await _harness.FindingsAsync()).Count(f => f.Digest == pushed.Digest && f.Tags == "1.9.0"));
        Assert.DoesNotContain(_harness.Simulator.Requests, r => r.RawTarget.Split('?')[0] is "/api/v2.0/projects" || r.RawTarget.Split('?')[0].EndsWith("/repositories", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Latest_N_Is_Judged_Against_The_Targets_Repository_Without_Listing_Projects()
    {
        await _harness.SetLocationsAsync(ScanLocations.Everything with { Artifacts = new ArtifactPolicy { Kind = ArtifactPolicyKind.LatestPerRepository, LatestCount = 1 } });
        await _harness.SyncAsync();
        var older = _harness.Simulator.AddArtifact("team-a/payments-api", "0.1.0", "api");
        _harness.Simulator.Mutate(_ => older.PushTime = new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero));
        _harness.Simulator.ResetStatistics();

        var run = await _harness.SyncAsync([new ArtifactRef("team-a", "payments-api", older.Digest)]);

        Assert.Equal(1, run.ArtifactsSkipped);
        Assert.DoesNotContain(await _harness.FindingsAsync(), f => f.Digest == older.Digest);
        Assert.DoesNotContain(_harness.Simulator.Requests, r => r.RawTarget.Split('?')[0] is "/api/v2.0/projects" || r.RawTarget.Contains("additions", StringComparison.Ordinal));
    }
}
