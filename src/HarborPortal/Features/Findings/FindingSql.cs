using System.Data.Common;
using System.Globalization;
using HarborPortal.Data;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace HarborPortal.Features.Findings;

/// <summary>
/// An index that yields rows in a sort order: each run (a set of equalities on the index's leading columns) comes out
/// ordered by (sort key, rowid), and merging the runs gives the whole order. One run when the sort key follows the
/// filter's column; one per value of a few-valued sort key when it comes before it.
/// </summary>
internal sealed record OrderedIndex(string Index, IReadOnlyList<string> Runs);

/// <summary>One filter of a query as SQL: its condition, the index that finds its rows, and the indexes that find them in order.</summary>
internal sealed record FilterTerm(
    string Name,
    string Condition,
    string? Index,
    bool InFacetCounts,
    IReadOnlyDictionary<FindingSortKey, OrderedIndex>? OrderedIndexes = null,
    IReadOnlySet<FindingSortKey>? SortedByItsValue = null);

/// <summary>A value bound to a named parameter of hand-written SQL, whatever the provider.</summary>
internal sealed record SqlValue(string Name, object Value);

/// <summary>
/// Turns a <see cref="FindingFilter"/> and a <see cref="FindingScope"/> into SQL terms with parameters. Values are
/// always parameters; only column and index names (constants here) are written into the text. The text runs on SQLite
/// and PostgreSQL alike: the few differences (dates, index hints, text search) come from <see cref="SqlDialect"/>.
/// </summary>
internal sealed class FindingSql
{
    private readonly List<SqlValue> _parameters = [];

    /// <param name="packageNames">PostgreSQL: the package names the filter's text matches, read beforehand
    /// (<see cref="FindingQueue"/>), so that the planner sees how many findings they have; null: matched inside the query.</param>
    public FindingSql(FindingFilter filter, FindingScope scope, SqlDialect dialect, IReadOnlyList<string>? packageNames = null)
    {
        Filter = filter;
        Dialect = dialect;
        _packageNames = packageNames;
        Terms = BuildTerms(filter, scope);
    }

    private readonly IReadOnlyList<string>? _packageNames;

    public FindingFilter Filter { get; }

    public SqlDialect Dialect { get; }

    public IReadOnlyList<FilterTerm> Terms { get; }

    public IReadOnlyList<SqlValue> Parameters => _parameters;

    /// <summary>A date as the cursor and the SQLite store write it (a sortable 64-bit number), whatever the provider.</summary>
    public static long Stored(DateTimeOffset value) => StoredDates.ToStored(value);

    public static DateTimeOffset FromStored(long value) => StoredDates.FromStored(value);

    /// <summary>The provider's parameters for a command of <paramref name="command"/>'s connection.</summary>
    public void AddParametersTo(DbCommand command)
    {
        foreach (var value in _parameters)
        {
            command.Parameters.Add(CreateParameter(command, value));
        }
    }

    /// <summary>The parameters as the provider's own objects, for <c>FromSqlRaw</c>.</summary>
    public object[] ParametersFor(DbConnection connection)
    {
        using var command = connection.CreateCommand();
        return [.. _parameters.Select(value => CreateParameter(command, value))];
    }

    private static DbParameter CreateParameter(DbCommand command, SqlValue value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = value.Name;
        parameter.Value = value.Value;
        return parameter;
    }

    /// <summary>An index hint for SQLite (nothing on PostgreSQL, whose planner has statistics instead).</summary>
    public string IndexedBy(string index) => Dialect.IndexedBy(index);

    public static string SortColumn(FindingSortKey key) => key switch
    {
        FindingSortKey.Priority => "\"Priority\"",
        FindingSortKey.Severity => "\"Severity\"",
        FindingSortKey.Cvss => "\"CvssRank\"",
        FindingSortKey.FirstSeen => "\"FirstSeenAt\"",
        FindingSortKey.LastSeen => "\"LastSeenAt\"",
        _ => throw new ArgumentOutOfRangeException(nameof(key)),
    };

    /// <summary>
    /// The index that keeps every finding in this sort order (for a page with no selective filter). "Last seen" has none of
    /// its own: (Status, LastSeenAt) gives it in two runs, one per status, and saves every insert an index.
    /// </summary>
    public static OrderedIndex SortIndex(FindingSortKey key) => key switch
    {
        FindingSortKey.Priority => new("IX_Findings_Priority", [""]),
        FindingSortKey.Severity => new("IX_Findings_Severity", [""]),
        FindingSortKey.Cvss => new("IX_Findings_CvssRank", [""]),
        FindingSortKey.FirstSeen => new("IX_Findings_FirstSeenAt", [""]),
        FindingSortKey.LastSeen => new("IX_Findings_Status_LastSeenAt", [.. Enum.GetValues<FindingStatus>().Select(s => $"\"Status\" = {(int)s}")]),
        _ => throw new ArgumentOutOfRangeException(nameof(key)),
    };

