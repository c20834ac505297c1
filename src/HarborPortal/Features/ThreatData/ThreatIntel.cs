using HarborPortal.Data;
using HarborPortal.Features.Findings;
using Microsoft.EntityFrameworkCore;

namespace HarborPortal.Features.ThreatData;

/// <summary>
/// What the enabled threat feeds say, loaded once per sync run or refresh and read per finding. Only what can move the
/// priority is held: the KEV CVEs and the EPSS scores at or above <see cref="PriorityRules.HighExploitProbability"/>
/// (a few percent of the ~300,000 scored CVEs), so that a run holds thousands of entries, not every score.
/// </summary>
public sealed class ThreatIntel
{
    public static readonly ThreatIntel None = new(new HashSet<string>(StringComparer.Ordinal), null, new Dictionary<string, double>(StringComparer.Ordinal), null);

    private readonly IReadOnlySet<string> _knownExploited;
    private readonly IReadOnlyDictionary<string, double> _exploitProbability;

    private ThreatIntel(IReadOnlySet<string> knownExploited, DateOnly? catalogDate, IReadOnlyDictionary<string, double> exploitProbability, DateOnly? scoreDate)
    {
        _knownExploited = knownExploited;
        _exploitProbability = exploitProbability;
        CatalogDate = catalogDate;
        ScoreDate = scoreDate;
    }

    public DateOnly? CatalogDate { get; }

    public DateOnly? ScoreDate { get; }

    public bool IsEmpty => _knownExploited.Count == 0 && _exploitProbability.Count == 0;

    /// <summary>The context with this vulnerability's KEV and EPSS facts (and the data's dates for the explanation).</summary>
    public PriorityContext Annotate(PriorityContext context, string vulnerabilityId)
    {
        if (IsEmpty)
        {
            return context;
        }

        var cve = vulnerabilityId.ToUpperInvariant();
        var known = _knownExploited.Contains(cve);
        double? probability = _exploitProbability.TryGetValue(cve, out var p) ? p : null;
        return known || probability is not null
            ? context with { KnownExploited = known, ExploitProbability = probability, KevCatalogDate = CatalogDate, EpssScoreDate = ScoreDate }
            : context;
    }

    /// <summary>
    /// Everything the priority rules know about a stored finding: its own columns and this data. Every place that
    /// recomputes or explains a stored finding's priority goes through here, so they cannot disagree.
    /// </summary>
    public PriorityContext ContextFor(Finding finding, DateTimeOffset now) => Annotate(PriorityContext.For(finding, now), finding.VulnerabilityId);

    /// <summary>The enabled feeds' entries that move the priority.</summary>
    public static async Task<ThreatIntel> LoadAsync(PortalDbContext db, CancellationToken cancellationToken)
    {
        var feeds = await db.ThreatFeeds.AsNoTracking().Where(f => f.Enabled).ToListAsync(cancellationToken);
        var kev = feeds.SingleOrDefault(f => f.Kind == ThreatFeedKind.Kev);
        var epss = feeds.SingleOrDefault(f => f.Kind == ThreatFeedKind.Epss);
        var known = kev is null ? [] : await db.KevEntries.AsNoTracking().Select(e => e.CveId).ToListAsync(cancellationToken);
        var scores = epss is null
            ? []
            : await db.EpssScores.AsNoTracking().Where(e => e.Probability >= PriorityRules.HighExploitProbability).Select(e => new { e.CveId, e.Probability }).ToListAsync(cancellationToken);
        return new ThreatIntel(
            known.ToHashSet(StringComparer.Ordinal), DateOf(kev),
            scores.ToDictionary(s => s.CveId, s => s.Probability, StringComparer.Ordinal), DateOf(epss));
    }

    /// <summary>One vulnerability's facts with its exact EPSS score, for the evidence page.</summary>
    public static async Task<ThreatIntel> ForVulnerabilityAsync(PortalDbContext db, string vulnerabilityId, CancellationToken cancellationToken)
    {
        var cve = vulnerabilityId.ToUpperInvariant();
        var feeds = await db.ThreatFeeds.AsNoTracking().Where(f => f.Enabled).ToListAsync(cancellationToken);
        var kev = feeds.SingleOrDefault(f => f.Kind == ThreatFeedKind.Kev);
        var epss = feeds.SingleOrDefault(f => f.Kind == ThreatFeedKind.Epss);
        var known = kev is not null && await db.KevEntries.AnyAsync(e => e.CveId == cve, cancellationToken);
        var score = epss is null ? null : await db.EpssScores.AsNoTracking().Where(e => e.CveId == cve).Select(e => (double?)e.Probability).SingleOrDefaultAsync(cancellationToken);
        return new ThreatIntel(
            known ? new HashSet<string>([cve], StringComparer.Ordinal) : new HashSet<string>(StringComparer.Ordinal), DateOf(kev),
            score is { } s ? new Dictionary<string, double>(StringComparer.Ordinal) { [cve] = s } : new Dictionary<string, double>(StringComparer.Ordinal), DateOf(epss));
    }

    private static DateOnly? DateOf(ThreatFeed? feed) => feed?.DataDate is { } date ? DateOnly.FromDateTime(date.UtcDateTime) : null;
}
