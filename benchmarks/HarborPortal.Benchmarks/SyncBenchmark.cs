using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using HarborPortal.Data;
using HarborPortal.Features.Locations;
using HarborPortal.Features.Scanning;
using HarborPortal.HarborSimulator;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace HarborPortal.Benchmarks;

/// <summary>
/// DESIGN.md's sync figures end to end: the portal's real sync (SyncRunner, its Harbor client and writer, SQLite on
/// disk) against the simulator in another process serving a generated scenario; a full sync, then a re-sync with
/// nothing changed.
/// <code>dotnet run -c Release --project benchmarks/HarborPortal.Benchmarks -- sync [--artifacts 5000] [--vulnerabilities 50] [--repeat 1] [--http] [--no-warmup] [--database postgres [--postgres CS]] [--compare]</code>
/// </summary>
public sealed class SyncBenchmark : IDatabaseBenchmark
{
    private const int Repositories = 200;
    private static readonly TimeSpan FullSyncTarget = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan ResyncTarget = TimeSpan.FromSeconds(10);
    private const int ConcurrencyTarget = 8;
    private const long MemoryTargetBytes = 500L * 1024 * 1024;

    public string Name => "sync";

    public string Description => "Full sync of 5,000 artifacts x 50 vulnerabilities from the simulator, then an unchanged re-sync (DESIGN.md's sync figures).";

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        if (args is [SimulatorProcess.ServeArgument, .. var serve])
        {
            return await SimulatorProcess.ServeAsync(serve);
        }

        var artifacts = Option(args, "--artifacts", 5000);
        var vulnerabilities = Option(args, "--vulnerabilities", 50);
        var repeat = Option(args, "--repeat", 1);
        var https = !args.Contains("--http");
        await using var database = BenchmarkDatabase.FromArgs(args);
        var repositories = Math.Min(Repositories, artifacts);
        var generate = new SimGenerate
        {
            Projects = Math.Max(1, repositories / 4),
            RepositoriesPerProject = Math.Min(4, repositories),
            ArtifactsPerRepository = Math.Max(1, artifacts / repositories),
            VulnerabilitiesPerArtifact = vulnerabilities,
            DetailedVulnerabilities = true,
        };
        var artifactCount = generate.Projects * generate.RepositoriesPerProject * generate.ArtifactsPerRepository;
        Console.WriteLine($"dataset: {artifactCount:N0} artifacts x {vulnerabilities} vulnerabilities = {artifactCount * vulnerabilities:N0} findings; "
            + $"{generate.Projects} projects, {generate.Projects * generate.RepositoriesPerProject} repositories; simulator over {(https ? "HTTPS" : "HTTP")} in a child process");
        Console.WriteLine($"GC: {(GCSettings.IsServerGC ? "server" : "workstation")}, concurrent={GCSettings.LatencyMode != GCLatencyMode.Batch}; {repeat} repetition(s), each on a fresh database{(database.IsPostgres ? " (PostgreSQL)" : "")}");
        BenchmarkResults.Note($"{artifactCount:N0} artifacts x {vulnerabilities} vulnerabilities = {artifactCount * vulnerabilities:N0} findings, {repeat} repetition(s)");

        await using var simulator = await SimulatorProcess.StartAsync(Name, generate, https, cancellationToken);
        if (!args.Contains("--no-warmup"))
        {
            // The first sync in a process pays for compiling its code: one project, synced twice on a database thrown away.
            await using var portal = await BenchmarkPortal.StartAsync(database);
            var connectionId = await portal.AddConnectionAsync(simulator.BaseAddress, DefaultScenario.PortalRobot, DefaultScenario.PortalRobotSecret, simulator.CaCertificatePem);
            await using (var scope = portal.Services.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
                db.ConnectionLocations.Add(new ConnectionLocations
                {
                    ConnectionId = connectionId, UpdatedAt = DateTimeOffset.UtcNow,
                    SelectionJson = new ScanLocations { AllProjects = false, Projects = [new ProjectLocation { Name = $"{generate.ProjectPrefix}-001" }] }.ToJson(),
                });
                await db.SaveChangesAsync(cancellationToken);
            }

            Console.WriteLine($"  warm-up: {await SyncAsync(portal, connectionId, simulator, cancellationToken)}");
            await SyncAsync(portal, connectionId, simulator, cancellationToken);
        }

