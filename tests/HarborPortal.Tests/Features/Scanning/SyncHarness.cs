using HarborPortal.Data;
using HarborPortal.Features.Connections;
using HarborPortal.Features.Findings;
using HarborPortal.Features.Locations;
using HarborPortal.Features.Scanning;
using HarborPortal.Harbor;
using HarborPortal.HarborSimulator;
using HarborPortal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;
using Sim = HarborPortal.HarborSimulator.HarborSimulator;

namespace HarborPortal.Tests.Features.Scanning;

/// <summary>
/// The portal and a Harbor simulator with the simulator registered as a connection: what every sync test starts from.
/// Runs are started the way the portal starts them (<see cref="SyncRequests"/>, a Quartz job) or by calling the
/// runner directly when the test wants the run to have ended when the call returns.
/// </summary>
internal sealed class SyncHarness : IAsyncDisposable
{
    public const string PaymentsDigest = "sha256:02551b79862b7096e1a0daec3d24dd514b70d4e29fa853debb27b905551f44df";
    public const string NginxDigest = "sha256:6af0f9a2b7d4d1c1f0c59a3a5bb0c39d2bd1a9f1a0e1c7f8a8e4d3b2c1a09f8e";

    private readonly ITestOutputHelper _output;
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "harborportal-tests", Guid.NewGuid().ToString("n"));

    private readonly IReadOnlyDictionary<string, string?> _database;

    private SyncHarness(ITestOutputHelper output, Sim simulator, IReadOnlyDictionary<string, string?>? database)
    {
        _output = output;
        _database = database ?? new Dictionary<string, string?>();
        Simulator = simulator;
        App = NewApp();
    }

    public Sim Simulator { get; }

    public PortalApplication App { get; private set; }

    public long ConnectionId { get; private set; }

    /// <param name="database">Settings naming the portal's database (Database:Provider, ConnectionStrings:Portal) when the test
    /// chooses it; by default the test run's database (PORTAL_TEST_DATABASE).</param>
    public static async Task<SyncHarness> StartAsync(ITestOutputHelper output, HarborSimulatorOptions? simulator = null, IReadOnlyDictionary<string, string?>? database = null)
    {
        var harness = new SyncHarness(output, await Sim.StartAsync(simulator), database);
        await using var db = harness.App.CreateDbContext();
        var connection = new HarborConnection
        {
            Name = "sim",
            BaseUrl = harness.Simulator.BaseAddress.ToString().TrimEnd('/'),
            UserName = DefaultScenario.PortalRobot,
            ProtectedSecret = harness.App.Services.GetRequiredService<ConnectionSecrets>().Protect(DefaultScenario.PortalRobotSecret),
            AllowInsecureHttp = true,
            CaCertificatePem = harness.Simulator.CaCertificatePem,
            Enabled = true,
        };
        db.HarborConnections.Add(connection);
        await db.SaveChangesAsync();
        harness.ConnectionId = connection.Id;
        return harness;
    }

    /// <summary>Stops the portal (as a shutdown does: hosted services stop, running jobs are interrupted) and starts a new one on the same data.</summary>
    public async Task RestartPortalAsync()
    {
        await App.DisposeAsync();
        App = NewApp();
        await using var db = App.CreateDbContext();
        Assert.True(await db.HarborConnections.AnyAsync(c => c.Id == ConnectionId));
    }

    /// <summary>Runs a sync to its end through the runner (a full run, or a targeted one over <paramref name="targets"/>).</summary>
    public async Task<SyncRun> SyncAsync(IReadOnlyList<ArtifactRef>? targets = null, CancellationToken cancellationToken = default)
    {
        var runId = await CreateRunAsync(targets);
        await ExecuteAsync(runId, cancellationToken);
        return await RunAsync(runId);
    }

    /// <summary>Records a pending run, as <see cref="SyncRequests"/> does, without scheduling it.</summary>
    public async Task<long> CreateRunAsync(IReadOnlyList<ArtifactRef>? targets = null)
    {
        await using var db = App.CreateDbContext();
        var run = new SyncRun
        {
            ConnectionId = ConnectionId, Status = SyncRunStatus.Pending, RequestedAt = DateTimeOffset.UtcNow,
            Trigger = targets is null ? SyncTrigger.Manual : SyncTrigger.Webhook, TargetList = targets,
        };
        db.SyncRuns.Add(run);
        await db.SaveChangesAsync(CancellationToken.None);
        return run.Id;
    }

    /// <summary>Runs a recorded run through the runner, as the job does.</summary>
    public async Task ExecuteAsync(long runId, CancellationToken cancellationToken = default)
    {
        await using var scope = App.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<SyncRunner>().RunAsync(ConnectionId, runId, cancellationToken);
    }

    public async Task<SyncRun> RunAsync(long runId)
    {
        await using var db = App.CreateDbContext();
        var run = await db.SyncRuns.SingleAsync(r => r.Id == runId);
        _output.WriteLine($"run {run.Id}: {run.Status}, total {run.ArtifactsTotal}, seen {run.ArtifactsSeen}, skipped {run.ArtifactsSkipped}, reports {run.ReportsFetched}, " +
            $"not scanned {run.ArtifactsNotScanned}, scan requested {run.ArtifactsScanRequested}, scan failed {run.ArtifactsScanFailed}, removed {run.ArtifactsRemoved}, " +
            $"new {run.FindingsNew}, updated {run.FindingsUpdated}, resolved {run.FindingsResolved}, reopened {run.FindingsReopened}, errors {run.Errors}");
        return run;
    }

    /// <summary>Polls the run (as the pages do) until <paramref name="condition"/> holds; fails after <paramref name="seconds"/>.</summary>
    public async Task<SyncRun> WaitForRunAsync(long runId, Func<SyncRun, bool> condition, int seconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            await using (var db = App.CreateDbContext())
            {
                var run = await db.SyncRuns.AsNoTracking().SingleAsync(r => r.Id == runId);
                if (condition(run))
                {
                    return run;
                }

                Assert.True(DateTime.UtcNow < deadline, $"Run {runId} is {run.Status} with {run.ArtifactsSeen} of {run.ArtifactsTotal} artifacts after {seconds} s.");
            }

            await Task.Delay(100);
        }
    }

    public async Task SetLocationsAsync(ScanLocations locations)
    {
        Assert.Empty(locations.Validate());
        await using var db = App.CreateDbContext();
        var row = await db.ConnectionLocations.SingleOrDefaultAsync(l => l.ConnectionId == ConnectionId);
        if (row is null)
        {
            db.ConnectionLocations.Add(new ConnectionLocations { ConnectionId = ConnectionId, SelectionJson = locations.ToJson(), UpdatedAt = DateTimeOffset.UtcNow });
        }
        else
        {
            row.SelectionJson = locations.ToJson();
        }

        await db.SaveChangesAsync();
    }

    public async Task SetScanUnscannedAsync(bool scan)
    {
        await using var db = App.CreateDbContext();
        var connection = await db.HarborConnections.SingleAsync(c => c.Id == ConnectionId);
        connection.ScanUnscanned = scan;
        await db.SaveChangesAsync();
    }

    public async Task<List<Finding>> FindingsAsync()
    {
        await using var db = App.CreateDbContext();
        return await db.Findings.AsNoTracking().OrderBy(f => f.Id).ToListAsync();
    }

    public async Task<List<FindingEvent>> EventsAsync()
    {
        await using var db = App.CreateDbContext();
        return await db.FindingEvents.AsNoTracking().OrderBy(e => e.Id).ToListAsync();
    }

    public async Task<List<ScannedArtifact>> ScannedArtifactsAsync()
    {
        await using var db = App.CreateDbContext();
        return await db.ScannedArtifacts.AsNoTracking().OrderBy(a => a.RepositoryName).ThenBy(a => a.Digest).ToListAsync();
    }

    /// <summary>Every finding row and history entry as text: equal snapshots mean nothing was written.</summary>
    public async Task<string> SnapshotAsync()
    {
        var findings = await FindingsAsync();
        var events = await EventsAsync();
        return string.Join('\n', findings.Select(f => $"{f.Id} {f.Identity} {f.Status} {f.LastSeenAt.UtcTicks} {f.ResolvedAt?.UtcTicks} {f.Severity} {f.FixedVersion} {f.Tags}")
            .Concat(events.Select(e => $"event {e.Id} {e.FindingId} {e.Kind} {e.Reason} {e.SyncRunId}")));
    }

    /// <summary>Makes the simulator's scan of an artifact newer, as a re-scan does.</summary>
    public void Rescan(string digest, Action<SimulatorState>? change = null) => Simulator.Mutate(state =>
    {
        change?.Invoke(state);
        var artifact = state.Artifacts.Single(a => a.Digest == digest);
        artifact.ScanEndTime = (artifact.ScanEndTime ?? artifact.PushTime).AddMinutes(5);
    });

    public HarborConnectionSettings Settings() => SimulatorConnections.Robot(Simulator);

    /// <summary>Harbor's own per-severity summary of every successfully scanned artifact of the given repositories (all when null).</summary>
    public async Task<List<(string Repository, string Digest, IReadOnlyDictionary<string, int> Summary)>> HarborSummariesAsync(Func<string, bool>? repositories = null)
    {
        var client = App.Services.GetRequiredService<HarborClient>();
        var settings = Settings();
        var result = new List<(string, string, IReadOnlyDictionary<string, int>)>();
        foreach (var project in (await client.ListProjectsAsync(settings)).GetValueOrThrow())
        {
            foreach (var repository in (await client.ListRepositoriesAsync(settings, project.Name)).GetValueOrThrow().Where(r => repositories?.Invoke(r.Name) ?? true))
            {
                foreach (var artifact in (await client.ListArtifactsAsync(settings, project.Name, repository.NameInProject)).GetValueOrThrow())
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

    /// <summary>Asserts that the open findings of each artifact count per severity exactly as Harbor's summary does.</summary>
    public static void AssertMatchesHarbor(IEnumerable<Finding> findings, IEnumerable<(string Repository, string Digest, IReadOnlyDictionary<string, int> Summary)> harbor)
    {
        var open = findings.Where(f => f.Status == FindingStatus.Open).ToList();
        var expected = harbor.ToList();
        Assert.NotEmpty(expected);
        foreach (var (repository, digest, summary) in expected)
        {
            var mine = open.Where(f => f.RepositoryName == repository && f.Digest == digest)
                .GroupBy(f => f.Severity.ToString()).ToDictionary(g => g.Key, g => g.Count());
            Assert.Equal(summary.Where(p => p.Value > 0).OrderBy(p => p.Key).ToList(), mine.OrderBy(p => p.Key).ToList());
        }

        Assert.All(open, f => Assert.Contains(expected, e => e.Repository == f.RepositoryName && e.Digest == f.Digest));
    }

    public async ValueTask DisposeAsync()
    {
        await App.DisposeAsync();
        await Simulator.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (App.PostgresDatabase is { } database)
        {
            // The harness owns the data (its portals are started on it again), so it drops the database too.
            await PostgresCluster.Shared.DropDatabaseAsync(database);
        }

        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open: the temp folder is cleaned by the OS eventually.
        }
    }

    private PortalApplication NewApp() =>
        new(new Dictionary<string, string?>(_database) { ["Connections:VerifyOnSave"] = "false" }, _output, dataDirectory: _dataDirectory);
}
