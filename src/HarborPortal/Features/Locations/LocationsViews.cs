using System.Globalization;
using HarborPortal.Harbor;

namespace HarborPortal.Features.Locations;

/// <summary>The editor's addresses: the page (query-string paging, for people and browsers without JavaScript) and its htmx fragments.</summary>
public static class LocationsUrls
{
    public static string Page(long connectionId, string? search = null, int page = 1, string? expand = null, string? repositorySearch = null, int repositoryPage = 1, bool preview = false, bool saved = false)
    {
        var query = new List<string>();
        Add(query, "q", search);
        Add(query, "page", page > 1 ? page.ToString(CultureInfo.InvariantCulture) : null);
        Add(query, "expand", expand);
        Add(query, "rq", expand is null ? null : repositorySearch);
        Add(query, "rpage", expand is not null && repositoryPage > 1 ? repositoryPage.ToString(CultureInfo.InvariantCulture) : null);
        Add(query, "preview", preview ? "true" : null);
        Add(query, "saved", saved ? "true" : null);
        return $"{Base(connectionId)}{(query.Count == 0 ? "" : "?" + string.Join('&', query))}";
    }

    public static string Base(long connectionId) => $"/admin/connections/{connectionId.ToString(CultureInfo.InvariantCulture)}/locations";

    public static string Tree(long connectionId, string? search, int page) =>
        $"{Base(connectionId)}/tree?q={Uri.EscapeDataString(search ?? "")}&page={page.ToString(CultureInfo.InvariantCulture)}";

    public static string Repositories(long connectionId, string project, string? search, int page) =>
        $"{Base(connectionId)}/repositories?project={Uri.EscapeDataString(project)}&rq={Uri.EscapeDataString(search ?? "")}&rpage={page.ToString(CultureInfo.InvariantCulture)}";

    public static string Choose(long connectionId, string project) => $"{Base(connectionId)}/choose?project={Uri.EscapeDataString(project)}";

    public static string Match(long connectionId, string project) => $"{Base(connectionId)}/match?project={Uri.EscapeDataString(project)}";

    public static string Preview(long connectionId) => $"{Base(connectionId)}/preview";

    private static void Add(List<string> query, string name, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            query.Add($"{name}={Uri.EscapeDataString(value)}");
        }
    }
}

/// <summary>A page of Harbor's projects as the tree shows it.</summary>
public sealed record ProjectTreeView
{
    public required long ConnectionId { get; init; }

    public string Search { get; init; } = "";

    public string? SearchProblem { get; init; }

    public int Page { get; init; } = 1;

    /// <summary>Harbor's answer; null when it was not asked (see <see cref="Problem"/>).</summary>
    public HarborAnswer<HarborPage<HarborProject>>? Projects { get; init; }

    /// <summary>Why Harbor was not asked at all (the secret cannot be read).</summary>
    public string? Problem { get; init; }

    /// <summary>Projects already in the form: shown as listed instead of offered again.</summary>
    public IReadOnlySet<string> Listed { get; init; } = new HashSet<string>();

    /// <summary>The project opened without JavaScript (<c>?expand=</c>), with its repositories.</summary>
    public RepositoryListView? Expanded { get; init; }
}

/// <summary>A page of one project's repositories, each marked in or out of the selection as it stands.</summary>
public sealed record RepositoryListView
{
    public required long ConnectionId { get; init; }

    public required string Project { get; init; }

    public string Search { get; init; } = "";

    public string? SearchProblem { get; init; }

    public int Page { get; init; } = 1;

    public HarborAnswer<HarborPage<HarborRepository>>? Repositories { get; init; }

    public string? Problem { get; init; }

    public required ScanLocations Selection { get; init; }

    /// <summary>Where the tree stands, for the links that work without JavaScript.</summary>
    public string TreeSearch { get; init; } = "";

    public int TreePage { get; init; } = 1;
}
