using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using HarborPortal.Data;
using HarborPortal.Features.Findings;
using HarborPortal.Features.ThreatData;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace HarborPortal.Benchmarks;

/// <summary>
/// Threat data on a million findings: how long a KEV and an EPSS replacement take (parse, swap the table, re-evaluate the
/// findings of the CVEs whose standing changed), a re-import that changes nothing, and turning a feed off. Runs on the
/// database the queue benchmark keeps (<c>queue --keep PATH</c>), whose vulnerabilities it reads by the same seed.
/// Options: <c>--db PATH</c> (required on SQLite), <c>--kev N</c> (KEV entries, default 1,400), <c>--epss N</c> (scores, default 300,000);
/// <c>--database postgres [--postgres CS]</c>: the queue benchmark's PostgreSQL database, seeded first when empty (<c>--findings N</c>).
/// </summary>
public sealed class ThreatDataBenchmark : IDatabaseBenchmark
{
    public string Name => "threat";

    public string Description => "threat data: KEV/EPSS replacement and priority recompute on the queue benchmark's kept database (--db PATH)";

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        await using var database = BenchmarkDatabase.FromArgs(args);
        var path = Option(args, "--db");
        if (!database.IsPostgres && (path is null || !File.Exists(path)))
        {
            await Console.Error.WriteLineAsync("threat needs --db PATH: a database seeded by `queue --keep PATH` (or --database postgres).");
            return 2;
        }

        var kevCount = int.Parse(Option(args, "--kev") ?? "1400", CultureInfo.InvariantCulture);
        var epssCount = int.Parse(Option(args, "--epss") ?? "300000", CultureInfo.InvariantCulture);
        await using var contexts = database.Contexts(database.IsPostgres
            ? await database.KeptDatabaseAsync("hp_threat", cancellationToken)
            : new SqliteConnectionStringBuilder { DataSource = path, DefaultTimeout = 60 }.ToString());
        if (database.IsPostgres)
        {
            // The queue benchmark's findings: there already on a --postgres database it seeded, else seeded now.
            await QueueBenchmark.SeedPostgresAsync(contexts, new SyntheticFindings(seed: 42), int.Parse(Option(args, "--findings") ?? "1000000", CultureInfo.InvariantCulture), cancellationToken);
        }