        using var memory = new PeakMemory();
        var full = new List<Measurement>();
        var resync = new List<Measurement>();
        for (var i = 0; i < repeat; i++)
        {
            await using var portal = await BenchmarkPortal.StartAsync(database);
            var connectionId = await portal.AddConnectionAsync(simulator.BaseAddress, DefaultScenario.PortalRobot, DefaultScenario.PortalRobotSecret, simulator.CaCertificatePem);
            await simulator.ResetStatisticsAsync();
            memory.Reset();
            full.Add(await SyncAsync(portal, connectionId, simulator, cancellationToken));
            Console.WriteLine($"  run {i + 1}: full sync {full[^1]}");
            await simulator.ResetStatisticsAsync();
            resync.Add(await SyncAsync(portal, connectionId, simulator, cancellationToken));
            Console.WriteLine($"  run {i + 1}: re-sync   {resync[^1]}");
        }

        var fullWall = Median(full.Select(m => m.Wall.TotalSeconds));
        var resyncWall = Median(resync.Select(m => m.Wall.TotalSeconds));
        var concurrency = full.Concat(resync).Max(m => m.Harbor.MaxConcurrentRequests);
        var peak = memory.WorstPeakBytes;
        var last = full[^1];
        var lastResync = resync[^1];

        BenchmarkResults.Record($"full sync: wall time (target {FullSyncTarget.TotalSeconds:F0} s)", fullWall, "s");
        BenchmarkResults.Record("full sync: findings per second", Median(full.Select(m => m.Run.FindingsNew / m.Wall.TotalSeconds)), "/s");
        BenchmarkResults.Record("full sync: CPU time of the portal", Median(full.Select(m => m.Processor.TotalSeconds)), "s");
        BenchmarkResults.Record($"re-sync, nothing changed: wall time (target {ResyncTarget.TotalSeconds:F0} s)", resyncWall, "s");
        BenchmarkResults.Record("peak memory of the portal", peak / 1024.0 / 1024.0, "MB");
        Console.WriteLine();
        Console.WriteLine($"{"",-42} {"measured (median)",-20} target (DESIGN.md)");
        Row("full sync: wall time", $"{fullWall:F1} s", $"<= {FullSyncTarget.TotalSeconds:F0} s", fullWall <= FullSyncTarget.TotalSeconds);
        Row("  findings written", $"{last.Run.FindingsNew:N0}", "", null);
        Row("  findings per second (end to end)", $"{Median(full.Select(m => m.Run.FindingsNew / m.Wall.TotalSeconds)):N0}", "", null);
        Row("  CPU time of the portal (both cores)", $"{Median(full.Select(m => m.Processor.TotalSeconds)):F1} s", "", null);
        Row("  Harbor requests (reports)", $"{last.Harbor.Requests:N0} ({last.Harbor.Reports:N0})", "", null);
        Row("re-sync, nothing changed: wall time", $"{resyncWall:F1} s", $"<= {ResyncTarget.TotalSeconds:F0} s", resyncWall <= ResyncTarget.TotalSeconds);
        Row("  reports fetched / findings written", $"{lastResync.Harbor.Reports} / {lastResync.Run.FindingsNew + lastResync.Run.FindingsUpdated + lastResync.Run.FindingsResolved + lastResync.Run.FindingsReopened}", "0 / 0",
            lastResync.Harbor.Reports == 0 && lastResync.Run.FindingsNew + lastResync.Run.FindingsUpdated + lastResync.Run.FindingsResolved + lastResync.Run.FindingsReopened == 0);
        Row("  Harbor requests", $"{lastResync.Harbor.Requests:N0}", "", null);
        Row("max concurrent Harbor requests", $"{concurrency}", $"<= {ConcurrencyTarget}", concurrency <= ConcurrencyTarget);
        Row("peak memory (RSS of the portal process)", $"{peak / 1024.0 / 1024.0:F0} MB", $"<= {MemoryTargetBytes / 1024 / 1024} MB", peak <= MemoryTargetBytes);
        Console.WriteLine("  (the largest resident set during one full sync and its re-sync, measured from a fresh database each time)");

