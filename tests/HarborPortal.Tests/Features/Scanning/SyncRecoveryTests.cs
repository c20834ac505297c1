using System.Diagnostics;
using System.Net;
using System.Text.Json;
using HarborPortal.Data;
using HarborPortal.Features.Auth;
using HarborPortal.Features.Connections;
using HarborPortal.Features.Findings;
using HarborPortal.Features.Scanning;
using HarborPortal.HarborSimulator;
using HarborPortal.Tests.Features.Auth;
using HarborPortal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;
using static HarborPortal.Tests.Features.Connections.ConnectionPages;
using Sim = HarborPortal.HarborSimulator.HarborSimulator;

namespace HarborPortal.Tests.Features.Scanning;

// A sync whose instance dies: it stops blocking the next sync, shows as interrupted, and is finished by another instance
// (or the same portal started again) with the findings an uninterrupted sync writes.
public sealed class SyncRecoveryTests(ITestOutputHelper output)
{
    // One repository's artifacts never come (until the test clears it): a sync is caught in the middle, the rest written.
    private const string StalledRepository = "/api/v2.0/projects/gen-003/repositories/app-01";

    [Fact]
    public async Task An_Orphaned_Run_Shows_As_Interrupted_And_No_Longer_Blocks_Sync_Now()
    {
        await using var harness = await SyncHarness.StartAsync(output);
        var instance = harness.App.Services.GetRequiredService<PortalInstance>().Id;
        var run = await SeedRunningAsync(harness.App, harness.ConnectionId, instance, DateTimeOffset.UtcNow);

        // Alive: it blocks.
        var refused = await StartAsync(harness.App, harness.ConnectionId);
        Assert.True(refused.AlreadyRunning);
        Assert.Equal(run, refused.RunId);

        // Its instance died ten minutes ago (a crash leaves the row Running).
        await using (var db = harness.App.CreateDbContext())
        {
            await db.SyncRuns.Where(r => r.Id == run).ExecuteUpdateAsync(set => set
                .SetProperty(r => r.RunningOn, "portal-killed-1").SetProperty(r => r.HeartbeatAt, DateTimeOffset.UtcNow.AddMinutes(-10)));
        }

        using var admin = harness.App.CreateClientWithCookies();
        await harness.App.SignInAsAsync(admin, "alice", PortalRoles.Admin);
        var runPage = await GetPageAsync(admin, $"/admin/connections/{harness.ConnectionId}/syncs/{run}");
        var interrupted = runPage.QuerySelector($"[data-testid=sync-progress][data-run-id='{run}'] [data-testid=sync-interrupted]");
        Assert.NotNull(interrupted);
        Assert.Contains("Interrupted: the instance running it stopped (portal-killed-1)", Normalise(interrupted.TextContent), StringComparison.Ordinal);
        Assert.Contains("portal-killed-1", runPage.QuerySelector("[data-testid=sync-run-instance]")!.TextContent, StringComparison.Ordinal);

        var started = await StartAsync(harness.App, harness.ConnectionId);

        Assert.False(started.AlreadyRunning);
        Assert.NotEqual(run, started.RunId);
        var orphan = await harness.RunAsync(run);
        Assert.Equal(SyncRunStatus.Failed, orphan.Status);
        Assert.NotNull(orphan.FinishedAt);
        Assert.Contains(orphan.ErrorList, e => e.StartsWith("Interrupted: the instance running it stopped (portal-killed-1)", StringComparison.Ordinal));
        var ended = await GetPageAsync(admin, $"/admin/connections/{harness.ConnectionId}/syncs/{run}");
        Assert.Equal("Failed", ended.QuerySelector("[data-testid=sync-run-status]")!.TextContent.Trim());
        Assert.Null(ended.QuerySelector("[data-testid=sync-interrupted]"));
    }

    [Fact]
    public async Task On_Sqlite_A_Run_Left_Running_By_The_Portal_Before_A_Crash_Is_Orphaned_At_Once()
    {
        var settings = new Dictionary<string, string?> { ["Database:Provider"] = "Sqlite", ["Connections:VerifyOnSave"] = "false" };
        await using var app = new PortalApplication(settings, output);
        using var admin = app.CreateClientWithCookies();
        await app.SignInAsAsync(admin, "alice", PortalRoles.Admin);
        var connectionId = await CreateAsync(admin, "harbor-prod", "S3cret-Value-1");
        // The heartbeat is fresh (the crash was seconds ago) but the instance is an earlier life of this portal.
        var run = await SeedRunningAsync(app, connectionId, "portal-before-the-crash", DateTimeOffset.UtcNow);

        Assert.NotNull((await GetPageAsync(admin, $"/admin/connections/{connectionId}")).QuerySelector("[data-testid=sync-interrupted]"));
        var started = await StartAsync(app, connectionId);

        Assert.False(started.AlreadyRunning);
        await using var db = app.CreateDbContext();
        Assert.Equal(SyncRunStatus.Failed, (await db.SyncRuns.SingleAsync(r => r.Id == run)).Status);
    }

