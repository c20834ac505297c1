using HarborPortal.Data;
using HarborPortal.Features.Findings;
using Microsoft.EntityFrameworkCore;

namespace HarborPortal.Features.ThreatData;

/// <summary>
/// Brings the stored priority of open findings in line after a feed changed, reading only the findings of the CVEs whose
/// standing changed (through the VulnerabilityId index), a batch at a time.
/// </summary>
public static class ThreatPriorities
{
    private const int CvesPerQuery = 500;
    private const int BatchSize = 5_000;

    /// <summary>The CVEs of a feed's stored data that move the priority (every KEV entry; EPSS at or above the threshold).</summary>
    public static async Task<HashSet<string>> EffectiveAsync(PortalDbContext db, ThreatFeedKind kind, CancellationToken cancellationToken)
    {
        var cves = kind == ThreatFeedKind.Kev
            ? await db.KevEntries.Select(e => e.CveId).ToListAsync(cancellationToken)
            : await db.EpssScores.Where(e => e.Probability >= PriorityRules.HighExploitProbability).Select(e => e.CveId).ToListAsync(cancellationToken);
        return cves.ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>Re-evaluates the open (and in-progress) findings of these CVEs with the feeds as they are now; returns how many changed.</summary>
    public static async Task<int> RecomputeAsync(PortalDbContext db, IReadOnlyCollection<string> cves, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (cves.Count == 0)
        {
            return 0;
        }

        var intel = await ThreatIntel.LoadAsync(db, cancellationToken);
        var changed = 0;
        foreach (var chunk in cves.Chunk(CvesPerQuery))
        {
            long after = 0;
            while (true)
            {
                var batch = await db.Findings
                    .Where(f => chunk.Contains(f.VulnerabilityId) && (f.Status == FindingStatus.Open || f.Status == FindingStatus.InProgress) && f.Id > after)
                    .OrderBy(f => f.Id).Take(BatchSize).ToListAsync(cancellationToken);
                if (batch.Count == 0)
                {
                    break;
                }

                changed += batch.Count(f => PriorityRules.Apply(f, intel.ContextFor(f, now)));
                await db.SaveChangesAsync(cancellationToken);
                db.ChangeTracker.Clear();
                after = batch[^1].Id;
            }
        }

        return changed;
    }
}