    public string Parameter(object? value)
    {
        // "@" names: both providers read them (Npgsql rewrites them to positional parameters).
        var name = "@p" + _parameters.Count.ToString(CultureInfo.InvariantCulture);
        _parameters.Add(new SqlValue(name, value ?? DBNull.Value));
        return name;
    }

    /// <summary>Every term joined with AND (or TRUE when there is none).</summary>
    public static string Where(IEnumerable<FilterTerm> terms)
    {
        var conditions = terms.Select(t => t.Condition).ToList();
        return conditions.Count == 0 ? "TRUE" : string.Join(" AND ", conditions);
    }

    /// <summary>
    /// The condition on <paramref name="column"/> (a FindingTerms value) for type-ahead text: from three characters any
    /// inner run of characters, case-insensitively; shorter text matches the start. SQLite: the FTS5 trigram table over
    /// the terms, and a range on the terms' unique index. PostgreSQL: ILIKE and LIKE, both served by the trigram GIN index
    /// <c>IX_FindingTerms_Value_Trigram</c> (pg_trgm pads the start of a value, so a one-character prefix has a trigram).
    /// </summary>
    public string TermMatching(string column, string idColumn, string text)
    {
        if (Dialect.IsPostgres)
        {
            var pattern = text.Length >= 3 ? $"%{EscapeLike(text)}%" : $"{EscapeLike(text)}%";
            return $"{column} {(text.Length >= 3 ? "ILIKE" : "LIKE")} {Parameter(pattern)}";
        }

        if (text.Length >= 3)
        {
            // A phrase in double quotes (quotes doubled inside) so that FTS5 reads the text literally, operators and all.
            var phrase = Parameter("\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"");
            return $"{idColumn} IN (SELECT rowid FROM \"FindingTermsSearch\" WHERE \"FindingTermsSearch\" MATCH {phrase})";
        }

        return $"{column} >= {Parameter(text)} AND {column} < {Parameter(text + "\uffff")}";
    }

    // LIKE's wildcards and its escape character (PostgreSQL's default escape is the backslash) taken literally.
    private static string EscapeLike(string text) =>
        text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);

