using System.Data.Common;
using System.Globalization;
using HarborPortal.Data;
using Microsoft.EntityFrameworkCore;

namespace HarborPortal.Features.Findings;

public sealed record FindingPage(IReadOnlyList<Finding> Items, string? NextCursor);

/// <summary>A value of a facet and how many findings have it, the other filters applied (not the facet's own).</summary>
public sealed record FacetValue(string Value, string Label, long Count, bool Selected);

public sealed record FindingFacets(
    IReadOnlyList<FacetValue> SourceTools,
    IReadOnlyList<FacetValue> Severities,
    IReadOnlyList<FacetValue> Priorities,
    IReadOnlyList<FacetValue> Statuses,
    IReadOnlyList<FacetValue> Connections,
    IReadOnlyList<FacetValue> Projects,
    IReadOnlyList<FacetValue> FixAvailable,
    long Occurrences,
    bool Complete = true)
{
    /// <summary>
    /// Facets of a view whose repository, vulnerability, package or date filter leaves too many rows to count on each page:
    /// every choice is still there (count -1, unknown), so the form keeps what is selected.
    /// </summary>
    public static FindingFacets TooMany(FindingFilter filter, long atLeast, IReadOnlyDictionary<long, string> connectionNames)
    {
        var severities = Enumerable.Reverse(Enum.GetValues<Severity>()).ToList();
        return new(
            [.. filter.SourceTools.Select(t => new FacetValue(t, t, -1, true))],
            [.. severities.Select(s => new FacetValue(s.ToString(), s.ToString(), -1, filter.Severities.Contains(s)))],
            [.. severities.Select(s => new FacetValue(s.ToString(), s.ToString(), -1, filter.Priorities.Contains(s)))],
            [.. Enum.GetValues<FindingStatus>().Select(s => new FacetValue(s.ToString(), s.ToString(), -1, filter.Statuses.Contains(s)))],
            [.. connectionNames.OrderBy(c => c.Value, StringComparer.OrdinalIgnoreCase).Select(c => new FacetValue(c.Key.ToString(CultureInfo.InvariantCulture), c.Value, -1, filter.ConnectionIds.Contains(c.Key)))],
            [],
            [new FacetValue("yes", "Fix available", -1, filter.FixAvailable == true), new FacetValue("no", "No fix", -1, filter.FixAvailable == false)],
            atLeast,
            Complete: false);
    }
}

public sealed record VulnerabilityGroup(string VulnerabilityId, string Title, Severity Severity, Severity Priority, double? CvssScore, long Images, long Occurrences, DateTimeOffset FirstSeenAt);

public sealed record ImageGroup(long ConnectionId, string ProjectName, string RepositoryName, string Digest, string Tags, Severity Priority, long Vulnerabilities, long Occurrences, DateTimeOffset LastSeenAt);

public sealed record GroupPage<T>(IReadOnlyList<T> Items, string? NextCursor);

/// <summary>
/// The findings queue's reads: a page in any order with any filters (keyset paging), facet counts, totals, groups and
/// type-ahead suggestions. Written in SQL for SQLite because the plan matters at a million rows: for each page the
/// query picks one of three plans, and names its index (<c>INDEXED BY</c>) so that SQLite cannot pick a worse one.
/// <list type="number">
/// <item>A filter matching few rows (fewer than <see cref="FewRows"/>, counted with a bounded probe of its index): read
/// those rows by that index and sort them.</item>
/// <item>A filter with an index on (its column, the sort key): seek each of its values and merge the ordered runs.</item>
/// <item>Otherwise walk the sort order's own index and keep the rows that pass the filters: with no selective filter,
/// 50 matches come quickly.</item>
/// </list>
/// A cursor splits into "same sort value, smaller id" and "smaller sort value" so that both halves are index seeks.
/// </summary>
public sealed class FindingQueue(PortalDbContext db)
{
    // The context's provider decides the dialect, so a queue made for any context (a job's, a test's) speaks its SQL.
    private readonly SqlDialect _dialect = SqlDialect.For(db);

    public const int DefaultPageSize = 50;
    public const int MaxPageSize = 200;

    /// <summary>Below this many matches, sorting the matches beats walking an order (a few milliseconds either way).</summary>
    public const int FewRows = 8000;

