using HarborPortal.Data;
using HarborPortal.Features.Findings;
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

    // ExecuteSqlRaw's placeholder for the day, turned into the provider's parameter.
    private const string DayPlaceholder = "{0}";

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

        // EF's DateOnly is text on SQLite and a date on PostgreSQL; the placeholder becomes the provider's parameter.
        object dayValue = SqlDialect.For(db).IsPostgres ? day : day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        // One statement: the counts and the day's marker land together, and a concurrent writer's duplicate is ignored
        // (the WHERE before ON CONFLICT keeps SQLite from reading ON as a join's).
        await db.Database.ExecuteSqlRawAsync(
            $"""
            INSERT INTO "FindingSnapshots" ("Day", "ConnectionId", "ProjectName", "SourceTool", "Severity", "Open", "Suppressed", "Resolved")
            SELECT {DayPlaceholder}, 0, '', '', 0, 0, 0, 0
            UNION ALL
            SELECT {DayPlaceholder}, "ConnectionId", "ProjectName", "SourceTool", "Severity",
                sum(CASE WHEN "Status" IN ({(int)FindingStatus.Open}, {(int)FindingStatus.InProgress}) THEN "Count" ELSE 0 END),
                sum(CASE WHEN "Status" IN ({(int)FindingStatus.RiskAccepted}, {(int)FindingStatus.FalsePositive}) THEN "Count" ELSE 0 END),
                sum(CASE WHEN "Status" = {(int)FindingStatus.Resolved} THEN "Count" ELSE 0 END)
            FROM "FindingCounts" WHERE "Count" > 0
            GROUP BY "ConnectionId", "ProjectName", "SourceTool", "Severity"
            ON CONFLICT DO NOTHING;
            """,
            [dayValue],
            cancellationToken);
        return true;
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Wrote the finding snapshot of {Day}")]
        public static partial void Written(ILogger logger, DateOnly day);
    }
}
