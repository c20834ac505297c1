using HarborPortal.Features.Findings;
using HarborPortal.Features.Scanning;

namespace HarborPortal.Features.Dashboard;

/// <summary>
/// Everything the dashboard shows, for one caller's scope: the page renders it and <c>GET /api/v1/dashboard</c> returns
/// it. Each figure that the findings queue can reproduce carries its <c>Link</c> (the queue, filtered to exactly it).
/// </summary>
public sealed record DashboardFigures(
    DateTimeOffset GeneratedAt,
    bool Scoped,
    long OpenFindings,
    string OpenLink,
    long UniqueVulnerabilities,
    string UniqueVulnerabilitiesLink,
    IReadOnlyList<CountFigure> OpenBySeverity,
    IReadOnlyList<CountFigure> OpenBySourceTool,
    IReadOnlyList<TrendPoint> Trend,
    IReadOnlyList<WeekFigure> NewVersusResolved,
    IReadOnlyList<TopVulnerability> TopVulnerabilities,
    IReadOnlyList<TopImage> TopImages,
    IReadOnlyList<ResolveTime> MeanTimeToResolve,
    IReadOnlyList<SlaBreach> SlaBreaches,
    IReadOnlyList<ConnectionSync> LastSyncs,
    IReadOnlyList<CoverageFigure> Coverage)
{
    public long SlaBreachesTotal => SlaBreaches.Sum(b => b.Count);

    public long CoverageGapsTotal => Coverage.Sum(c => c.Unscanned + c.Failed + c.Stale);
}

/// <summary>A count with the queue link that lists exactly those findings.</summary>
public sealed record CountFigure(string Label, long Count, string Link);

/// <summary>Open findings at the start of a UTC day (today: now); null when no snapshot was taken that day (a gap).</summary>
public sealed record TrendPoint(DateOnly Day, long? Open);

/// <summary>A week (Monday to Sunday, UTC): findings first seen in it, and findings resolved in it (and still resolved).</summary>
public sealed record WeekFigure(DateOnly WeekStart, long New, string NewLink, long Resolved, string ResolvedLink);

/// <summary>A vulnerability and how many images (repository@digest) have it open; the link lists those images.</summary>
public sealed record TopVulnerability(string VulnerabilityId, Severity Severity, long Images, long Occurrences, string Link);

/// <summary>An image and its open Critical and High findings; the links list them.</summary>
public sealed record TopImage(long ConnectionId, string ProjectName, string RepositoryName, string Digest, string Tags, long Critical, long High, string Link, string CriticalLink);

/// <summary>Findings of a severity resolved in the window, and how long they took on average (null when none).</summary>
public sealed record ResolveTime(Severity Severity, long Resolved, double? MeanDays, string Link);

/// <summary>Open findings of a severity first seen before its SLA's cut-off day.</summary>
public sealed record SlaBreach(Severity Severity, int AllowedDays, DateOnly FirstSeenOnOrBefore, long Count, string Link);

/// <summary>The latest sync run of a connection (null fields when it never synced).</summary>
public sealed record ConnectionSync(long ConnectionId, string ConnectionName, long? RunId, SyncRunStatus? Status, DateTimeOffset? At, string? Link);

/// <summary>Artifacts of a connection's scanned locations by scan state; each number links to the artifact list.</summary>
public sealed record CoverageFigure(long ConnectionId, string ConnectionName, long Artifacts, long Unscanned, long Failed, long Stale)
{
    public string UnscannedLink => ArtifactCoverage.Link(CoverageKind.Unscanned, ConnectionId);

    public string FailedLink => ArtifactCoverage.Link(CoverageKind.Failed, ConnectionId);

    public string StaleLink => ArtifactCoverage.Link(CoverageKind.Stale, ConnectionId);
}