    public const int TopProjects = 10;

    /// <summary>
    /// Facets under a repository, vulnerability, package or date filter group the matching findings themselves: above this
    /// many (a wide date range, a two-letter package search) that would take seconds, so the counts are left out.
    /// </summary>
    public const int MaxNarrowedFacetRows = 50_000;

    /// <summary>The <see cref="MaxNarrowedFacetRows"/> limit this instance uses (tests lower it).</summary>
    public int NarrowedFacetLimit { get; init; } = MaxNarrowedFacetRows;

    private bool _tuned;

    // Between the columns of a group's key in a cursor: a character no repository, digest or id contains.
    private const char KeySeparator = '\u001f';

    /// <summary>The <see cref="FewRows"/> threshold this instance uses (tests lower it to exercise the other plans on small data).</summary>
    public int FewRowsThreshold { get; init; } = FewRows;

    public Task<FindingPage> PageAsync(FindingFilter filter, FindingScope scope, string? after, int limit = DefaultPageSize, CancellationToken cancellationToken = default) =>
        ReadPageAsync(filter, scope, after, Math.Clamp(limit, 1, MaxPageSize), cancellationToken);

    /// <summary>A page of any size (exports read the whole view in chunks larger than a page, in the page's order).</summary>
    internal async Task<FindingPage> ReadPageAsync(FindingFilter filter, FindingScope scope, string? after, int limit, CancellationToken cancellationToken)
    {
        var view = FindingCursor.ViewOf(filter with { Group = FindingGrouping.None });
        var cursor = after is null ? null : FindingCursor.Decode(after, view) ?? throw new InvalidCursorException();
        var sql = await SqlAsync(filter with { Group = FindingGrouping.None }, scope, cancellationToken);

        var sortColumn = FindingSql.SortColumn(filter.Sort);
        var direction = filter.Ascending ? "ASC" : "DESC";
        var beyond = filter.Ascending ? ">" : "<";
        var order = $"ORDER BY {sortColumn} {direction}, \"Id\" {direction}";
        var take = limit + 1;

        (string Value, string Id)? position = null;
        if (cursor is not null)
        {
            position = (sql.Parameter(ParseSortValue(filter.Sort, cursor.Value, _dialect)), sql.Parameter(ParseId(cursor.Key)));
        }

        var plan = await ChoosePlanAsync(sql, filter.Sort, cancellationToken);
        string text;
        if (plan.Kind == PlanKind.FewRows)
        {
            var keyset = position is { } p ? $" AND ({sortColumn}, \"Id\") {beyond} ({p.Value}, {p.Id})" : "";
            // PostgreSQL takes no index hint, and a LIMIT tempts its planner to walk the sort order's index, which crosses the
            // whole table when the few rows lie far along it (or not at all). Materialized, the matches are read by the
            // filter's index and sorted, as SQLite's hint makes it do.
            text = _dialect.IsPostgres
                ? $"WITH few AS MATERIALIZED (SELECT f.* FROM \"Findings\" AS f WHERE {FindingSql.Where(sql.Terms)}{keyset}) SELECT * FROM few {order} LIMIT {take}"
                : $"SELECT f.* FROM \"Findings\" AS f {sql.IndexedBy(plan.Index!)} WHERE {FindingSql.Where(sql.Terms)}{keyset} {order} LIMIT {take}";
        }
        else
        {
            // One ordered run per value of the seeking filter (one run when walking the sort order), each split at the cursor.
            var runs = plan.Ordered!.Runs;
            // Every filter stays in the WHERE, the seeking one too: a run may not spell out its whole condition (a date range).
            var others = FindingSql.Where(sql.Terms);
            var branches = new List<string>();
            foreach (var run in runs)
            {
                var where = run.Length == 0 ? others : $"{run} AND {others}";
                var index = plan.Ordered.Index;
                if (position is { } p)
                {
                    branches.Add($"SELECT * FROM (SELECT f.* FROM \"Findings\" AS f {sql.IndexedBy(index)} WHERE {where} AND {sortColumn} = {p.Value} AND \"Id\" {beyond} {p.Id} {order} LIMIT {take}) AS b{branches.Count}");
                    branches.Add($"SELECT * FROM (SELECT f.* FROM \"Findings\" AS f {sql.IndexedBy(index)} WHERE {where} AND {sortColumn} {beyond} {p.Value} {order} LIMIT {take}) AS b{branches.Count}");
                }
                else
                {
                    branches.Add($"SELECT * FROM (SELECT f.* FROM \"Findings\" AS f {sql.IndexedBy(index)} WHERE {where} {order} LIMIT {take}) AS b{branches.Count}");
                }
            }

            text = branches.Count == 1 && position is null
                ? branches[0]
                : $"SELECT * FROM ({string.Join(" UNION ALL ", branches)}) AS runs {order} LIMIT {take}";
        }

        await TuneConnectionAsync(cancellationToken);
        var rows = await db.Findings.FromSqlRaw(text, sql.ParametersFor(db.Database.GetDbConnection())).AsNoTracking().ToListAsync(cancellationToken);
        if (rows.Count <= limit)
        {
            return new FindingPage(rows, null);
        }

        rows.RemoveAt(limit);
        var last = rows[^1];
        return new FindingPage(rows, new FindingCursor(view, SortValue(filter.Sort, last), last.Id.ToString(CultureInfo.InvariantCulture)).Encode());
    }

