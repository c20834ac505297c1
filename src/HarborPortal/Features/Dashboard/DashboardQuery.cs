using System.Data.Common;
using System.Globalization;
using HarborPortal.Data;
using HarborPortal.Features.Findings;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace HarborPortal.Features.Dashboard;

/// <summary>
/// Computes <see cref="DashboardFigures"/> for a scope. Counts by severity and tool come from FindingCounts (kept exact by
/// triggers), the trend from FindingSnapshots, dates and ages from the indexes on FirstSeenAt, ResolvedAt and
/// (Status, Severity, FirstSeenAt); only the two top-10 lists group the open findings themselves. Days and weeks are UTC.
/// </summary>
public sealed class DashboardQuery(PortalDbContext db, ArtifactCoverage coverage, IOptions<DashboardOptions> options, TimeProvider time, DashboardCache cache)
{
    public const int TrendDays = 90;
    public const int Weeks = 12;
    public const int ResolveWindowDays = 90;
    public const int TopCount = 10;

    private static readonly FindingStatus[] OpenStatuses = [FindingStatus.Open, FindingStatus.InProgress];
    private static readonly Severity[] SeveritiesDescending = [Severity.Critical, Severity.High, Severity.Medium, Severity.Low, Severity.None, Severity.Unknown];
    private static readonly string OpenCondition = $"\"Status\" IN ({(int)FindingStatus.Open}, {(int)FindingStatus.InProgress})";

    /// <summary>The queue's link for an open-findings filter (status Open and In progress added).</summary>
    public static string QueueLink(FindingFilter filter) => "/findings" + filter.ToQueryString();

    private readonly SqlDialect _dialect = SqlDialect.For(db);

    private static FindingFilter Open => new() { Statuses = OpenStatuses };

    public async Task<DashboardFigures> LoadAsync(FindingScope scope, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var sql = new FindingSql(new FindingFilter(), scope, _dialect);
        var scopeCondition = FindingSql.Where(sql.Terms);

        await TuneConnectionAsync(cancellationToken);

        // Open findings by source tool and severity: a few hundred counter rows.
        var cells = new List<(string Tool, Severity Severity, long Count)>();
        await ReadAsync(
            $"SELECT \"SourceTool\", \"Severity\", sum(\"Count\") FROM \"FindingCounts\" WHERE \"Count\" > 0 AND {OpenCondition} AND {scopeCondition} GROUP BY \"SourceTool\", \"Severity\"",
            sql, r => cells.Add((r.GetString(0), (Severity)r.GetInt32(1), r.GetInt64(2))), cancellationToken);
        var openTotal = cells.Sum(c => c.Count);
        var bySeverity = SeveritiesDescending
            .Select(s => new CountFigure(s.ToString(), cells.Where(c => c.Severity == s).Sum(c => c.Count), QueueLink(Open with { Severities = [s] })))
            .ToList();
        var byTool = cells.GroupBy(c => c.Tool, StringComparer.Ordinal)
            .Select(g => new CountFigure(g.Key, g.Sum(c => c.Count), QueueLink(Open with { SourceTools = [g.Key] })))
            .OrderByDescending(f => f.Count).ThenBy(f => f.Label, StringComparer.Ordinal)
            .ToList();

        // The figures that group every open finding (seconds at a million) are shared for a few minutes per scope.
        var heavy = await cache.GetOrAddAsync(scope, () => HeavyAsync(today, scope, cancellationToken));

        return new DashboardFigures(
            now,
            scope.IsRestricted,
            openTotal,
            QueueLink(Open),
            heavy.UniqueVulnerabilities,
            QueueLink(Open with { Group = FindingGrouping.Vulnerability }),
            bySeverity,
            byTool,
            await TrendAsync(today, openTotal, scope, cancellationToken),
            await WeeksAsync(today, scope, cancellationToken),
            heavy.TopVulnerabilities,
            heavy.TopImages,
            heavy.MeanTimeToResolve,
            await SlaBreachesAsync(today, scope, cancellationToken),
            await LastSyncsAsync(cancellationToken),
            await coverage.CountsAsync(scope, cancellationToken));
    }

