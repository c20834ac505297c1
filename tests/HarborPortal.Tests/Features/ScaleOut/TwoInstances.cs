using HarborPortal.Data;
using HarborPortal.Features.Connections;
using HarborPortal.Features.Scanning;
using HarborPortal.HarborSimulator;
using HarborPortal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Quartz;
using Xunit.Abstractions;
using Sim = HarborPortal.HarborSimulator.HarborSimulator;

namespace HarborPortal.Tests.Features.ScaleOut;

/// <summary>
/// Two portal instances on ONE PostgreSQL database, as behind a load balancer: separate data directories (so nothing is
/// shared through the disk), the same settings, Quartz clustered with a short check-in. PostgreSQL whatever
/// PORTAL_TEST_DATABASE says: scaling out needs it. A starts first (it migrates and makes the first key); B joins.
/// </summary>
internal sealed class TwoInstances : IAsyncDisposable
{
    private readonly string _database;

    private TwoInstances(string database, PortalApplication a, PortalApplication b)
    {
        _database = database;
        A = a;
        B = b;
    }

    public PortalApplication A { get; }

    public PortalApplication B { get; }

    public static async Task<TwoInstances> StartAsync(ITestOutputHelper output, IDictionary<string, string?>? extra = null)
    {
        var database = "hp_scaleout_" + Guid.NewGuid().ToString("n")[..16];
        var settings = await SettingsForAsync(database, extra);
        var a = new PortalApplication(settings, output);
        _ = a.Services;
        var b = new PortalApplication(settings, output);
        _ = b.Services;
        return new TwoInstances(database, a, b);
    }

    /// <summary>The settings every instance of one shared database gets.</summary>
    public static async Task<Dictionary<string, string?>> SettingsForAsync(string database, IDictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Database:Provider"] = "Postgres",
            ["ConnectionStrings:Portal"] = await PostgresCluster.Shared.CreateDatabaseAsync(database),
            ["Connections:VerifyOnSave"] = "false",
            ["Jobs:ClusterCheckinInterval"] = "00:00:01",
            ["Jobs:ClusterCheckinMisfireThreshold"] = "00:00:05",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        return settings;
    }

    /// <summary>A connection to the simulator, saved through A (its secret protected with the shared keys).</summary>
    public Task<long> AddSimulatorConnectionAsync(Sim simulator)
        => SimulatorConnections.AddAsync(A.Services, simulator);

    /// <summary>Triggers wait while both schedulers stand by: runs stay Pending for the test to look at.</summary>
    public async Task PauseJobsAsync()
    {
        await Schedulers.StandbyAsync(A.Services);
        await Schedulers.StandbyAsync(B.Services);
    }

    public async Task ResumeJobsAsync()
    {
        await (await A.Services.GetRequiredService<ISchedulerFactory>().GetScheduler()).Start();
        await (await B.Services.GetRequiredService<ISchedulerFactory>().GetScheduler()).Start();
    }

    public async Task<SyncRunStatus> WaitForRunToEndAsync(long runId, ITestOutputHelper output)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            await using var db = A.CreateDbContext();
            var run = await db.SyncRuns.AsNoTracking().SingleAsync(r => r.Id == runId);
            if (!run.IsActive)
            {
                output.WriteLine($"run {run.Id} ({run.Trigger}): {run.Status}, seen {run.ArtifactsSeen}, reports {run.ReportsFetched}, errors {run.Errors}");
                return run.Status;
            }

            Assert.True(DateTime.UtcNow < deadline, $"run {runId} did not end within 90 seconds");
            await Task.Delay(200);
        }
    }

    /// <summary>How many times the run was executed to its end, by either instance (each execution logs its end once).</summary>
    public int ExecutionsOf(long runId) =>
        A.Logs.Concat(B.Logs).Count(l => l.Category == typeof(SyncRunner).FullName && l.Message.Contains($"(run {runId}) ended", StringComparison.Ordinal));

    public async ValueTask DisposeAsync()
    {
        await B.DisposeAsync();
        await A.DisposeAsync();
        await PostgresCluster.Shared.DropDatabaseAsync(_database);
    }
}