    /// <summary>
    /// Facet counts. When every filter is one of the few-valued columns, they come from FindingCounts (a few thousand rows
    /// kept exact by triggers); a filter on a repository, vulnerability, package or date first narrows the findings
    /// themselves, grouped into the same shape. Each facet applies every other filter but not its own, so that its
    /// values are the choices that would change the result.
    /// </summary>
    public async Task<FindingFacets> FacetsAsync(FindingFilter filter, FindingScope scope, CancellationToken cancellationToken = default)
    {
        var sql = await SqlAsync(filter, scope, cancellationToken);
        var narrowing = sql.Terms.Where(t => !t.InFacetCounts).ToList();
        var scopeTerm = sql.Terms.Where(t => t.Name == "scope").ToList();
        string text;
        if (narrowing.Count == 0)
        {
            text = $"SELECT {FacetColumns}, \"Count\" FROM \"FindingCounts\" WHERE \"Count\" > 0 AND {FindingSql.Where(scopeTerm)}";
        }
        else
        {
            long narrowed = 0;
            var probeIndex = narrowing.First(t => t.Index is not null).Index;
            await ReadAsync($"SELECT count(*) FROM (SELECT 1 FROM \"Findings\" {sql.IndexedBy(probeIndex!)} WHERE {FindingSql.Where(scopeTerm.Concat(narrowing))} LIMIT {NarrowedFacetLimit + 1}) AS probe",
                sql, reader => narrowed = reader.GetInt64(0), cancellationToken);
            if (narrowed > NarrowedFacetLimit)
            {
                return FindingFacets.TooMany(filter, NarrowedFacetLimit, await db.HarborConnections.AsNoTracking().ToDictionaryAsync(c => c.Id, c => c.Name, cancellationToken));
            }

            text = $"SELECT {FacetColumns}, count(*) FROM \"Findings\" WHERE {FindingSql.Where(scopeTerm.Concat(narrowing))} GROUP BY {FacetColumns}";
        }

        var cells = new List<CountCell>();
        await ReadAsync(text, sql, reader => cells.Add(new CountCell(
            reader.GetInt64(0), reader.GetString(1), reader.GetString(2), (Severity)reader.GetInt32(3), (Severity)reader.GetInt32(4),
            (FindingStatus)reader.GetInt32(5), reader.GetBoolean(6), reader.GetInt64(7))), cancellationToken);

        var connectionNames = await db.HarborConnections.AsNoTracking().ToDictionaryAsync(c => c.Id, c => c.Name, cancellationToken);

        bool Passes(CountCell c, string except) =>
            (except == "source" || filter.SourceTools.Count == 0 || filter.SourceTools.Contains(c.SourceTool, StringComparer.Ordinal))
            && (except == "severity" || filter.Severities.Count == 0 || filter.Severities.Contains(c.Severity))
            && (except == "priority" || filter.Priorities.Count == 0 || filter.Priorities.Contains(c.Priority))
            && (except == "status" || filter.Statuses.Count == 0 || filter.Statuses.Contains(c.Status))
            && (except == "connection" || filter.ConnectionIds.Count == 0 || filter.ConnectionIds.Contains(c.ConnectionId))
            && (except == "project" || filter.Project is null || c.ProjectName == filter.Project)
            && (except == "fix" || filter.FixAvailable is null || c.FixAvailable == filter.FixAvailable);

        List<FacetValue> Facet<TKey>(string name, Func<CountCell, TKey> key, Func<TKey, string> value, Func<TKey, string> label, Func<TKey, bool> selected, IEnumerable<TKey>? always = null)
            where TKey : notnull
        {
            var counts = cells.Where(c => Passes(c, name)).GroupBy(key).ToDictionary(g => g.Key, g => g.Sum(c => c.Count));
            foreach (var k in always ?? [])
            {
                counts.TryAdd(k, 0);
            }

            return counts.Select(p => new FacetValue(value(p.Key), label(p.Key), p.Value, selected(p.Key))).ToList();
        }

        var severities = Enumerable.Reverse(Enum.GetValues<Severity>()).ToList();
        var projects = Facet("project", c => c.ProjectName, p => p, p => p, p => p == filter.Project)
            .OrderByDescending(f => f.Selected).ThenByDescending(f => f.Count).ThenBy(f => f.Value, StringComparer.Ordinal).Take(TopProjects).ToList();

        return new FindingFacets(
            Facet("source", c => c.SourceTool, s => s, s => s, s => filter.SourceTools.Contains(s, StringComparer.Ordinal)).OrderByDescending(f => f.Count).ToList(),
            Order(Facet("severity", c => c.Severity, s => s.ToString(), s => s.ToString(), filter.Severities.Contains, severities), severities),
            Order(Facet("priority", c => c.Priority, s => s.ToString(), s => s.ToString(), filter.Priorities.Contains, severities), severities),
            Facet("status", c => c.Status, s => s.ToString(), s => s.ToString(), filter.Statuses.Contains, Enum.GetValues<FindingStatus>()).OrderBy(f => Enum.Parse<FindingStatus>(f.Value)).ToList(),
            Facet("connection", c => c.ConnectionId, id => id.ToString(CultureInfo.InvariantCulture),
                id => connectionNames.GetValueOrDefault(id) ?? $"Connection {id} (deleted)", filter.ConnectionIds.Contains).OrderBy(f => f.Label, StringComparer.OrdinalIgnoreCase).ToList(),
            projects,
            Facet("fix", c => c.FixAvailable, f => f ? "yes" : "no", f => f ? "Fix available" : "No fix", f => filter.FixAvailable == f, [true, false]).OrderByDescending(f => f.Value).ToList(),
            cells.Where(c => Passes(c, "")).Sum(c => c.Count));

        static List<FacetValue> Order(List<FacetValue> values, List<Severity> order) =>
            [.. values.OrderBy(v => order.IndexOf(Enum.Parse<Severity>(v.Value)))];
    }

