namespace HarborPortal.Features.Locations;

/// <summary>The <c>Locations</c> section: how long the editor waits for Harbor, and how hard the preview may ask.</summary>
public sealed class LocationsOptions
{
    public const string SectionName = "Locations";

    /// <summary>Each request the editor sends to Harbor (per attempt).</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The most a page of the tree, a page of repositories or a "matches N of M" hint waits for Harbor.</summary>
    public TimeSpan BrowseBudget { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The most the preview counts for; past it the preview shows what it counted and says Harbor was slow.</summary>
    public TimeSpan PreviewBudget { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Harbor requests the preview keeps in flight at once (the connection's own limit applies too).</summary>
    public int PreviewConcurrency { get; set; } = 4;

    /// <summary>Projects per page of the tree.</summary>
    public int ProjectsPerPage { get; set; } = 20;

    /// <summary>Repositories per page of an opened project.</summary>
    public int RepositoriesPerPage { get; set; } = 20;

    /// <summary>A hint reads at most this many of a project's repositories ("matches N of the first …").</summary>
    public int MaxRepositoriesPerHint { get; set; } = 5000;

    /// <summary>An answer slower than this is called slow on the page, so the wait is explained.</summary>
    public TimeSpan SlowAnswer { get; set; } = TimeSpan.FromSeconds(2);
}