    private async Task<HeavyFigures> HeavyAsync(DateOnly today, FindingScope scope, CancellationToken cancellationToken)
    {
        var sql = new FindingSql(new FindingFilter(), scope, _dialect);
        long unique = 0;
        // Everyone: each known id (FindingTerms) probes its own index for one open finding. A developer's few projects:
        // their findings, read by the project index, are fewer than the ids.
        var text = scope.IsRestricted
            ? $"SELECT count(DISTINCT \"VulnerabilityId\") FROM \"Findings\" {IndexFor(sql, scope, null)} WHERE {OpenCondition} AND {FindingSql.Where(sql.Terms)}"
            : $"SELECT count(*) FROM \"FindingTerms\" AS t WHERE t.\"Kind\" = {(int)FindingTermKind.Vulnerability} AND EXISTS "
              + $"(SELECT 1 FROM \"Findings\" {sql.IndexedBy("IX_Findings_VulnerabilityId_Priority")} WHERE \"VulnerabilityId\" = t.\"Value\" AND {OpenCondition})";
        await ReadAsync(text, sql, r => unique = r.GetInt64(0), cancellationToken);
        return new HeavyFigures(
            unique,
            await TopVulnerabilitiesAsync(scope, cancellationToken),
            await TopImagesAsync(scope, cancellationToken),
            await ResolveTimesAsync(today, scope, cancellationToken));
    }

    /// <summary>
    /// The last <see cref="TrendDays"/> days, oldest first: each past day from its snapshot (null when none was taken),
    /// today from the live counts.
    /// </summary>
    private async Task<IReadOnlyList<TrendPoint>> TrendAsync(DateOnly today, long openNow, FindingScope scope, CancellationToken cancellationToken)
    {
        var from = today.AddDays(-(TrendDays - 1));
        var sql = new FindingSql(new FindingFilter(), scope, _dialect);
        var fromText = sql.Parameter(StoredDay(from));
        var todayText = sql.Parameter(StoredDay(today));
        var taken = new HashSet<DateOnly>();
        await ReadAsync(
            $"SELECT \"Day\" FROM \"FindingSnapshots\" WHERE \"Day\" >= {fromText} AND \"Day\" < {todayText} AND \"ConnectionId\" = 0 AND \"ProjectName\" = ''",
            sql, r => taken.Add(ReadDay(r, 0)), cancellationToken);
        var open = new Dictionary<DateOnly, long>();
        await ReadAsync(
            $"SELECT \"Day\", sum(\"Open\") FROM \"FindingSnapshots\" WHERE \"Day\" >= {fromText} AND \"Day\" < {todayText} AND {FindingSql.Where(sql.Terms)} GROUP BY \"Day\"",
            sql, r => open[ReadDay(r, 0)] = r.GetInt64(1), cancellationToken);

        return [.. Enumerable.Range(0, TrendDays).Select(i =>
        {
            var day = from.AddDays(i);
            return new TrendPoint(day, day == today ? openNow : taken.Contains(day) ? open.GetValueOrDefault(day) : null);
        })];
    }

    /// <summary>The last <see cref="Weeks"/> weeks, Monday first, the current (partial) week last.</summary>
    private async Task<IReadOnlyList<WeekFigure>> WeeksAsync(DateOnly today, FindingScope scope, CancellationToken cancellationToken)
    {
        var thisMonday = today.AddDays(-(((int)today.DayOfWeek + 6) % 7));
        var starts = Enumerable.Range(0, Weeks + 1).Select(i => thisMonday.AddDays(7 * (i - Weeks + 1))).ToList();

        async Task<long[]> CountAsync(string column)
        {
            var sql = new FindingSql(new FindingFilter(), scope, _dialect);
            var bounds = starts.Select(d => sql.Parameter(_dialect.Stored(Start(d)))).ToList();
            var bucket = "CASE " + string.Join(" ", Enumerable.Range(1, Weeks).Select(i => $"WHEN \"{column}\" < {bounds[i]} THEN {i - 1}")) + " END";
            var counts = new long[Weeks];
            await ReadAsync(
                $"SELECT {bucket}, count(*) FROM \"Findings\" {IndexFor(sql, scope, $"IX_Findings_{column}")} WHERE \"{column}\" >= {bounds[0]} AND \"{column}\" < {bounds[Weeks]} AND {FindingSql.Where(sql.Terms)} GROUP BY 1",
                sql, r => counts[r.GetInt32(0)] = r.GetInt64(1), cancellationToken);
            return counts;
        }

        var opened = await CountAsync("FirstSeenAt");
        var resolved = await CountAsync("ResolvedAt");
        return [.. Enumerable.Range(0, Weeks).Select(i => new WeekFigure(
            starts[i],
            opened[i], QueueLink(new FindingFilter { FirstSeenFrom = starts[i], FirstSeenTo = starts[i].AddDays(6) }),
            resolved[i], QueueLink(new FindingFilter { ResolvedFrom = starts[i], ResolvedTo = starts[i].AddDays(6) })))];
    }