    /// <summary>How many distinct vulnerabilities the filtered findings are occurrences of.</summary>
    public async Task<long> CountVulnerabilitiesAsync(FindingFilter filter, FindingScope scope, CancellationToken cancellationToken = default)
    {
        var sql = await SqlAsync(filter, scope, cancellationToken);
        long count = 0;
        await ReadAsync($"SELECT count(DISTINCT \"VulnerabilityId\") FROM \"Findings\" WHERE {FindingSql.Where(sql.Terms)}", sql,
            reader => count = reader.GetInt64(0), cancellationToken);
        return count;
    }

    /// <summary>One row per vulnerability: its worst priority among the filtered findings and how many images it is in.</summary>
    public async Task<GroupPage<VulnerabilityGroup>> VulnerabilitiesAsync(FindingFilter filter, FindingScope scope, string? after, int limit = DefaultPageSize, CancellationToken cancellationToken = default)
    {
        var (keys, next) = await GroupKeysAsync(filter, scope, after, limit, ["VulnerabilityId"], "IX_Findings_VulnerabilityId_Priority", cancellationToken);
        if (keys.Count == 0)
        {
            return new GroupPage<VulnerabilityGroup>([], null);
        }

        var sql = await SqlAsync(filter, scope, cancellationToken);
        var ids = string.Join(", ", keys.Select(k => sql.Parameter(k[0])));
        var groups = new Dictionary<string, VulnerabilityGroup>(StringComparer.Ordinal);
        await ReadAsync(
            "SELECT \"VulnerabilityId\", min(\"Title\"), max(\"Severity\"), max(\"Priority\"), max(\"CvssScore\"), count(DISTINCT \"Digest\"), count(*), min(\"FirstSeenAt\") "
            + $"FROM \"Findings\" {sql.IndexedBy("IX_Findings_VulnerabilityId_Priority")} WHERE \"VulnerabilityId\" IN ({ids}) AND {FindingSql.Where(sql.Terms)} GROUP BY \"VulnerabilityId\"",
            sql,
            reader => groups[reader.GetString(0)] = new VulnerabilityGroup(reader.GetString(0), reader.GetString(1), (Severity)reader.GetInt32(2), (Severity)reader.GetInt32(3),
                reader.IsDBNull(4) ? null : reader.GetDouble(4), reader.GetInt64(5), reader.GetInt64(6), _dialect.ReadDate(reader, 7)),
            cancellationToken);
        return new GroupPage<VulnerabilityGroup>([.. keys.Select(k => groups[k[0]])], next);
    }