    /// <summary>
    /// The condition matching <paramref name="text"/> inside package names: the FTS5 trigram index over the distinct names
    /// when it has three characters or more, else a prefix range on the names' unique index. Never a scan of findings.
    /// </summary>
    public string PackageNamesMatching(string text) =>
        $"SELECT \"Value\" FROM \"FindingTerms\" WHERE \"Kind\" = {(int)FindingTermKind.Package} AND {TermMatching("\"Value\"", "\"Id\"", text)}";

    private List<FilterTerm> BuildTerms(FindingFilter filter, FindingScope scope)
    {
        var terms = new List<FilterTerm>();

        // A developer's scope comes first: it is a filter like the others, applied before anything is read.
        if (scope.ProjectNames is { } owned)
        {
            terms.Add(owned.Count == 0
                ? new FilterTerm("scope", "FALSE", null, InFacetCounts: true)
                : new FilterTerm("scope", $"\"ProjectName\" IN ({List(owned)})", "IX_Findings_ProjectName_Priority", InFacetCounts: true));
        }

        if (filter.SourceTools.Count > 0)
        {
            var values = Values(filter.SourceTools);
            terms.Add(Few("source", "SourceTool", values, "IX_Findings_SourceTool_Priority",
                new() { [FindingSortKey.Priority] = Runs("IX_Findings_SourceTool_Priority", "SourceTool", values) }));
        }

        if (filter.Severities.Count > 0)
        {
            var values = Values(filter.Severities.Select(s => (int)s));
            terms.Add(Few("severity", "Severity", values, "IX_Findings_Severity", new()
            {
                [FindingSortKey.Severity] = Runs("IX_Findings_Severity", "Severity", values),
                [FindingSortKey.Cvss] = Runs("IX_Findings_Severity_CvssRank", "Severity", values),
                // (Priority, Severity) read once per priority: six runs per severity, merged in priority order.
                [FindingSortKey.Priority] = new("IX_Findings_Priority_Severity",
                    [.. Enum.GetValues<Severity>().SelectMany(p => values.Select(v => $"\"Priority\" = {(int)p} AND \"Severity\" = {v}"))]),
            }));
        }

        if (filter.Priorities.Count > 0)
        {
            var values = Values(filter.Priorities.Select(s => (int)s));
            terms.Add(Few("priority", "Priority", values, "IX_Findings_Priority", new()
            {
                [FindingSortKey.Priority] = Runs("IX_Findings_Priority", "Priority", values),
                [FindingSortKey.Severity] = Runs("IX_Findings_Priority_Severity", "Priority", values),
                [FindingSortKey.Cvss] = Runs("IX_Findings_Priority_CvssRank", "Priority", values),
            }));
        }

        if (filter.Statuses.Count > 0)
        {
            var values = Values(filter.Statuses.Select(s => (int)s));
            terms.Add(Few("status", "Status", values, "IX_Findings_Status_LastSeenAt",
                new() { [FindingSortKey.LastSeen] = Runs("IX_Findings_Status_LastSeenAt", "Status", values) }));
        }

        if (filter.ConnectionIds.Count > 0)
        {
            terms.Add(Few("connection", "ConnectionId", Values(filter.ConnectionIds), "IX_Findings_ConnectionId_Status", null));
        }

        if (filter.Project is { } project)
        {
            var values = Values([project]);
            terms.Add(Few("project", "ProjectName", values, "IX_Findings_ProjectName_Priority",
                new() { [FindingSortKey.Priority] = Runs("IX_Findings_ProjectName_Priority", "ProjectName", values) }));
        }

        if (filter.FixAvailable is { } fix)
        {
            // Half the findings either way: no index would pay for itself, the sort order's walk finds 50 at once.
            terms.Add(new FilterTerm("fix", $"\"FixAvailable\" = {(fix ? "TRUE" : "FALSE")}", null, InFacetCounts: true));
        }

        if (filter.Repository is { } repository)
        {
            // The sync's own (ConnectionId, RepositoryName, Digest) index, sought once per connection that has findings:
            // a repository's findings are few, and one index fewer keeps inserts cheaper.
            terms.Add(new FilterTerm("repository",
                $"\"ConnectionId\" IN (SELECT DISTINCT \"ConnectionId\" FROM \"FindingCounts\") AND \"RepositoryName\" = {Parameter(repository)}",
                "IX_Findings_ConnectionId_RepositoryName_Digest", InFacetCounts: false));
        }

        if (filter.Digest is { } digest)
        {
            // With a repository, one image: the sync's (ConnectionId, RepositoryName, Digest) index seeks it; alone, the
            // same index is read without touching the table.
            terms.Add(new FilterTerm("digest",
                $"\"ConnectionId\" IN (SELECT DISTINCT \"ConnectionId\" FROM \"FindingCounts\")"
                + (filter.Repository is { } imageRepository ? $" AND \"RepositoryName\" = {Parameter(imageRepository)}" : "")
                + $" AND \"Digest\" = {Parameter(digest)}",
                "IX_Findings_ConnectionId_RepositoryName_Digest", InFacetCounts: false));
        }

        if (filter.Vulnerability is { } vulnerability)
        {
            // Ids are compared without case (cve-2024-1 finds CVE-2024-1) through the distinct ids, so the findings' own
            // index still serves the exact spelling.
            var spellings = string.Join(", ", Spellings(vulnerability).Select(s => Parameter(s)));
            // A vulnerability has one severity and one score: walking either order would cross every other
            // vulnerability's rows before reaching its one value, so those orders read its rows and sort them.
            terms.Add(new FilterTerm("vulnerability",
                $"\"VulnerabilityId\" IN (SELECT \"Value\" FROM \"FindingTerms\" WHERE \"Kind\" = {(int)FindingTermKind.Vulnerability} AND \"Value\" IN ({spellings}))",
                "IX_Findings_VulnerabilityId_Priority", InFacetCounts: false,
                new Dictionary<FindingSortKey, OrderedIndex> { [FindingSortKey.Priority] = new("IX_Findings_VulnerabilityId_Priority", [""]) },
                SortedByItsValue: new HashSet<FindingSortKey> { FindingSortKey.Severity, FindingSortKey.Cvss }));
        }

        if (filter.Package is { } package)
        {
            var names = _packageNames is { } known ? Parameter(known.ToArray()) : null;
            terms.Add(new FilterTerm("package",
                names is null ? $"\"PackageName\" IN ({PackageNamesMatching(package)})" : $"\"PackageName\" = ANY({names})",
                "IX_Findings_PackageName_Priority", InFacetCounts: false));
        }

        if (filter.FirstSeenFrom is not null || filter.FirstSeenTo is not null)
        {
            var conditions = new List<string>();
            if (filter.FirstSeenFrom is { } from)
            {
                conditions.Add($"\"FirstSeenAt\" >= {Parameter(Dialect.Stored(new DateTimeOffset(from.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero)))}");
            }

            if (filter.FirstSeenTo is { } to)
            {
                conditions.Add($"\"FirstSeenAt\" < {Parameter(Dialect.Stored(new DateTimeOffset(to.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero)))}");
            }

            terms.Add(new FilterTerm("first-seen", string.Join(" AND ", conditions), "IX_Findings_FirstSeenAt", InFacetCounts: false,
                new Dictionary<FindingSortKey, OrderedIndex> { [FindingSortKey.FirstSeen] = new("IX_Findings_FirstSeenAt", [""]) }));
        }

        if (filter.ResolvedFrom is not null || filter.ResolvedTo is not null)
        {
            var conditions = new List<string>();
            if (filter.ResolvedFrom is { } from)
            {
                conditions.Add($"\"ResolvedAt\" >= {Parameter(Dialect.Stored(new DateTimeOffset(from.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero)))}");
            }

            if (filter.ResolvedTo is { } to)
            {
                conditions.Add($"\"ResolvedAt\" < {Parameter(Dialect.Stored(new DateTimeOffset(to.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero)))}");
            }

            // The dashboard's index (migration 20261123040000): resolved findings are few beside open ones.
            terms.Add(new FilterTerm("resolved", string.Join(" AND ", conditions), "IX_Findings_ResolvedAt", InFacetCounts: false));
        }

        AddTriageTerms(terms, filter, scope);
        return terms;
    }

    // Triage's filters narrow like a repository does (not in FindingCounts); their partial indexes hold only assigned rows.
    private void AddTriageTerms(List<FilterTerm> terms, FindingFilter filter, FindingScope scope)
    {
        if (filter.Assignee is { } assignee)
        {
            terms.Add(assignee.Equals(FindingFilter.AssigneeNone, StringComparison.OrdinalIgnoreCase)
                ? new FilterTerm("assignee", "\"AssignedTo\" IS NULL", "IX_Findings_Priority", InFacetCounts: false)
                : new FilterTerm("assignee",
                    $"\"AssignedTo\" = {Parameter(assignee.Equals(FindingFilter.AssigneeMe, StringComparison.OrdinalIgnoreCase) ? scope.UserName ?? "" : assignee)}",
                    "IX_Findings_AssignedTo_Priority", InFacetCounts: false));
        }

        if (filter.TeamId is { } team)
        {
            terms.Add(new FilterTerm("team", $"\"AssignedTeamId\" = {Parameter(team)}", "IX_Findings_AssignedTeamId_Priority", InFacetCounts: false));
        }
    }

    // Vulnerability ids as scanners write them: CVE-2024-1234 in capitals, GHSA-abcd-efgh-ijkl with a capital prefix only.
    // Looking up these spellings keeps the search an index seek where a case-insensitive comparison would be a scan.
    private static IEnumerable<string> Spellings(string id)
    {
        var dash = id.IndexOf('-', StringComparison.Ordinal);
        return new[]
        {
            id,
            id.ToUpperInvariant(),
            id.ToLowerInvariant(),
            dash > 0 ? id[..dash].ToUpperInvariant() + id[dash..].ToLowerInvariant() : id,
        }.Distinct(StringComparer.Ordinal);
    }

    private List<string> Values<T>(IEnumerable<T> values) => [.. values.Select(v => Parameter(v))];

    private static OrderedIndex Runs(string index, string column, IReadOnlyList<string> values) =>
        new(index, [.. values.Select(v => $"\"{column}\" = {v}")]);

    private static FilterTerm Few(string name, string column, IReadOnlyList<string> values, string index, Dictionary<FindingSortKey, OrderedIndex>? ordered) =>
        new(name, values.Count == 1 ? $"\"{column}\" = {values[0]}" : $"\"{column}\" IN ({string.Join(", ", values)})", index, InFacetCounts: true, ordered);

    private string List(IEnumerable<string> values) => string.Join(", ", values.Select(v => Parameter(v)));
}

/// <summary>Whose findings a query may read: everything (Security, Admin, Viewer), or the projects a developer's teams own.</summary>
public sealed record FindingScope(IReadOnlyList<string>? ProjectNames)
{
    public static readonly FindingScope Everything = new((IReadOnlyList<string>?)null);

    public bool IsRestricted => ProjectNames is not null;

    /// <summary>Who reads: what the queue's <c>assignee=me</c> means.</summary>
    public string? UserName { get; init; }

    public bool Allows(string projectName) => ProjectNames is null || ProjectNames.Contains(projectName, StringComparer.Ordinal);
}

/// <summary>Dates as SQLite stores them for EF (a sortable 64-bit number, see SqlitePortalDbContext), for hand-written SQL.</summary>
public static class StoredDates
{
    private static readonly DateTimeOffsetToBinaryConverter Converter = new();

    public static long ToStored(DateTimeOffset value) => (long)Converter.ConvertToProvider(value.ToUniversalTime())!;

    public static DateTimeOffset FromStored(long value) => (DateTimeOffset)Converter.ConvertFromProvider(value)!;
}