    private async Task<IReadOnlyList<TopVulnerability>> TopVulnerabilitiesAsync(FindingScope scope, CancellationToken cancellationToken)
    {
        var sql = new FindingSql(new FindingFilter(), scope, _dialect);
        var top = new List<TopVulnerability>();
        // Images are (connection, repository, digest), as the queue's image grouping counts them.
        await ReadAsync(
            "SELECT \"VulnerabilityId\", max(\"WorstSeverity\"), count(*), sum(\"Occurrences\") FROM "
            + $"(SELECT \"VulnerabilityId\", max(\"Severity\") AS \"WorstSeverity\", count(*) AS \"Occurrences\" FROM \"Findings\" {IndexFor(sql, scope, null)} "
            + $"WHERE {OpenCondition} AND {FindingSql.Where(sql.Terms)} GROUP BY \"VulnerabilityId\", \"ConnectionId\", \"RepositoryName\", \"Digest\") AS images "
            + $"GROUP BY \"VulnerabilityId\" ORDER BY 3 DESC, 4 DESC, \"VulnerabilityId\" LIMIT {TopCount}",
            sql,
            r => top.Add(new TopVulnerability(r.GetString(0), (Severity)r.GetInt32(1), r.GetInt64(2), r.GetInt64(3),
                QueueLink(Open with { Vulnerability = r.GetString(0), Group = FindingGrouping.Image }))),
            cancellationToken);
        return top;
    }

    private async Task<IReadOnlyList<TopImage>> TopImagesAsync(FindingScope scope, CancellationToken cancellationToken)
    {
        var sql = new FindingSql(new FindingFilter(), scope, _dialect);
        var top = new List<TopImage>();
        await ReadAsync(
            "SELECT \"ConnectionId\", max(\"ProjectName\"), \"RepositoryName\", \"Digest\", max(\"Tags\"), "
            + $"sum(CASE WHEN \"Severity\" = {(int)Severity.Critical} THEN 1 ELSE 0 END) AS \"Critical\", sum(CASE WHEN \"Severity\" = {(int)Severity.High} THEN 1 ELSE 0 END) AS \"High\" FROM \"Findings\" {IndexFor(sql, scope, null)} "
            + $"WHERE {OpenCondition} AND \"Severity\" IN ({(int)Severity.Critical}, {(int)Severity.High}) AND {FindingSql.Where(sql.Terms)} "
            + $"GROUP BY \"ConnectionId\", \"RepositoryName\", \"Digest\" ORDER BY 6 DESC, 7 DESC, \"RepositoryName\", \"Digest\" LIMIT {TopCount}",
            sql,
            r =>
            {
                var image = Open with { ConnectionIds = [r.GetInt64(0)], Repository = r.GetString(2), Digest = r.GetString(3) };
                top.Add(new TopImage(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetInt64(5), r.GetInt64(6),
                    QueueLink(image with { Severities = [Severity.Critical, Severity.High] }),
                    QueueLink(image with { Severities = [Severity.Critical] })));
            },
            cancellationToken);
        return top;
    }

    /// <summary>Mean days from first seen to resolved, per severity, over findings resolved since the window's first day.</summary>
    private async Task<IReadOnlyList<ResolveTime>> ResolveTimesAsync(DateOnly today, FindingScope scope, CancellationToken cancellationToken)
    {
        var from = today.AddDays(-ResolveWindowDays);
        var sql = new FindingSql(new FindingFilter(), scope, _dialect);
        var rows = new Dictionary<Severity, (long Count, double Days)>();
        // SQLite's stored dates are (ticks / 1000) << 11 in UTC (DateTimeOffsetToBinaryConverter): shifting gives 100 µs
        // units. PostgreSQL subtracts timestamps; its seconds are turned into the same units.
        var resolveTime = _dialect.IsPostgres
            ? "avg(extract(epoch FROM \"ResolvedAt\" - \"FirstSeenAt\") * 10000)::double precision"
            : "avg((\"ResolvedAt\" >> 11) - (\"FirstSeenAt\" >> 11))";
        await ReadAsync(
            $"SELECT \"Severity\", count(*), {resolveTime} FROM \"Findings\" {IndexFor(sql, scope, "IX_Findings_ResolvedAt")} "
            + $"WHERE \"ResolvedAt\" >= {sql.Parameter(_dialect.Stored(Start(from)))} AND \"Status\" = {(int)FindingStatus.Resolved} AND {FindingSql.Where(sql.Terms)} GROUP BY \"Severity\"",
            sql, r => rows[(Severity)r.GetInt32(0)] = (r.GetInt64(1), r.GetDouble(2) * 1000 / TimeSpan.TicksPerDay), cancellationToken);
        return [.. SeveritiesDescending.Where(s => s is not (Severity.None or Severity.Unknown) || rows.ContainsKey(s)).Select(s => new ResolveTime(
            s,
            rows.GetValueOrDefault(s).Count,
            rows.TryGetValue(s, out var row) ? Math.Round(row.Days, 1) : null,
            QueueLink(new FindingFilter { Severities = [s], Statuses = [FindingStatus.Resolved], ResolvedFrom = from })))];
    }