    /// <summary>One row per image (repository@digest): its worst priority and how many vulnerabilities it has.</summary>
    public async Task<GroupPage<ImageGroup>> ImagesAsync(FindingFilter filter, FindingScope scope, string? after, int limit = DefaultPageSize, CancellationToken cancellationToken = default)
    {
        var (keys, next) = await GroupKeysAsync(filter, scope, after, limit, ["ConnectionId", "RepositoryName", "Digest"], "IX_Findings_ConnectionId_RepositoryName_Digest", cancellationToken);
        if (keys.Count == 0)
        {
            return new GroupPage<ImageGroup>([], null);
        }

        var sql = await SqlAsync(filter, scope, cancellationToken);
        var images = string.Join(", ", keys.Select(k => $"({sql.Parameter(long.Parse(k[0], CultureInfo.InvariantCulture))}, {sql.Parameter(k[1])}, {sql.Parameter(k[2])})"));
        var groups = new Dictionary<string, ImageGroup>(StringComparer.Ordinal);
        await ReadAsync(
            "SELECT \"ConnectionId\", min(\"ProjectName\"), \"RepositoryName\", \"Digest\", max(\"Tags\"), max(\"Priority\"), count(DISTINCT \"VulnerabilityId\"), count(*), max(\"LastSeenAt\") "
            + $"FROM \"Findings\" {sql.IndexedBy("IX_Findings_ConnectionId_RepositoryName_Digest")} WHERE (\"ConnectionId\", \"RepositoryName\", \"Digest\") IN (VALUES {images}) AND {FindingSql.Where(sql.Terms)} "
            + "GROUP BY \"ConnectionId\", \"RepositoryName\", \"Digest\"",
            sql,
            reader =>
            {
                var group = new ImageGroup(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                    (Severity)reader.GetInt32(5), reader.GetInt64(6), reader.GetInt64(7), _dialect.ReadDate(reader, 8));
                groups[ImageKey(group.ConnectionId.ToString(CultureInfo.InvariantCulture), group.RepositoryName, group.Digest)] = group;
            },
            cancellationToken);
        return new GroupPage<ImageGroup>([.. keys.Select(k => groups[ImageKey(k[0], k[1], k[2])])], next);

        static string ImageKey(string connection, string repository, string digest) => $"{connection}|{repository}@{digest}";
    }

    /// <summary>
    /// The filter's SQL. On PostgreSQL a package text is first turned into the names it matches (one trigram index read):
    /// as a subquery its row count is a guess of one, and the planner then read every finding of ~85 packages matching
    /// "ssl" to sort them (0.5 s on a million findings); with the names as an array it knows there are 68,000 and walks
    /// the sort order instead (7 ms). A text matching very many names stays a subquery.
    /// </summary>
    private async Task<FindingSql> SqlAsync(FindingFilter filter, FindingScope scope, CancellationToken cancellationToken)
    {
        if (!_dialect.IsPostgres || filter.Package is not { } package)
        {
            return new FindingSql(filter, scope, _dialect);
        }

        var lookup = new FindingSql(new FindingFilter(), FindingScope.Everything, _dialect);
        var names = new List<string>();
        await ReadAsync($"{lookup.PackageNamesMatching(package)} LIMIT {MaxPackageNames + 1}", lookup, reader => names.Add(reader.GetString(0)), cancellationToken);
        return new FindingSql(filter, scope, _dialect, names.Count <= MaxPackageNames ? names : null);
    }

