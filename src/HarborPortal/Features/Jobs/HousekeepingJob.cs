using HarborPortal.Data;
using Microsoft.EntityFrameworkCore;
using Quartz;

namespace HarborPortal.Features.Jobs;

/// <summary>Keeps the session table small: ended or expired sessions are kept 30 days for the admin's eyes, then deleted.</summary>
[DisallowConcurrentExecution]
public sealed partial class HousekeepingJob(PortalDbContext db, TimeProvider time, ILogger<HousekeepingJob> logger) : IJob
{
    public static readonly JobKey Key = new("housekeeping", "system");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var cutoff = time.GetUtcNow().AddDays(-30);
        var deleted = await db.UserSessions
            .Where(s => (s.EndedAt != null && s.EndedAt < cutoff) || s.AbsoluteExpiresAt < cutoff || s.ExpiresAt < cutoff)
            .ExecuteDeleteAsync(cancellationToken);
        Log.SessionsDeleted(logger, deleted);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Housekeeping deleted {Count} old sessions")]
        public static partial void SessionsDeleted(ILogger logger, int count);
    }
}
