using System.Globalization;
using Microsoft.Data.Sqlite;
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

/// <summary>
/// Turns a <see cref="FindingFilter"/> and a <see cref="FindingScope"/> into SQL terms with parameters. Values are
/// always parameters; only column and index names (constants here) are written into the text.
/// </summary>
internal sealed class FindingSql
{
    private readonly List<SqliteParameter> _parameters = [];

    public FindingSql(FindingFilter filter, FindingScope scope)
    {
        Filter = filter;
        Terms = BuildTerms(filter, scope);
    }

    public FindingFilter Filter { get; }

    public IReadOnlyList<FilterTerm> Terms { get; }

    public IReadOnlyList<SqliteParameter> Parameters => _parameters;

    public static long Stored(DateTimeOffset value) => StoredDates.ToStored(value);

    public static DateTimeOffset FromStored(long value) => StoredDates.FromStored(value);

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
        var name = "$p" + _parameters.Count.ToString(CultureInfo.InvariantCulture);
        _parameters.Add(new SqliteParameter(name, value ?? DBNull.Value));
        return name;
    }

    /// <summary>Every term joined with AND (or "1" when there is none).</summary>
    public static string Where(IEnumerable<FilterTerm> terms)
    {
        var conditions = terms.Select(t => t.Condition).ToList();
        return conditions.Count == 0 ? "1" : string.Join(" AND ", conditions);
    }

    /// <summary>
    /// The condition matching <paramref name="text"/> inside package names: the FTS5 trigram index over the distinct names
    /// when it has three characters or more, else a prefix range on the names' unique index. Never a scan of findings.
    /// </summary>
    public string PackageNamesMatching(string text)
    {
        if (text.Length >= 3)
        {
            // A phrase in double quotes (quotes doubled inside) so that FTS5 reads the text literally, operators and all.
            var phrase = Parameter("\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"");
            return $"SELECT \"Value\" FROM \"FindingTerms\" WHERE \"Kind\" = {(int)FindingTermKind.Package} AND \"Id\" IN "
                + $"(SELECT rowid FROM \"FindingTermsSearch\" WHERE \"FindingTermsSearch\" MATCH {phrase})";
        }

        var low = Parameter(text);
        var high = Parameter(text + "\uffff");
        return $"SELECT \"Value\" FROM \"FindingTerms\" WHERE \"Kind\" = {(int)FindingTermKind.Package} AND \"Value\" >= {low} AND \"Value\" < {high}";
    }

    private List<FilterTerm> BuildTerms(FindingFilter filter, FindingScope scope)
    {
        var terms = new List<FilterTerm>();

        // A developer's scope comes first: it is a filter like the others, applied before anything is read.
        if (scope.ProjectNames is { } owned)
        {
            terms.Add(owned.Count == 0
                ? new FilterTerm("scope", "0", null, InFacetCounts: true)
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
            terms.Add(new FilterTerm("fix", $"\"FixAvailable\" = {(fix ? 1 : 0)}", null, InFacetCounts: true));
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
            terms.Add(new FilterTerm("package", $"\"PackageName\" IN ({PackageNamesMatching(package)})", "IX_Findings_PackageName_Priority", InFacetCounts: false));
        }

        if (filter.FirstSeenFrom is not null || filter.FirstSeenTo is not null)
        {
            var conditions = new List<string>();
            if (filter.FirstSeenFrom is { } from)
            {
                conditions.Add($"\"FirstSeenAt\" >= {Parameter(Stored(new DateTimeOffset(from.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero)))}");
            }

            if (filter.FirstSeenTo is { } to)
            {
                conditions.Add($"\"FirstSeenAt\" < {Parameter(Stored(new DateTimeOffset(to.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero)))}");
            }

            terms.Add(new FilterTerm("first-seen", string.Join(" AND ", conditions), "IX_Findings_FirstSeenAt", InFacetCounts: false,
                new Dictionary<FindingSortKey, OrderedIndex> { [FindingSortKey.FirstSeen] = new("IX_Findings_FirstSeenAt", [""]) }));
        }

        if (filter.ResolvedFrom is not null || filter.ResolvedTo is not null)
        {
            var conditions = new List<string>();
            if (filter.ResolvedFrom is { } from)
            {
                conditions.Add($"\"ResolvedAt\" >= {Parameter(Stored(new DateTimeOffset(from.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero)))}");
            }

            if (filter.ResolvedTo is { } to)
            {
                conditions.Add($"\"ResolvedAt\" < {Parameter(Stored(new DateTimeOffset(to.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero)))}");
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