    private const int MaxPackageNames = 1000;

    /// <summary>
    /// Up to <paramref name="limit"/> known values of a many-valued filter containing <paramref name="text"/> (from three
    /// characters, through the trigram index; shorter text matches the start), for type-ahead. A developer only gets
    /// values from the projects their teams own.
    /// </summary>
    public async Task<IReadOnlyList<string>> SuggestAsync(FindingTermKind kind, string? text, FindingScope scope, int limit = 10, CancellationToken cancellationToken = default)
    {
        text = (text ?? "").Trim();
        if (text.Length == 0 || text.Length > FindingFilter.MaxTextLength)
        {
            return [];
        }

        var sql = new FindingSql(new FindingFilter(), FindingScope.Everything, _dialect);
        var matching = sql.TermMatching("t.\"Value\"", "t.\"Id\"", text);

        var column = kind switch
        {
            FindingTermKind.Project => "ProjectName",
            FindingTermKind.Repository => "RepositoryName",
            FindingTermKind.Vulnerability => "VulnerabilityId",
            FindingTermKind.Package => "PackageName",
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };

        // Only values some finding in scope still has: a term outlives its findings, and a developer must not learn
        // another team's repository names. The EXISTS probes an index of findings led by the column once per candidate;
        // repositories have none of their own, so they are sought in the sync's (ConnectionId, RepositoryName, Digest)
        // index once per connection with findings, as the repository filter does. (Left to itself, SQLite 3.53 planned
        // that probe so that one type-ahead for "team" took 283 s on a million findings; PostgreSQL has no skip scan.)
        var probe = kind == FindingTermKind.Repository
            ? $"f.\"ConnectionId\" IN (SELECT DISTINCT \"ConnectionId\" FROM \"FindingCounts\") AND f.\"RepositoryName\" = t.\"Value\""
            : $"f.\"{column}\" = t.\"Value\"";
        var scopeCondition = scope.ProjectNames is { } owned
            ? owned.Count == 0 ? " AND FALSE" : $" AND f.\"ProjectName\" IN ({string.Join(", ", owned.Select(p => sql.Parameter(p)))})"
            : "";
        var text2 = $"SELECT t.\"Value\" FROM \"FindingTerms\" AS t WHERE t.\"Kind\" = {(int)kind} AND {matching} "
            + $"AND EXISTS (SELECT 1 FROM \"Findings\" AS f WHERE {probe}{scopeCondition}) "
            + $"ORDER BY length(t.\"Value\"), t.\"Value\" LIMIT {Math.Clamp(limit, 1, 50)}";
        var values = new List<string>();
        await ReadAsync(text2, sql, reader => values.Add(reader.GetString(0)), cancellationToken);
        return values;
    }

    private static string GroupAggregate(FindingSortKey key) => key switch
    {
        FindingSortKey.Priority => "max(\"Priority\")",
        FindingSortKey.Severity => "max(\"Severity\")",
        FindingSortKey.Cvss => "max(\"CvssRank\")",
        FindingSortKey.FirstSeen => "min(\"FirstSeenAt\")",
        FindingSortKey.LastSeen => "max(\"LastSeenAt\")",
        _ => throw new ArgumentOutOfRangeException(nameof(key)),
    };