    /// <summary>Open findings first seen on or before the day their SLA allows (whole UTC days: today minus the days, minus one).</summary>
    private async Task<IReadOnlyList<SlaBreach>> SlaBreachesAsync(DateOnly today, FindingScope scope, CancellationToken cancellationToken)
    {
        var breaches = new List<SlaBreach>();
        foreach (var (severity, days) in options.Value.SlaBySeverity)
        {
            var lastDay = today.AddDays(-days - 1);
            var sql = new FindingSql(new FindingFilter(), scope, _dialect);
            long count = 0;
            await ReadAsync(
                $"SELECT count(*) FROM \"Findings\" {IndexFor(sql, scope, "IX_Findings_Status_Severity_FirstSeenAt")} WHERE {OpenCondition} AND \"Severity\" = {(int)severity} "
                + $"AND \"FirstSeenAt\" < {sql.Parameter(_dialect.Stored(Start(lastDay.AddDays(1))))} AND {FindingSql.Where(sql.Terms)}",
                sql, r => count = r.GetInt64(0), cancellationToken);
            breaches.Add(new SlaBreach(severity, days, lastDay, count, QueueLink(Open with { Severities = [severity], FirstSeenTo = lastDay })));
        }

        return breaches;
    }

    private async Task<IReadOnlyList<ConnectionSync>> LastSyncsAsync(CancellationToken cancellationToken)
    {
        var connections = await db.HarborConnections.AsNoTracking().Select(c => new { c.Id, c.Name }).ToListAsync(cancellationToken);
        var latestIds = await db.SyncRuns.AsNoTracking().GroupBy(r => r.ConnectionId).Select(g => g.Max(r => r.Id)).ToListAsync(cancellationToken);
        var runs = await db.SyncRuns.AsNoTracking().Where(r => latestIds.Contains(r.Id)).ToDictionaryAsync(r => r.ConnectionId, cancellationToken);
        return [.. connections.OrderBy(c => c.Name, StringComparer.OrdinalIgnoreCase).Select(c => runs.TryGetValue(c.Id, out var run)
            ? new ConnectionSync(c.Id, c.Name, run.Id, run.Status, run.FinishedAt ?? run.StartedAt ?? run.RequestedAt,
                $"/admin/connections/{c.Id.ToString(CultureInfo.InvariantCulture)}/syncs/{run.Id.ToString(CultureInfo.InvariantCulture)}")
            : new ConnectionSync(c.Id, c.Name, null, null, null, null))];
    }

    // A developer's projects hold few findings beside everyone's: reading them by the project index beats any range over
    // all findings. Everyone's figures name the index that serves their condition.
    private static string IndexFor(FindingSql sql, FindingScope scope, string? everyone) =>
        scope.ProjectNames is { Count: > 0 } ? sql.IndexedBy("IX_Findings_ProjectName_Priority") : everyone is null || scope.IsRestricted ? "" : sql.IndexedBy(everyone);

    private static DateTimeOffset Start(DateOnly day) => new(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);

    private static string Day(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static DateOnly ParseDay(string text) => DateOnly.ParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture);

    // A snapshot's day: text on SQLite (EF's DateOnly), a date on PostgreSQL.
    private object StoredDay(DateOnly day) => _dialect.IsPostgres ? day : Day(day);

    private DateOnly ReadDay(DbDataReader reader, int ordinal) =>
        _dialect.IsPostgres ? reader.GetFieldValue<DateOnly>(ordinal) : ParseDay(reader.GetString(ordinal));

    // As FindingQueue: a memory-mapped file and a larger page cache make the index reads memory reads.
    private async Task TuneConnectionAsync(CancellationToken cancellationToken)
    {
        if (!db.Database.IsSqlite())
        {
            return;
        }

        await db.Database.OpenConnectionAsync(cancellationToken);
        await db.Database.ExecuteSqlRawAsync("PRAGMA mmap_size = 1073741824; PRAGMA cache_size = -32768;", cancellationToken);
    }

    private async Task ReadAsync(string text, FindingSql sql, Action<DbDataReader> row, CancellationToken cancellationToken)
    {
        var connection = db.Database.GetDbConnection();
        if (connection.State != System.Data.ConnectionState.Open)
        {
            await db.Database.OpenConnectionAsync(cancellationToken);
        }

        await using var command = connection.CreateCommand();
        command.CommandText = text;
        sql.AddParametersTo(command);

        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            row(reader);
        }
    }
}
