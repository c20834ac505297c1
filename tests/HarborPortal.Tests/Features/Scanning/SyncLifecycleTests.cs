using HarborPortal.Features.Findings;
using HarborPortal.Features.Scanning;
using HarborPortal.HarborSimulator;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;
using static HarborPortal.Tests.Features.Scanning.SyncHarness;

namespace HarborPortal.Tests.Features.Scanning;

// A run that is cancelled, or whose portal stops, ends cleanly; what it wrote stays consistent and the next run completes it.
public sealed class SyncLifecycleTests(ITestOutputHelper output) : IAsyncLifetime
{
    private SyncHarness _harness = null!;

    public async Task InitializeAsync()
    {
        _harness = await SyncHarness.StartAsync(output);
        // 120 more artifacts, each report slow to come: a run that takes long enough to be stopped in the middle.
        _harness.Simulator.Mutate(state => state.AddGenerated(new SimGenerate { Projects = 4, RepositoriesPerProject = 3, ArtifactsPerRepository = 10, VulnerabilitiesPerArtifact = 5 }));
        _harness.Simulator.Faults.Latency(TimeSpan.FromMilliseconds(400), "/api/v2.0/projects/gen-");
    }

    public async Task DisposeAsync() => await _harness.DisposeAsync();

    [Fact]
    public async Task Cancel_Stops_A_Running_Sync_Which_Ends_Cancelled_With_What_It_Wrote_Consistent()
    {
        var runId = await StartAsync();
        await _harness.WaitForRunAsync(runId, r => r.Status == SyncRunStatus.Running && r.FindingsNew > 0);

        await using (var scope = _harness.App.Services.CreateAsyncScope())
        {
            Assert.True(await scope.ServiceProvider.GetRequiredService<SyncRequests>().CancelAsync(runId, "alice", CancellationToken.None));
        }

        var cancelled = await _harness.WaitForRunAsync(runId, r => !r.IsActive);

        Assert.Equal(SyncRunStatus.Cancelled, cancelled.Status);
        Assert.Equal("alice", cancelled.CancelRequestedBy);
        Assert.NotNull(cancelled.FinishedAt);
        Assert.True(cancelled.ArtifactsSeen < cancelled.ArtifactsTotal || cancelled.ArtifactsTotal == 0, "The run was not stopped in the middle.");
        await AssertConsistentAsync(cancelled);

        _harness.Simulator.Faults.Clear();
        var next = await _harness.SyncAsync();

        Assert.Equal(SyncRunStatus.Succeeded, next.Status);
        await AssertCompleteAsync();
    }

    [Fact]
    public async Task Stopping_The_Portal_Mid_Run_And_Starting_It_Again_Completes_With_Correct_Findings_And_No_Duplicates()
    {
        var runId = await StartAsync();
        await _harness.WaitForRunAsync(runId, r => r.Status == SyncRunStatus.Running && r.FindingsNew > 0);

        await _harness.RestartPortalAsync();

        var interrupted = await _harness.RunAsync(runId);
        Assert.Equal(SyncRunStatus.Cancelled, interrupted.Status);
        Assert.True(interrupted.ArtifactsSeen < interrupted.ArtifactsTotal || interrupted.ArtifactsTotal == 0, "The run was not stopped in the middle.");
        await AssertConsistentAsync(interrupted);

        _harness.Simulator.Faults.Clear();
        var next = await _harness.WaitForRunAsync(await StartAsync(), r => !r.IsActive);

        Assert.Equal(SyncRunStatus.Succeeded, next.Status);
        Assert.True(next.ArtifactsSkipped > 0, "The artifacts written before the stop are not read again.");
        await AssertCompleteAsync();
    }

    [Fact]
    public async Task A_Run_Cancelled_Before_It_Started_Asks_Harbor_Nothing()
    {
        var runId = await _harness.CreateRunAsync();
        await using (var db = _harness.App.CreateDbContext())
        {
            (await db.SyncRuns.SingleAsync(r => r.Id == runId)).CancelRequestedAt = DateTimeOffset.UtcNow;
            await db.SaveChangesAsync();
        }

        await _harness.ExecuteAsync(runId);

        Assert.Equal(SyncRunStatus.Cancelled, (await _harness.RunAsync(runId)).Status);
        Assert.Empty(_harness.Simulator.Requests);
    }

    [Fact]
    public async Task The_Jobs_Token_Cancelled_Ends_The_Run_Cancelled()
    {
        using var shutdown = new CancellationTokenSource();
        var runId = await _harness.CreateRunAsync();
        var sync = _harness.ExecuteAsync(runId, shutdown.Token);
        await _harness.WaitForRunAsync(runId, r => r.FindingsNew > 0);

        await shutdown.CancelAsync();
        await sync;

        var run = await _harness.RunAsync(runId);
        Assert.Equal(SyncRunStatus.Cancelled, run.Status);
        await AssertConsistentAsync(run);
    }

    private async Task<long> StartAsync()
    {
        await using var scope = _harness.App.Services.CreateAsyncScope();
        var start = await scope.ServiceProvider.GetRequiredService<SyncRequests>().StartAsync(_harness.ConnectionId, "alice", CancellationToken.None);
        Assert.False(start!.AlreadyRunning);
        return start.RunId;
    }

    // Every artifact whose report time is stored has exactly Harbor's findings; the others have none; the counts say what is there.
    private async Task AssertConsistentAsync(SyncRun run)
    {
        var done = (await _harness.ScannedArtifactsAsync()).Where(a => a.ScanCompletedAt is not null).Select(a => (a.RepositoryName, a.Digest)).ToHashSet();
        var findings = await _harness.FindingsAsync();
        Assert.NotEmpty(done);
        Assert.All(findings, f => Assert.Contains((f.RepositoryName, f.Digest), done));
        AssertMatchesHarbor(findings, (await _harness.HarborSummariesAsync()).Where(s => done.Contains((s.Repository, s.Digest))));
        Assert.Equal(findings.Count, run.FindingsNew);
    }

    private async Task AssertCompleteAsync()
    {
        // A run that completes through the job also checks Harbor's posture: those findings are another tool's.
        var findings = (await _harness.FindingsAsync()).Where(f => f.SourceTool == Finding.HarborSource).ToList();
        var harborIds = findings.Select(f => f.Id).ToHashSet();
        AssertMatchesHarbor(findings, await _harness.HarborSummariesAsync());
        Assert.Equal(findings.Count, findings.Select(f => f.Identity).Distinct().Count());
        Assert.Equal(findings.Count, findings.Select(f => (f.RepositoryName, f.Digest, f.VulnerabilityId, f.PackageName, f.InstalledVersion)).Distinct().Count());
        var events = (await _harness.EventsAsync()).Where(e => harborIds.Contains(e.FindingId)).ToList();
        Assert.Equal(findings.Select(f => f.Id).Order(), events.Where(e => e.Kind == FindingEventKind.Opened).Select(e => e.FindingId).Order());
        Assert.Equal(events.Count, events.Count(e => e.Kind == FindingEventKind.Opened));
    }
}
