using System.Globalization;
using Microsoft.Extensions.Primitives;

namespace HarborPortal.Features.Findings;

public enum FindingSortKey
{
    Priority,
    Severity,
    Cvss,
    FirstSeen,
    LastSeen,
}

public enum FindingGrouping
{
    None,
    Vulnerability,
    Image,
}

/// <summary>
/// What the queue shows: the filters, the order and the grouping, as the page's URL, the API's query string and the
/// export name them. Several values of one few-valued filter mean "any of them"; different filters all apply.
/// </summary>
public sealed record FindingFilter
{
    public const int MaxTextLength = 256;

    public IReadOnlyList<string> SourceTools { get; init; } = [];

    public IReadOnlyList<Severity> Severities { get; init; } = [];

    public IReadOnlyList<Severity> Priorities { get; init; } = [];

    public IReadOnlyList<FindingStatus> Statuses { get; init; } = [];

    public IReadOnlyList<long> ConnectionIds { get; init; } = [];

    /// <summary>Exact Harbor project name.</summary>
    public string? Project { get; init; }

    /// <summary>Exact repository name, project included.</summary>
    public string? Repository { get; init; }

    /// <summary>Exact vulnerability id (CVE-…, GHSA-…), case-insensitive.</summary>
    public string? Vulnerability { get; init; }

    /// <summary>Part of a package name: "ssl" matches libssl3 and openssl (three characters or more; fewer match a prefix).</summary>
    public string? Package { get; init; }

    public bool? FixAvailable { get; init; }

    /// <summary>First seen on or after this UTC day.</summary>
    public DateOnly? FirstSeenFrom { get; init; }

    /// <summary>First seen on or before this UTC day (the whole day included).</summary>
    public DateOnly? FirstSeenTo { get; init; }

    /// <summary>Exact image digest (with <see cref="Repository"/>, one image: the dashboard's top images link here).</summary>
    public string? Digest { get; init; }

    /// <summary>Resolved on or after this UTC day.</summary>
    public DateOnly? ResolvedFrom { get; init; }

    /// <summary>Resolved on or before this UTC day (the whole day included).</summary>
    public DateOnly? ResolvedTo { get; init; }
    /// <summary>A portal user name, <see cref="AssigneeMe"/> (whoever reads the view) or <see cref="AssigneeNone"/>.</summary>
    public string? Assignee { get; init; }

    /// <summary>Findings assigned to this team (not the findings of the projects it owns: those are the project filter).</summary>
    public long? TeamId { get; init; }

    public const string AssigneeMe = "me";

    public const string AssigneeNone = "none";

    public FindingSortKey Sort { get; init; } = FindingSortKey.Priority;

    public bool Ascending { get; init; }

    public FindingGrouping Group { get; init; }

    public bool IsEmpty => SourceTools.Count == 0 && Severities.Count == 0 && Priorities.Count == 0 && Statuses.Count == 0
        && ConnectionIds.Count == 0 && Project is null && Repository is null && Vulnerability is null && Package is null
        && FixAvailable is null && FirstSeenFrom is null && FirstSeenTo is null
        && Digest is null && ResolvedFrom is null && ResolvedTo is null && Assignee is null && TeamId is null;

