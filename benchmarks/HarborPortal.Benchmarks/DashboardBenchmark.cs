using System.Diagnostics;
using System.Globalization;
using HarborPortal.Data;
using HarborPortal.Features.Dashboard;
using HarborPortal.Features.Findings;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace HarborPortal.Benchmarks;

/// <summary>
/// The dashboard's figures (<see cref="DashboardQuery"/>, what <c>/</c> and <c>/api/v1/dashboard</c> run) on the database
/// the <c>queue</c> benchmark seeds and keeps (<c>queue --keep PATH</c>, a million findings): migrates it (the dashboard's
/// table and indexes), writes 90 days of snapshots, then times every figure for everyone and for a developer's scope.
/// Options: <c>--db PATH</c> (required on SQLite), <c>--runs N</c> (default 5). On PostgreSQL (<c>--database postgres</c>)
/// the <c>--postgres</c> database the queue benchmark seeded, topped up to <c>--findings N</c> (default 1,000,000) by the
/// same seeding, or an own cluster seeded first.
/// </summary>
public sealed class DashboardBenchmark : IDatabaseBenchmark
{
    public string Name => "dashboard";

    public string Description => "dashboard figures (/ and /api/v1/dashboard) on a database kept by `queue --keep PATH`: dashboard --db PATH (or --database postgres)";

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        await using var database = BenchmarkDatabase.FromArgs(args);
        var index = Array.IndexOf(args, "--db");
        if (!database.IsPostgres && (index < 0 || index + 1 >= args.Length || !File.Exists(args[index + 1])))
        {
            Console.Error.WriteLine("dashboard needs --db PATH: a database kept by `queue --keep PATH` (or --database postgres).");
            return 2;
        }

        var runsIndex = Array.IndexOf(args, "--runs");
        var runs = runsIndex >= 0 && runsIndex + 1 < args.Length ? int.Parse(args[runsIndex + 1], CultureInfo.InvariantCulture) : 5;
        var connectionString = database.IsPostgres
            ? await database.KeptDatabaseAsync("hp_dashboard", cancellationToken)
            : new SqliteConnectionStringBuilder { DataSource = args[index + 1], Pooling = true, DefaultTimeout = 600 }.ToString();
        await using var contexts = database.Contexts(connectionString);
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        if (database.IsPostgres)
        {
            // The queue benchmark's million findings: already there on a --postgres database it seeded, else seeded now.
            var findingsIndex = Array.IndexOf(args, "--findings");
            var findings = findingsIndex >= 0 && findingsIndex + 1 < args.Length ? int.Parse(args[findingsIndex + 1], CultureInfo.InvariantCulture) : 1_000_000;
            await QueueBenchmark.SeedPostgresAsync(contexts, new SyntheticFindings(seed: 42), findings, cancellationToken);
        }

        await using (var db = contexts.Create())
        {
            var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
            var migrating = Stopwatch.StartNew();
            await db.Database.MigrateAsync(cancellationToken);
            if (pending.Count > 0)
            {
                await db.Database.ExecuteSqlRawAsync("ANALYZE;", cancellationToken);
                Console.WriteLine($"Migrated ({string.Join(", ", pending)}) and analysed in {migrating.Elapsed.TotalSeconds:N1} s");
            }

            var snapshots = Stopwatch.StartNew();
            var written = 0;
            for (var day = today.AddDays(-DashboardQuery.TrendDays); day < today; day = day.AddDays(1))
            {
                written += await FindingSnapshotJob.WriteAsync(db, day, cancellationToken) ? 1 : 0;
            }

            var findingCount = await db.Findings.LongCountAsync(cancellationToken);
            Console.WriteLine($"Snapshots: wrote {written} days in {snapshots.Elapsed.TotalMilliseconds:N0} ms ({await db.FindingSnapshots.CountAsync(cancellationToken):N0} rows); "
                + $"findings: {findingCount:N0}");
            BenchmarkResults.Note($"{findingCount:N0} findings");
            if (written > 0)
            {
                BenchmarkResults.Record($"snapshots: {written} days written", snapshots.Elapsed.TotalMilliseconds, "ms");
            }
        }

        var developerProjects = new List<string>();
        await using (var db = contexts.Create())
        {
            developerProjects = await db.FindingCounts.Select(c => c.ProjectName).Distinct().OrderBy(p => p).Take(3).ToListAsync(cancellationToken);
        }

        Console.WriteLine($"Load average before measuring: {(File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a")}");
        foreach (var (name, scope) in new[] { ("everyone", FindingScope.Everything), ($"developer ({string.Join(", ", developerProjects)})", new FindingScope(developerProjects)) })
        {
            // Cold: a fresh cache each run, so every figure is computed (the first run warms SQLite's page cache and is not counted).
            var cold = new List<double>();
            DashboardFigures? figures = null;
            var cache = new DashboardCache(TimeProvider.System);
            for (var run = 0; run < runs + 1; run++)
            {
                cache = new DashboardCache(TimeProvider.System);
                var watch = Stopwatch.StartNew();
                figures = await LoadAsync(contexts, scope, cache, cancellationToken);
                if (run > 0)
                {
                    cold.Add(watch.Elapsed.TotalMilliseconds);
                }
            }

            // Warm: the heavy figures (unique vulnerabilities, top 10s, MTTR) from the cache, as within DashboardCache.MaxAge.
            var warm = new List<double>();
            for (var run = 0; run < runs; run++)
            {
                var watch = Stopwatch.StartNew();
                await LoadAsync(contexts, scope, cache, cancellationToken);
                warm.Add(watch.Elapsed.TotalMilliseconds);
            }

            cold.Sort();
            warm.Sort();
            Console.WriteLine($"Dashboard for {name} ({figures!.OpenFindings:N0} open, {figures.UniqueVulnerabilities:N0} unique vulnerabilities): "
                + $"every figure computed median {cold[cold.Count / 2]:N0} ms (max {cold[^1]:N0}); heavy figures cached median {warm[warm.Count / 2]:N0} ms (max {warm[^1]:N0}); {runs} runs each");
            var who = name == "everyone" ? "everyone" : "developer (3 projects)";
            BenchmarkResults.Record($"dashboard for {who}: every figure computed, median", cold[cold.Count / 2], "ms");
            BenchmarkResults.Record($"dashboard for {who}: heavy figures cached, median", warm[warm.Count / 2], "ms");
        }

        Console.WriteLine($"Load average after measuring: {(File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a")}");
        return 0;
    }

    private static async Task<DashboardFigures> LoadAsync(PortalContexts contexts, FindingScope scope, DashboardCache cache, CancellationToken cancellationToken)
    {
        await using var db = contexts.Create();
        var dashboardOptions = Options.Create(new DashboardOptions());
        var query = new DashboardQuery(db, new ArtifactCoverage(db, dashboardOptions, TimeProvider.System), dashboardOptions, TimeProvider.System, cache);
        return await query.LoadAsync(scope, cancellationToken);
    }
}