    /// <summary>
    /// The keys of one page of groups, ordered by an aggregate of the sort key with the group's key as tie-break (both in the
    /// cursor). Only the key and the aggregate are computed over the whole filtered set — through the grouping's own
    /// index, or the index of a filter that matches few rows — and the page's details are read afterwards for its keys.
    /// </summary>
    private async Task<(List<string[]> Keys, string? Next)> GroupKeysAsync(
        FindingFilter filter, FindingScope scope, string? after, int limit, string[] keyColumns, string groupIndex, CancellationToken cancellationToken)
    {
        limit = Math.Clamp(limit, 1, MaxPageSize);
        var view = FindingCursor.ViewOf(filter);
        var cursor = after is null ? null : FindingCursor.Decode(after, view) ?? throw new InvalidCursorException();
        var sql = await SqlAsync(filter, scope, cancellationToken);
        var aggregate = GroupAggregate(filter.Sort);
        var direction = filter.Ascending ? "ASC" : "DESC";
        var beyond = filter.Ascending ? ">" : "<";
        var key = string.Join(", ", keyColumns.Select(c => $"\"{c}\""));
        var having = "";
        if (cursor is not null)
        {
            var parts = cursor.Key.Split(KeySeparator);
            if (parts.Length != keyColumns.Length)
            {
                throw new InvalidCursorException();
            }

            var keyValues = parts.Select((part, i) => keyColumns[i] == "ConnectionId" ? sql.Parameter(ParseId(part)) : sql.Parameter(part));
            having = $" HAVING ({aggregate}, {key}) {beyond} ({sql.Parameter(ParseSortValue(filter.Sort, cursor.Value, _dialect))}, {string.Join(", ", keyValues)})";
        }

        var plan = await ChoosePlanAsync(sql, filter.Sort, cancellationToken);
        var index = plan.Kind == PlanKind.FewRows ? plan.Index : groupIndex;
        var text = $"SELECT {key}, {aggregate} FROM \"Findings\" {sql.IndexedBy(index!)} WHERE {FindingSql.Where(sql.Terms)} GROUP BY {key}{having} "
            + $"ORDER BY {aggregate} {direction}, {string.Join(", ", keyColumns.Select(c => $"\"{c}\" {direction}"))} LIMIT {limit + 1}";
        var keys = new List<string[]>();
        var sortValues = new List<string>();
        await ReadAsync(text, sql, reader =>
        {
            keys.Add([.. keyColumns.Select((_, i) => Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture) ?? "")]);
            sortValues.Add(filter.Sort is FindingSortKey.FirstSeen or FindingSortKey.LastSeen
                ? CursorDate(_dialect.ReadDate(reader, keyColumns.Length), _dialect)
                : Convert.ToString(reader.GetValue(keyColumns.Length), CultureInfo.InvariantCulture) ?? "0");
        }, cancellationToken);

        if (keys.Count <= limit)
        {
            return (keys, null);
        }

        keys.RemoveAt(limit);
        return (keys, new FindingCursor(view, sortValues[limit - 1], string.Join(KeySeparator, keys[^1])).Encode());
    }

    private async Task<Plan> ChoosePlanAsync(FindingSql sql, FindingSortKey sort, CancellationToken cancellationToken)
    {
        // Probe each filter's own index for up to FewRows matches: a few index entries each, never the table.
        FilterTerm? fewest = null;
        var fewestCount = long.MaxValue;
        foreach (var term in sql.Terms.Where(t => t.Index is not null))
        {
            long count = 0;
            await ReadAsync($"SELECT count(*) FROM (SELECT 1 FROM \"Findings\" {sql.IndexedBy(term.Index!)} WHERE {term.Condition} LIMIT {Math.Max(FewRowsThreshold, 1)}) AS probe", sql,
                reader => count = reader.GetInt64(0), cancellationToken);
            if (count < fewestCount)
            {
                (fewest, fewestCount) = (term, count);
            }
        }

        if (fewest is not null && fewestCount < FewRowsThreshold)
        {
            return new Plan(PlanKind.FewRows, fewest.Index!, fewest, null);
        }

        if (sql.Terms.FirstOrDefault(t => t.SortedByItsValue?.Contains(sort) == true) is { } clustered)
        {
            return new Plan(PlanKind.FewRows, clustered.Index!, clustered, null);
        }

        if (sql.Terms.FirstOrDefault(t => t.OrderedIndexes?.ContainsKey(sort) == true) is { } seeking)
        {
            return new Plan(PlanKind.Seek, null, seeking, seeking.OrderedIndexes![sort]);
        }

        return new Plan(PlanKind.Walk, null, null, FindingSql.SortIndex(sort));
    }

    /// <summary>
    /// Once per context: memory-maps the database file and enlarges the page cache of the (pooled) connection. The default
    /// 2 MB cache makes every row a walk visits a system call; mapped, it is a memory read.
    /// </summary>
    private async Task TuneConnectionAsync(CancellationToken cancellationToken)
    {
        if (_tuned || !db.Database.IsSqlite())
        {
            return;
        }

        _tuned = true;
        await db.Database.OpenConnectionAsync(cancellationToken);
        await db.Database.ExecuteSqlRawAsync("PRAGMA mmap_size = 1073741824; PRAGMA cache_size = -32768;", cancellationToken);
    }

    private async Task ReadAsync(string text, FindingSql sql, Action<DbDataReader> row, CancellationToken cancellationToken)
    {
        await TuneConnectionAsync(cancellationToken);
        var connection = db.Database.GetDbConnection();
        var opened = connection.State != System.Data.ConnectionState.Open;
        if (opened)
        {
            await connection.OpenAsync(cancellationToken);
        }

        try
        {
            await using var command = connection.CreateCommand();
            command.CommandText = text;
            sql.AddParametersTo(command);

            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                row(reader);
            }
        }
        finally
        {
            if (opened)
            {
                await connection.CloseAsync();
            }
        }
    }

    private static object ParseSortValue(FindingSortKey key, string value, SqlDialect dialect)
    {
        try
        {
            return key switch
            {
                FindingSortKey.Cvss => double.Parse(value, NumberStyles.Float, CultureInfo.InvariantCulture),
                FindingSortKey.FirstSeen or FindingSortKey.LastSeen => ParseCursorDate(long.Parse(value, NumberStyles.Integer, CultureInfo.InvariantCulture), dialect),
                // Priority and severity are integer columns: an int keeps PostgreSQL's comparison on the column's own type.
                _ => int.Parse(value, NumberStyles.Integer, CultureInfo.InvariantCulture),
            };
        }
        catch (FormatException)
        {
            throw new InvalidCursorException();
        }
        catch (OverflowException)
        {
            throw new InvalidCursorException();
        }
    }

    private static long ParseId(string key) =>
        long.TryParse(key, NumberStyles.Integer, CultureInfo.InvariantCulture, out var id) ? id : throw new InvalidCursorException();

    /// <summary>
    /// A date in a cursor, exactly as the database compares it: SQLite's stored number (100 µs steps), or on PostgreSQL
    /// the UTC ticks (its timestamps keep microseconds, which the stored number would round away and the seek would miss).
    /// </summary>
    private static string CursorDate(DateTimeOffset value, SqlDialect dialect) =>
        (dialect.IsPostgres ? value.UtcTicks : FindingSql.Stored(value)).ToString(CultureInfo.InvariantCulture);

    private static object ParseCursorDate(long value, SqlDialect dialect)
    {
        if (!dialect.IsPostgres)
        {
            return value;
        }

        return value >= 0 && value <= DateTime.MaxValue.Ticks ? new DateTimeOffset(value, TimeSpan.Zero) : throw new InvalidCursorException();
    }

    private string SortValue(FindingSortKey key, Finding finding) => key switch
    {
        FindingSortKey.Priority => ((int)finding.Priority).ToString(CultureInfo.InvariantCulture),
        FindingSortKey.Severity => ((int)finding.Severity).ToString(CultureInfo.InvariantCulture),
        FindingSortKey.Cvss => finding.CvssRank.ToString("R", CultureInfo.InvariantCulture),
        FindingSortKey.FirstSeen => CursorDate(finding.FirstSeenAt, _dialect),
        FindingSortKey.LastSeen => CursorDate(finding.LastSeenAt, _dialect),
        _ => throw new ArgumentOutOfRangeException(nameof(key)),
    };

    // FindingCounts' key, the facets' shape.
    private const string FacetColumns = "\"ConnectionId\", \"ProjectName\", \"SourceTool\", \"Severity\", \"Priority\", \"Status\", \"FixAvailable\"";

    private enum PlanKind
    {
        FewRows,
        Seek,
        Walk,
    }

    private sealed record Plan(PlanKind Kind, string? Index, FilterTerm? Term, OrderedIndex? Ordered);

    private sealed record CountCell(long ConnectionId, string ProjectName, string SourceTool, Severity Severity, Severity Priority, FindingStatus Status, bool FixAvailable, long Count);
}