        var met = fullWall <= FullSyncTarget.TotalSeconds && resyncWall <= ResyncTarget.TotalSeconds && concurrency <= ConcurrencyTarget && peak <= MemoryTargetBytes
            && full.All(m => m.Run.Status == SyncRunStatus.Succeeded) && resync.All(m => m.Run.Status == SyncRunStatus.Succeeded);
        Console.WriteLine(met ? "All targets met." : "Some targets were missed (or a run did not succeed).");
        return met ? 0 : 1;
    }

    private static async Task<Measurement> SyncAsync(BenchmarkPortal portal, long connectionId, SimulatorProcess simulator, CancellationToken cancellationToken)
    {
        long runId;
        await using (var scope = portal.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
            var run = new SyncRun { ConnectionId = connectionId, Status = SyncRunStatus.Pending, RequestedAt = DateTimeOffset.UtcNow, RequestedBy = "benchmark" };
            db.SyncRuns.Add(run);
            await db.SaveChangesAsync(cancellationToken);
            runId = run.Id;
        }

        var harborBefore = await simulator.StatisticsAsync();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        await using (var scope = portal.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<SyncRunner>().RunAsync(connectionId, runId, cancellationToken);
        }

        watch.Stop();
        cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        await using (var scope = portal.Services.CreateAsyncScope())
        {
            var run = await scope.ServiceProvider.GetRequiredService<PortalDbContext>().SyncRuns.AsNoTracking().SingleAsync(r => r.Id == runId, cancellationToken);
            var harbor = await simulator.StatisticsAsync();
            return new Measurement(watch.Elapsed, cpu, run, harbor with { ProcessorTime = harbor.ProcessorTime - harborBefore.ProcessorTime, Requests = harbor.Requests - harborBefore.Requests });
        }
    }

    private static void Row(string name, string measured, string target, bool? met) =>
        Console.WriteLine($"{name,-42} {measured,-20} {target}{(met switch { true => "  ok", false => "  MISSED", null => "" })}");

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    internal static int Option(string[] args, string name, int fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length && int.TryParse(args[index + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0
            ? value
            : fallback;
    }

    /// <param name="Processor">CPU time the portal's process spent during the run (both cores count).</param>
    private sealed record Measurement(TimeSpan Wall, TimeSpan Processor, SyncRun Run, SimulatorStatistics Harbor)
    {
        public override string ToString() =>
            $"{Run.Status} in {Wall.TotalSeconds:F1} s (CPU: portal {Processor.TotalSeconds:F1} s, simulator {Harbor.ProcessorTime.TotalSeconds:F1} s): "
            + $"{Run.ArtifactsSeen:N0} artifacts, {Run.ReportsFetched:N0} reports, {Run.FindingsNew:N0} new findings, "
            + $"{Harbor.Requests:N0} Harbor requests, at most {Harbor.MaxConcurrentRequests} at once, {Run.ErrorCount} errors";
    }
}

/// <summary>
/// The process's largest resident set per repetition: the kernel's own high-water mark (reset between repetitions
/// where Linux allows it) and a 50 ms sample, whichever is larger.
/// </summary>
internal sealed class PeakMemory : IDisposable
{
    private const string Status = "/proc/self/status";
    private const string ClearRefs = "/proc/self/clear_refs";
    private readonly Timer _timer;
    private long _sampled;
    private long _worst;
    private bool _measuring;

    public PeakMemory() => _timer = new Timer(_ => Sample(), null, TimeSpan.Zero, TimeSpan.FromMilliseconds(50));

    /// <summary>The largest peak of any repetition so far, the current one included.</summary>
    public long WorstPeakBytes => Math.Max(Interlocked.Read(ref _worst), CurrentPeak());

    /// <summary>Starts a repetition: what the previous ones left behind is collected, and the high-water mark starts again.</summary>
    public void Reset()
    {
        // The warm-up before the first repetition is not measured.
        var previous = _measuring ? CurrentPeak() : 0;
        _measuring = true;
        long seen;
        while (previous > (seen = Interlocked.Read(ref _worst)) && Interlocked.CompareExchange(ref _worst, previous, seen) != seen)
        {
        }

        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        try
        {
            // "5" resets VmHWM to the current resident set (Linux 4.0+).
            File.WriteAllText(ClearRefs, "5");
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // Not Linux, or not allowed: the mark then covers the whole process's life, an upper bound.
        }

        Interlocked.Exchange(ref _sampled, Environment.WorkingSet);
    }

    private long CurrentPeak()
    {
        Sample();
        return Math.Max(Interlocked.Read(ref _sampled), HighWaterMark() ?? 0);
    }

    private void Sample()
    {
        var current = Environment.WorkingSet;
        long seen;
        while (current > (seen = Interlocked.Read(ref _sampled)) && Interlocked.CompareExchange(ref _sampled, current, seen) != seen)
        {
        }
    }

    // VmHWM in /proc/self/status (Linux), in kB.
    private static long? HighWaterMark()
    {
        if (!File.Exists(Status))
        {
            return null;
        }

        var line = File.ReadLines(Status).FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return line is not null && long.TryParse(line["VmHWM:".Length..].Replace("kB", "", StringComparison.Ordinal).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var kb)
            ? kb * 1024
            : null;
    }

    public void Dispose() => _timer.Dispose();
}
