using HarborPortal.Data;
using HarborPortal.Features.Findings;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Quartz;

namespace HarborPortal.Features.Dashboard;

/// <summary>
/// Writes today's <see cref="FindingSnapshot"/>s (UTC) when they are missing: fired at start and every day just after
/// midnight. A day missed while the portal was down stays a gap in the trend; history is not replayed.
/// </summary>
[DisallowConcurrentExecution]
public sealed partial class FindingSnapshotJob(PortalDbContext db, TimeProvider time, ILogger<FindingSnapshotJob> logger) : IJob
{
    public static readonly JobKey Key = new("finding-snapshot", "dashboard");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var day = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        if (await WriteAsync(db, day, cancellationToken))
        {
            Log.Written(logger, day);
        }
    }

    /// <summary>Snapshots the current counts as <paramref name="day"/>'s, unless that day has one; true when written.</summary>
    public static async Task<bool> WriteAsync(PortalDbContext db, DateOnly day, CancellationToken cancellationToken)
    {
        if (await db.FindingSnapshots.AnyAsync(s => s.Day == day, cancellationToken))
        {
            return false;
        }

        var dayParameter = new SqliteParameter("$day", day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
        // One statement: the counts and the day's marker land together, and a concurrent writer's duplicate is ignored.
        await db.Database.ExecuteSqlRawAsync(
            $"""
            INSERT OR IGNORE INTO "FindingSnapshots" ("Day", "ConnectionId", "ProjectName", "SourceTool", "Severity", "Open", "Suppressed", "Resolved")
            SELECT $day, 0, '', '', 0, 0, 0, 0
            UNION ALL
            SELECT $day, "ConnectionId", "ProjectName", "SourceTool", "Severity",
                sum(CASE WHEN "Status" IN ({(int)FindingStatus.Open}, {(int)FindingStatus.InProgress}) THEN "Count" ELSE 0 END),
                sum(CASE WHEN "Status" IN ({(int)FindingStatus.RiskAccepted}, {(int)FindingStatus.FalsePositive}) THEN "Count" ELSE 0 END),
                sum(CASE WHEN "Status" = {(int)FindingStatus.Resolved} THEN "Count" ELSE 0 END)
            FROM "FindingCounts" WHERE "Count" > 0
            GROUP BY "ConnectionId", "ProjectName", "SourceTool", "Severity";
            """,
            [dayParameter],
            cancellationToken);
        return true;
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Wrote the finding snapshot of {Day}")]
        public static partial void Written(ILogger logger, DateOnly day);
    }
}
