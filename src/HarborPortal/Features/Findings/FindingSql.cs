using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace HarborPortal.Features.Findings;

/// <summary>
/// One filter of a query as SQL: its condition, the index that finds its rows, and the indexes that find them already
/// in a sort order (the filter's column first, the sort key next, the rowid last).
/// </summary>
internal sealed record FilterTerm(
    string Name,
    string Condition,
    string? Index,
    bool InFacetCounts,
    IReadOnlyDictionary<FindingSortKey, string>? OrderedIndexes = null,
    IReadOnlyList<string>? PerValueConditions = null);

/// <summary>
/// Turns a <see cref="FindingFilter"/> and a <see cref="FindingScope"/> into SQL terms with parameters. Values are
/// always parameters; only column and index names (constants here) are written into the text.
/// </summary>
internal sealed class FindingSql
{
    private static readonly DateTimeOffsetToBinaryConverter Dates = new();

    private readonly List<SqliteParameter> _parameters = [];

    public FindingSql(FindingFilter filter, FindingScope scope)
    {
        Filter = filter;
        Terms = BuildTerms(filter, scope);
    }

    public FindingFilter Filter { get; }

    public IReadOnlyList<FilterTerm> Terms { get; }

    public IReadOnlyList<SqliteParameter> Parameters => _parameters;

    /// <summary>The stored form of a date (EF keeps DateTimeOffset as a sortable 64-bit number in SQLite).</summary>
    public static long Stored(DateTimeOffset value) => (long)Dates.ConvertToProvider(value.ToUniversalTime())!;

    public static DateTimeOffset FromStored(long value) => (DateTimeOffset)Dates.ConvertFromProvider(value)!;

    public static string SortColumn(FindingSortKey key) => key switch
    {
        FindingSortKey.Priority => "\"Priority\"",
        FindingSortKey.Severity => "\"Severity\"",
        FindingSortKey.Cvss => "\"CvssRank\"",
        FindingSortKey.FirstSeen => "\"FirstSeenAt\"",
        FindingSortKey.LastSeen => "\"LastSeenAt\"",
        _ => throw new ArgumentOutOfRangeException(nameof(key)),
    };

    /// <summary>The index that keeps every finding in this sort order (for a page with no selective filter).</summary>
    public static string SortIndex(FindingSortKey key) => key switch
    {
        FindingSortKey.Priority => "IX_Findings_Priority",
        FindingSortKey.Severity => "IX_Findings_Severity",
        FindingSortKey.Cvss => "IX_Findings_CvssRank",
        FindingSortKey.FirstSeen => "IX_Findings_FirstSeenAt",
        FindingSortKey.LastSeen => "IX_Findings_LastSeenAt",
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
            terms.Add(Few("source", "SourceTool", filter.SourceTools.Cast<object>().ToList(), "IX_Findings_SourceTool_Priority",
                new Dictionary<FindingSortKey, string> { [FindingSortKey.Priority] = "IX_Findings_SourceTool_Priority" }));
        }

        if (filter.Severities.Count > 0)
        {
            terms.Add(Few("severity", "Severity", filter.Severities.Select(s => (object)(int)s).ToList(), "IX_Findings_Severity",
                new Dictionary<FindingSortKey, string>
                {
                    [FindingSortKey.Priority] = "IX_Findings_Severity_Priority",
                    [FindingSortKey.Cvss] = "IX_Findings_Severity_CvssRank",
                    [FindingSortKey.Severity] = "IX_Findings_Severity",
                }));
        }

        if (filter.Priorities.Count > 0)
        {
            terms.Add(Few("priority", "Priority", filter.Priorities.Select(s => (object)(int)s).ToList(), "IX_Findings_Priority",
                new Dictionary<FindingSortKey, string>
                {
                    [FindingSortKey.Severity] = "IX_Findings_Priority_Severity",
                    [FindingSortKey.Cvss] = "IX_Findings_Priority_CvssRank",
                    [FindingSortKey.Priority] = "IX_Findings_Priority",
                }));
        }

        if (filter.Statuses.Count > 0)
        {
            terms.Add(Few("status", "Status", filter.Statuses.Select(s => (object)(int)s).ToList(), "IX_Findings_Status_LastSeenAt",
                new Dictionary<FindingSortKey, string> { [FindingSortKey.LastSeen] = "IX_Findings_Status_LastSeenAt" }));
        }

        if (filter.ConnectionIds.Count > 0)
        {
            terms.Add(Few("connection", "ConnectionId", filter.ConnectionIds.Cast<object>().ToList(), "IX_Findings_ConnectionId_Status", null));
        }

        if (filter.Project is { } project)
        {
            terms.Add(Few("project", "ProjectName", [project], "IX_Findings_ProjectName_Priority",
                new Dictionary<FindingSortKey, string> { [FindingSortKey.Priority] = "IX_Findings_ProjectName_Priority" }));
        }

        if (filter.FixAvailable is { } fix)
        {
            // Half the findings either way: no index would pay for itself, the sort order's walk finds 50 at once.
            terms.Add(new FilterTerm("fix", $"\"FixAvailable\" = {(fix ? 1 : 0)}", null, InFacetCounts: true));
        }

        if (filter.Repository is { } repository)
        {
            terms.Add(Few("repository", "RepositoryName", [repository], "IX_Findings_RepositoryName_Priority",
                new Dictionary<FindingSortKey, string> { [FindingSortKey.Priority] = "IX_Findings_RepositoryName_Priority" }, inFacetCounts: false));
        }

        if (filter.Vulnerability is { } vulnerability)
        {
            // Ids are compared without case (cve-2024-1 finds CVE-2024-1) through the distinct ids, so the findings' own
            // index still serves the exact spelling.
            var spellings = string.Join(", ", Spellings(vulnerability).Select(s => Parameter(s)));
            terms.Add(new FilterTerm("vulnerability",
                $"\"VulnerabilityId\" IN (SELECT \"Value\" FROM \"FindingTerms\" WHERE \"Kind\" = {(int)FindingTermKind.Vulnerability} AND \"Value\" IN ({spellings}))",
                "IX_Findings_VulnerabilityId_Priority", InFacetCounts: false));
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
                new Dictionary<FindingSortKey, string> { [FindingSortKey.FirstSeen] = "IX_Findings_FirstSeenAt" }));
        }

        return terms;
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

    private FilterTerm Few(string name, string column, IReadOnlyList<object> values, string index, IReadOnlyDictionary<FindingSortKey, string>? ordered, bool inFacetCounts = true)
    {
        var names = values.Select(Parameter).ToList();
        var condition = names.Count == 1 ? $"\"{column}\" = {names[0]}" : $"\"{column}\" IN ({string.Join(", ", names)})";
        return new FilterTerm(name, condition, index, inFacetCounts, ordered, names.Select(n => $"\"{column}\" = {n}").ToList());
    }

    private string List(IEnumerable<string> values) => string.Join(", ", values.Select(v => Parameter(v)));
}

/// <summary>Whose findings a query may read: everything (Security, Admin, Viewer), or the projects a developer's teams own.</summary>
public sealed record FindingScope(IReadOnlyList<string>? ProjectNames)
{
    public static readonly FindingScope Everything = new((IReadOnlyList<string>?)null);

    public bool IsRestricted => ProjectNames is not null;

    public bool Allows(string projectName) => ProjectNames is null || ProjectNames.Contains(projectName, StringComparer.Ordinal);
}