    [Fact]
    public async Task On_Sqlite_A_Sync_Whose_Process_Is_Killed_Is_Resumed_When_The_Portal_Starts_Again()
    {
        var settings = new Dictionary<string, string?> { ["Database:Provider"] = "Sqlite" };
        await KilledInstanceScenarioAsync(settings, recoverAlongside: false);
    }

    [Fact]
    public async Task On_Postgres_A_Sync_Whose_Instance_Is_Killed_Is_Finished_By_The_Other_Instance()
    {
        // Two instances on one database, whatever PORTAL_TEST_DATABASE says; they watch each other every second.
        var database = "hp_recovery_" + Guid.NewGuid().ToString("n")[..12];
        var settings = new Dictionary<string, string?>
        {
            ["Database:Provider"] = "Postgres",
            ["ConnectionStrings:Portal"] = await PostgresCluster.Shared.CreateDatabaseAsync(database),
            ["Jobs:ClusterCheckinInterval"] = "00:00:01",
            ["Jobs:ClusterCheckinMisfireThreshold"] = "00:00:03",
        };
        try
        {
            await KilledInstanceScenarioAsync(settings, recoverAlongside: true);
        }
        finally
        {
            await PostgresCluster.Shared.DropDatabaseAsync(database);
        }
    }

    // Instance A (a process) starts a sync and is killed in the middle; instance B (started alongside A, or the portal
    // started again on its data) finishes the run. Compared with an uninterrupted sync of the same Harbor.
    private async Task KilledInstanceScenarioAsync(Dictionary<string, string?> settings, bool recoverAlongside)
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "harborportal-tests", Guid.NewGuid().ToString("n"));
        Directory.CreateDirectory(dataDirectory);
        settings["Connections:VerifyOnSave"] = "false";
        await using var simulator = await Sim.StartAsync();
        simulator.Mutate(state => state.AddGenerated(new SimGenerate { Projects = 3, RepositoriesPerProject = 3, ArtifactsPerRepository = 8, VulnerabilitiesPerArtifact = 4 }));
        try
        {
            // The connection and an API token, written by a portal on the shared data (keys) and database, then stopped.
            long connectionId;
            string token;
            IReadOnlyDictionary<string, string?> shared;
            await using (var setup = new PortalApplication(settings, output, dataDirectory: dataDirectory))
            {
                connectionId = await AddSimulatorAsync(setup, simulator);
                token = await ApiTokenTests.CreateTokenAsync(setup, "automation", PortalRoles.Admin);
                shared = setup.Settings;
            }

            simulator.Faults.Latency(TimeSpan.FromMinutes(10), StalledRepository);
            long runId;
            string killedInstance;
            PortalApplication? survivor = null;
            var processSettings = new Dictionary<string, string?>(shared)
            {
                ["Sync:HeartbeatInterval"] = "00:00:01",
                // A stalled Harbor call must not end the run before the kill.
                ["Connections:RequestTimeout"] = "00:15:00",
            };
            await using (var instanceA = await PortalProcess.StartAsync(processSettings, output))
            {
                using var response = await ApiTokenTests.SendAsync(instanceA.Client, HttpMethod.Post, $"/api/v1/connections/{connectionId}/sync", token);
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
                runId = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("runId").GetInt64();

                var midway = await WaitForRunAsync(shared, runId, r => r.Status == SyncRunStatus.Running && r.FindingsNew > 0 && r.HeartbeatAt is not null);
                killedInstance = midway.RunningOn!;
                if (recoverAlongside)
                {
                    survivor = new PortalApplication(settings, output, dataDirectory: dataDirectory);
                    _ = survivor.Services;
                }

                instanceA.Kill();
            }

            var stopped = await WaitForRunAsync(shared, runId, _ => true);
            Assert.Equal(SyncRunStatus.Running, stopped.Status);
            Assert.Equal(killedInstance, stopped.RunningOn);
            simulator.Faults.Clear();

            survivor ??= new PortalApplication(settings, output, dataDirectory: dataDirectory);
            await using (survivor)
            {
                var survivorInstance = survivor.Services.GetRequiredService<PortalInstance>().Id;
                var finished = await WaitForRunAsync(shared, runId, r => !r.IsActive, seconds: 120);

                Assert.Equal(SyncRunStatus.Succeeded, finished.Status);
                Assert.Equal(survivorInstance, finished.RunningOn);
                Assert.Equal(killedInstance, finished.ResumedFrom);
                Assert.Contains(survivor.Logs, l => l.Message.Contains($"Sync run {runId} was running on {killedInstance}", StringComparison.Ordinal)
                    && l.Message.Contains("Quartz recovery: True", StringComparison.Ordinal));

                await using var db = survivor.CreateDbContext();
                var findings = await db.Findings.AsNoTracking().Where(f => f.SourceTool == Finding.HarborSource).ToListAsync();
                Assert.Equal(findings.Count, findings.Select(f => f.Identity).Distinct().Count());
                Assert.Equal(await UninterruptedIdentitiesAsync(simulator), findings.Select(f => f.Identity).Order(StringComparer.Ordinal).ToList());
                Assert.Equal(await RecountAsync(db, fromTriggers: false), await RecountAsync(db, fromTriggers: true));
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(dataDirectory, recursive: true);
            }
            catch (IOException)
            {
                // A file still held open: the temp folder is cleaned by the OS eventually.
            }
        }
    }

    // What a sync that nobody interrupts writes from the same Harbor, in a portal of its own.
    private async Task<List<string>> UninterruptedIdentitiesAsync(Sim simulator)
    {
        await using var reference = new PortalApplication(new Dictionary<string, string?> { ["Connections:VerifyOnSave"] = "false" }, output);
        var connectionId = await AddSimulatorAsync(reference, simulator);
        await using (var db = reference.CreateDbContext())
        {
            var run = new SyncRun { ConnectionId = connectionId, Status = SyncRunStatus.Pending, RequestedAt = DateTimeOffset.UtcNow };
            db.SyncRuns.Add(run);
            await db.SaveChangesAsync();
            await using var scope = reference.Services.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<SyncRunner>().RunAsync(connectionId, run.Id, CancellationToken.None);
            Assert.Equal(SyncRunStatus.Succeeded, (await db.SyncRuns.AsNoTracking().SingleAsync(r => r.Id == run.Id)).Status);
        }

        await using var read = reference.CreateDbContext();
        var identities = await read.Findings.Where(f => f.SourceTool == Finding.HarborSource).Select(f => f.Identity).ToListAsync();
        Assert.NotEmpty(identities);
        return [.. identities.Order(StringComparer.Ordinal)];
    }

    // The facet counts the triggers keep, against a count of the findings themselves.
    private static async Task<List<string>> RecountAsync(PortalDbContext db, bool fromTriggers)
    {
        var rows = fromTriggers
            ? await db.FindingCounts.AsNoTracking().Where(c => c.Count != 0)
                .GroupBy(c => new { c.ConnectionId, c.ProjectName, c.SourceTool, c.Severity, c.Priority, c.Status })
                .Select(g => new { g.Key, Count = g.Sum(c => c.Count) }).ToListAsync()
            : await db.Findings.AsNoTracking()
                .GroupBy(f => new { f.ConnectionId, f.ProjectName, f.SourceTool, f.Severity, f.Priority, f.Status })
                .Select(g => new { g.Key, Count = g.LongCount() }).ToListAsync();
        return [.. rows.Select(r => $"{r.Key.ConnectionId} {r.Key.ProjectName} {r.Key.SourceTool} {r.Key.Severity} {r.Key.Priority} {r.Key.Status}: {r.Count}").Order(StringComparer.Ordinal)];
    }

    private static Task<long> AddSimulatorAsync(PortalApplication app, Sim simulator) => SimulatorConnections.AddAsync(app.Services, simulator);

    // Reads the run straight from the shared database (instance A may be dead, and B may not have started).
    private async Task<SyncRun> WaitForRunAsync(IReadOnlyDictionary<string, string?> settings, long runId, Func<SyncRun, bool> condition, int seconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            await using (var db = OpenDatabase(settings))
            {
                var run = await db.SyncRuns.AsNoTracking().SingleAsync(r => r.Id == runId);
                if (condition(run))
                {
                    output.WriteLine($"run {run.Id}: {run.Status} on {run.RunningOn} (resumed from {run.ResumedFrom}), seen {run.ArtifactsSeen} of {run.ArtifactsTotal}, new {run.FindingsNew}, errors {run.Errors}");
                    return run;
                }

                Assert.True(DateTime.UtcNow < deadline, $"Run {runId} is {run.Status} on {run.RunningOn} with {run.ArtifactsSeen} of {run.ArtifactsTotal} artifacts after {seconds} s: {run.Errors}");
            }

            await Task.Delay(200);
        }
    }

    private static PortalDbContext OpenDatabase(IReadOnlyDictionary<string, string?> settings) =>
        settings["Database:Provider"] == "Postgres"
            ? new PostgresPortalDbContext(new DbContextOptionsBuilder<PostgresPortalDbContext>().UseNpgsql(settings["ConnectionStrings:Portal"]).Options)
            : new SqlitePortalDbContext(new DbContextOptionsBuilder<SqlitePortalDbContext>()
                .UseSqlite($"Data Source={Path.Combine(settings["Portal:DataDirectory"]!, "harborportal.db")}").Options);

    private static async Task<long> SeedRunningAsync(PortalApplication app, long connectionId, string instance, DateTimeOffset heartbeat)
    {
        await using var db = app.CreateDbContext();
        var run = new SyncRun
        {
            ConnectionId = connectionId, Status = SyncRunStatus.Running, RequestedBy = "alice", RequestedAt = heartbeat.AddMinutes(-1),
            StartedAt = heartbeat.AddMinutes(-1), RunningOn = instance, HeartbeatAt = heartbeat, ArtifactsTotal = 40, ArtifactsSeen = 10,
        };
        db.SyncRuns.Add(run);
        await db.SaveChangesAsync();
        return run.Id;
    }

    private static async Task<SyncStart> StartAsync(PortalApplication app, long connectionId)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return (await scope.ServiceProvider.GetRequiredService<SyncRequests>().StartAsync(connectionId, "alice", CancellationToken.None))!;
    }

    private static string Normalise(string text) => string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    /// <summary>The portal as its own process (the build these tests run on), so that it can be killed, not stopped.</summary>
    private sealed class PortalProcess : IAsyncDisposable
    {
        private readonly Process _process;

        private PortalProcess(Process process, HttpClient client)
        {
            _process = process;
            Client = client;
        }

        public HttpClient Client { get; }

        public static async Task<PortalProcess> StartAsync(IReadOnlyDictionary<string, string?> settings, ITestOutputHelper output)
        {
            var binaries = Path.Combine(RepositoryPaths.Root, "src", "HarborPortal", "bin", RepositoryPaths.Configuration);
            var dll = Directory.GetFiles(binaries, "HarborPortal.dll", SearchOption.AllDirectories).Single(f => Path.GetFileName(Path.GetDirectoryName(f)!).StartsWith("net", StringComparison.Ordinal));
            var url = $"http://127.0.0.1:{FreePort.Next()}";
            var start = new ProcessStartInfo("dotnet", [dll])
            {
                WorkingDirectory = RepositoryPaths.Root,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                Environment =
                {
                    ["ASPNETCORE_URLS"] = url,
                    ["ASPNETCORE_ENVIRONMENT"] = "Production",
                    ["LocalAdmin__Password"] = "Killed-Instance-Pa55word!",
                },
            };
            foreach (var (key, value) in settings)
            {
                start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
            }

            var process = Process.Start(start)!;
            process.OutputDataReceived += (_, e) => Log(output, e.Data);
            process.ErrorDataReceived += (_, e) => Log(output, e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();

            var client = new HttpClient { BaseAddress = new Uri(url) };
            var deadline = DateTime.UtcNow.AddSeconds(90);
            while (true)
            {
                Assert.False(process.HasExited, "instance A exited during start");
                try
                {
                    if ((await client.GetAsync("/readyz")).IsSuccessStatusCode)
                    {
                        return new PortalProcess(process, client);
                    }
                }
                catch (HttpRequestException)
                {
                    // Not listening yet.
                }

                Assert.True(DateTime.UtcNow < deadline, "instance A did not become ready within 90 seconds");
                await Task.Delay(250);
            }
        }

        /// <summary>SIGKILL: no shutdown, no cancellation, the run's row left as it was.</summary>
        public void Kill()
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }

            Client.Dispose();
            _process.Dispose();
        }

        private static void Log(ITestOutputHelper output, string? line)
        {
            if (line is null)
            {
                return;
            }

            try
            {
                output.WriteLine("[instance A] " + line);
            }
            catch (InvalidOperationException)
            {
                // The test already finished.
            }
        }
    }
}