    /// <summary>
    /// Reads the query string (<c>severity=Critical&amp;severity=High</c> or <c>severity=Critical,High</c>). Every value that
    /// is not understood is named in <paramref name="errors"/>, keyed by parameter, so that a caller hears about a typo
    /// instead of silently getting everything.
    /// </summary>
    public static FindingFilter Parse(IEnumerable<KeyValuePair<string, StringValues>> query, out Dictionary<string, string[]> errors)
    {
        var values = query.ToDictionary(p => p.Key, p => p.Value, StringComparer.OrdinalIgnoreCase);
        var problems = new Dictionary<string, string[]>(StringComparer.Ordinal);

        IReadOnlyList<string> List(string name) =>
            values.TryGetValue(name, out var raw)
                ? raw.SelectMany(v => (v ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Distinct(StringComparer.OrdinalIgnoreCase).ToList()
                : [];

        string? Text(string name)
        {
            var value = values.TryGetValue(name, out var raw) ? raw.ToString().Trim() : "";
            if (value.Length > MaxTextLength)
            {
                problems[name] = [$"At most {MaxTextLength} characters."];
                return null;
            }

            return value.Length == 0 ? null : value;
        }

        IReadOnlyList<T> Enums<T>(string name) where T : struct, Enum
        {
            var parsed = new List<T>();
            foreach (var item in List(name))
            {
                if (Enum.TryParse<T>(item, ignoreCase: true, out var value) && Enum.IsDefined(value) && !int.TryParse(item, out _))
                {
                    parsed.Add(value);
                }
                else
                {
                    problems[name] = [$"'{item}' is not one of: {string.Join(", ", Enum.GetNames<T>())}."];
                }
            }

            return parsed;
        }

        var connections = new List<long>();
        foreach (var item in List("connection"))
        {
            if (long.TryParse(item, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            {
                connections.Add(id);
            }
            else
            {
                problems["connection"] = [$"'{item}' is not a connection id."];
            }
        }

        long? team = null;
        if (Text("team") is { } teamText)
        {
            team = long.TryParse(teamText, NumberStyles.None, CultureInfo.InvariantCulture, out var teamId) ? teamId : Problem<long?>("team", $"'{teamText}' is not a team id.");
        }

        bool? fix = Text("fix")?.ToLowerInvariant() switch
        {
            null or "any" => null,
            "yes" or "true" => true,
            "no" or "false" => false,
            var other => Problem<bool?>("fix", $"'{other}' is not yes or no."),
        };

        DateOnly? Date(string name) => Text(name) is not { } text ? null
            : DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date) ? date
            : Problem<DateOnly?>(name, $"'{text}' is not a date (yyyy-MM-dd).");

        var sortText = Text("sort")?.ToLowerInvariant();
        var sort = sortText switch
        {
            null or "priority" => FindingSortKey.Priority,
            "severity" => FindingSortKey.Severity,
            "cvss" => FindingSortKey.Cvss,
            "first-seen" => FindingSortKey.FirstSeen,
            "last-seen" => FindingSortKey.LastSeen,
            _ => Problem<FindingSortKey>("sort", $"'{sortText}' is not one of: priority, severity, cvss, first-seen, last-seen."),
        };

        var dirText = Text("dir")?.ToLowerInvariant();
        var ascending = dirText switch
        {
            null or "desc" => false,
            "asc" => true,
            _ => Problem<bool>("dir", $"'{dirText}' is not asc or desc."),
        };

        var groupText = Text("group")?.ToLowerInvariant();
        var group = groupText switch
        {
            null or "none" => FindingGrouping.None,
            "vulnerability" => FindingGrouping.Vulnerability,
            "image" => FindingGrouping.Image,
            _ => Problem<FindingGrouping>("group", $"'{groupText}' is not one of: none, vulnerability, image."),
        };

        var filter = new FindingFilter
        {
            SourceTools = List("source"),
            Severities = Enums<Severity>("severity"),
            Priorities = Enums<Severity>("priority"),
            Statuses = Enums<FindingStatus>("status"),
            ConnectionIds = connections,
            Project = Text("project"),
            Repository = Text("repository"),
            Vulnerability = Text("vulnerability"),
            Package = Text("package"),
            FixAvailable = fix,
            FirstSeenFrom = Date("from"),
            FirstSeenTo = Date("to"),
            Digest = Text("digest"),
            ResolvedFrom = Date("resolved-from"),
            ResolvedTo = Date("resolved-to"),
            Assignee = Text("assignee"),
            TeamId = team,
            Sort = sort,
            Ascending = ascending,
            Group = group,
        };

        if (filter.FirstSeenFrom is { } from && filter.FirstSeenTo is { } to && from > to)
        {
            problems["to"] = ["The end of the first-seen range is before its start."];
        }

        if (filter.ResolvedFrom is { } resolvedFrom && filter.ResolvedTo is { } resolvedTo && resolvedFrom > resolvedTo)
        {
            problems["resolved-to"] = ["The end of the resolved range is before its start."];
        }

        errors = problems;
        return filter;

        T? Problem<T>(string name, string message)
        {
            problems[name] = [message];
            return default;
        }
    }

    /// <summary>The query string that reproduces this view (in a fixed order, without defaults), for links and bookmarks.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> ToQuery(bool includeView = true)
    {
        var pairs = new List<KeyValuePair<string, string>>();
        void Add(string name, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                pairs.Add(new(name, value));
            }
        }

        foreach (var tool in SourceTools)
        {
            Add("source", tool);
        }

        foreach (var severity in Severities)
        {
            Add("severity", severity.ToString());
        }

        foreach (var priority in Priorities)
        {
            Add("priority", priority.ToString());
        }

        foreach (var status in Statuses)
        {
            Add("status", status.ToString());
        }

        foreach (var connection in ConnectionIds)
        {
            Add("connection", connection.ToString(CultureInfo.InvariantCulture));
        }

        Add("project", Project);
        Add("repository", Repository);
        Add("vulnerability", Vulnerability);
        Add("package", Package);
        Add("fix", FixAvailable switch { true => "yes", false => "no", null => null });
        Add("from", FirstSeenFrom?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        Add("to", FirstSeenTo?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        Add("digest", Digest);
        Add("resolved-from", ResolvedFrom?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        Add("resolved-to", ResolvedTo?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        Add("assignee", Assignee);
        Add("team", TeamId?.ToString(CultureInfo.InvariantCulture));
        if (includeView)
        {
            Add("sort", Sort == FindingSortKey.Priority ? null : SortName(Sort));
            Add("dir", Ascending ? "asc" : null);
            Add("group", Group == FindingGrouping.None ? null : Group.ToString().ToLowerInvariant());
        }

        return pairs;
    }

    public string ToQueryString(bool includeView = true, params (string Name, string? Value)[] extra)
    {
        var pairs = ToQuery(includeView).Concat(extra.Where(e => !string.IsNullOrEmpty(e.Value)).Select(e => new KeyValuePair<string, string>(e.Name, e.Value!)));
        var text = string.Join('&', pairs.Select(p => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(p.Value)}"));
        return text.Length == 0 ? "" : "?" + text;
    }

    public static string SortName(FindingSortKey key) => key switch
    {
        FindingSortKey.FirstSeen => "first-seen",
        FindingSortKey.LastSeen => "last-seen",
        _ => key.ToString().ToLowerInvariant(),
    };
}
