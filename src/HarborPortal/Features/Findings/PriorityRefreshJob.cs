using HarborPortal.Data;
using HarborPortal.Features.ThreatData;
using Microsoft.EntityFrameworkCore;
using Quartz;

namespace HarborPortal.Features.Findings;

/// <summary>
/// Recomputes the stored priority of every finding not resolved (open, in progress, triaged) once a day: "pushed recently" and "untouched for months" change
/// with the calendar, not with a sync. Reads in id order, a batch at a time, and writes only the rows that changed.
/// </summary>
[DisallowConcurrentExecution]
public sealed partial class PriorityRefreshJob(PortalDbContext db, TimeProvider time, ILogger<PriorityRefreshJob> logger) : IJob
{
    public static readonly JobKey Key = new("priority-refresh", "findings");

    private const int BatchSize = 5_000;

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var changed = await RefreshAsync(db, time.GetUtcNow(), cancellationToken);
        Log.Refreshed(logger, changed);
    }

    /// <summary>Brings every unresolved finding's stored priority in line with <see cref="PriorityRules"/> at <paramref name="now"/>; returns how many changed.</summary>
    public static async Task<int> RefreshAsync(PortalDbContext db, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var changed = 0;
        long after = 0;
        var threats = await ThreatIntel.LoadAsync(db, cancellationToken);
        while (true)
        {
            var batch = await db.Findings.Where(f => f.Id > after && f.Status != FindingStatus.Resolved).OrderBy(f => f.Id).Take(BatchSize).ToListAsync(cancellationToken);
            if (batch.Count == 0)
            {
                return changed;
            }

            changed += batch.Count(f => PriorityRules.Apply(f, threats.ContextFor(f, now)));
            await db.SaveChangesAsync(cancellationToken);
            db.ChangeTracker.Clear();
            after = batch[^1].Id;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Priority refresh changed the priority of {Count} open findings")]
        public static partial void Refreshed(ILogger logger, int count);
    }
}