        try
        {
            await using var db = contexts.Create();
            await db.Database.MigrateAsync(cancellationToken);
            var findings = await db.Findings.LongCountAsync(cancellationToken);
            var cves = (await db.Findings.Select(f => f.VulnerabilityId).Distinct().ToListAsync(cancellationToken)).Where(v => v.StartsWith("CVE-", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
            Console.WriteLine($"Dataset: {findings:N0} findings, {cves.Count:N0} distinct CVEs; KEV {kevCount:N0} entries, EPSS {epssCount:N0} scores");
            BenchmarkResults.Note($"{findings:N0} findings, {cves.Count:N0} distinct CVEs; KEV {kevCount:N0} entries, EPSS {epssCount:N0} scores");

            await db.ThreatFeeds.ExecuteDeleteAsync(cancellationToken);
            await db.KevEntries.ExecuteDeleteAsync(cancellationToken);
            await db.EpssScores.ExecuteDeleteAsync(cancellationToken);
            db.ThreatFeeds.AddRange(new ThreatFeed { Kind = ThreatFeedKind.Kev, Enabled = true }, new ThreatFeed { Kind = ThreatFeedKind.Epss, Enabled = true });
            await db.SaveChangesAsync(cancellationToken);
            db.ChangeTracker.Clear();

            var kev = Kev(cves, kevCount);
            var epss = Epss(cves, epssCount);
            Console.WriteLine($"Files: KEV {kev.Length / 1024:N0} KB JSON, EPSS {epss.Length / 1024:N0} KB gzip");
            Console.WriteLine($"{"step",-44} {"seconds",8} {"priorities changed",20}");
            await MeasureAsync(db, "KEV upload (first, feed enabled)", () => Upload(db, ThreatFeedKind.Kev, kev, cancellationToken));
            await MeasureAsync(db, "EPSS upload (first, gzip)", () => Upload(db, ThreatFeedKind.Epss, epss, cancellationToken));
            await MeasureAsync(db, "KEV upload again (nothing changed)", () => Upload(db, ThreatFeedKind.Kev, kev, cancellationToken));
            await MeasureAsync(db, "EPSS upload again (nothing changed)", () => Upload(db, ThreatFeedKind.Epss, epss, cancellationToken));
            await MeasureAsync(db, "KEV turned off (recompute its CVEs)", async () =>
            {
                await db.ThreatFeeds.Where(f => f.Kind == ThreatFeedKind.Kev).ExecuteUpdateAsync(s => s.SetProperty(f => f.Enabled, false), cancellationToken);
                return await ThreatPriorities.RecomputeAsync(db, await ThreatPriorities.EffectiveAsync(db, ThreatFeedKind.Kev, cancellationToken), DateTimeOffset.UtcNow, cancellationToken);
            });
            await MeasureAsync(db, "lookup loaded once per sync run", async () => (await ThreatIntel.LoadAsync(db, cancellationToken)).IsEmpty ? 0 : 1);
            return 0;
        }
        finally
        {
            SqliteConnection.ClearAllPools();
        }
    }

    private static async Task<int> Upload(PortalDbContext db, ThreatFeedKind kind, byte[] file, CancellationToken cancellationToken)
    {
        var importer = new ThreatFeedImporter(db, null!, Options.Create(new ThreatDataOptions()), TimeProvider.System, NullLogger<ThreatFeedImporter>.Instance);
        var result = await importer.UploadAsync(kind, new MemoryStream(file), "benchmark", cancellationToken);
        return result.Succeeded ? result.PrioritiesChanged : throw new InvalidOperationException(result.Message);
    }

    private static async Task MeasureAsync(PortalDbContext db, string step, Func<Task<int>> action)
    {
        var watch = Stopwatch.StartNew();
        var changed = await action();
        db.ChangeTracker.Clear();
        Console.WriteLine($"{step,-44} {watch.Elapsed.TotalSeconds,8:N2} {changed,20:N0}");
        BenchmarkResults.Record(step, watch.Elapsed.TotalSeconds, "s");
    }

    // Every n-th CVE of the dataset: KEV entries spread over popular and rare vulnerabilities alike.
    private static byte[] Kev(List<string> cves, int count)
    {
        var step = Math.Max(1, cves.Count / Math.Max(1, count));
        var entries = cves.Where((_, i) => i % step == 0).Take(count).Select(cve => new Dictionary<string, string>
        {
            ["cveID"] = cve, ["vendorProject"] = "Vendor", ["product"] = "Product", ["vulnerabilityName"] = $"{cve} vulnerability", ["dateAdded"] = "2026-01-15",
            ["shortDescription"] = "A synthetic entry.", ["requiredAction"] = "Apply updates per vendor instructions.", ["dueDate"] = "2026-02-05", ["knownRansomwareCampaignUse"] = "Unknown",
        }).ToList();
        return JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["title"] = "synthetic", ["catalogVersion"] = "2026.11.20", ["dateReleased"] = "2026-11-20T15:00:00.000Z", ["count"] = entries.Count, ["vulnerabilities"] = entries,
        });
    }

    // Every dataset CVE gets a score (about 6 % at or above 10 %), and made-up CVEs fill up to a real file's size.
    private static byte[] Epss(List<string> cves, int count)
    {
        var text = new StringBuilder("#model_version:v2025.03.14,score_date:2026-11-21T12:55:00Z\ncve,epss,percentile\n");
        var random = new Random(11);
        foreach (var cve in cves.Concat(Enumerable.Range(0, Math.Max(0, count - cves.Count)).Select(i => $"CVE-2099-{100000 + i}")))
        {
            var probability = random.NextDouble() < 0.06 ? 0.1 + random.NextDouble() * 0.9 : random.NextDouble() * 0.09;
            text.Append(CultureInfo.InvariantCulture, $"{cve},{probability:0.00000},{random.NextDouble():0.00000}\n");
        }

        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Optimal))
        {
            gzip.Write(Encoding.UTF8.GetBytes(text.ToString()));
        }

        return buffer.ToArray();
    }

    private static string? Option(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }
}
