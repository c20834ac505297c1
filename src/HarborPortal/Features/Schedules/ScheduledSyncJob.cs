using System.Globalization;
using HarborPortal.Data;
using HarborPortal.Features.Scanning;
using Microsoft.EntityFrameworkCore;
using Quartz;

namespace HarborPortal.Features.Schedules;

/// <summary>
/// A connection's schedule firing: asks for a sync like "Scan now" does, with <see cref="SyncTrigger.Schedule"/>. One run at
/// a time per connection, so a fire while a run is pending or running is skipped — recorded on the schedule and logged,
/// never queued behind it. One durable job per connection (<see cref="KeyFor"/>) so that "Run now" on the Jobs page knows
/// which connection it is for.
/// </summary>
public sealed partial class ScheduledSyncJob(
    PortalDbContext db, SyncRequests requests, ConnectionSchedules schedules, TimeProvider time, ILogger<ScheduledSyncJob> logger) : IJob
{
    public const string Group = "schedules";
    public const string ConnectionIdKey = "connectionId";
    public const string RequestedBy = "schedule";

    public static JobKey KeyFor(long connectionId) => new(Name(connectionId), Group);

    public static TriggerKey TriggerKeyFor(long connectionId) => new(Name(connectionId), Group);

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var connectionId = long.Parse(
            context.MergedJobDataMap.GetString(ConnectionIdKey) ?? throw new InvalidOperationException("A scheduled sync carries no connection id."),
            CultureInfo.InvariantCulture);
        var connection = await db.HarborConnections.AsNoTracking().Where(c => c.Id == connectionId).Select(c => new { c.Name, c.Enabled }).SingleOrDefaultAsync(cancellationToken);
        if (connection is null)
        {
            // Deleted while its trigger survived (e.g. a crash between the two): clean up instead of failing every hour.
            Log.ConnectionGone(logger, connectionId);
            await schedules.ForgetAsync(connectionId, cancellationToken);
            return;
        }

        ScheduleFireOutcome outcome;
        long? runId = null;
        if (!connection.Enabled)
        {
            outcome = ScheduleFireOutcome.SkippedDisabled;
            Log.SkippedDisabled(logger, connection.Name, connectionId);
        }
        else if (await requests.StartAsync(connectionId, RequestedBy, cancellationToken, SyncTrigger.Schedule) is { } start)
        {
            runId = start.RunId;
            outcome = start.AlreadyRunning ? ScheduleFireOutcome.SkippedRunUnderWay : ScheduleFireOutcome.Started;
            if (start.AlreadyRunning)
            {
                Log.SkippedRunUnderWay(logger, connection.Name, connectionId, start.RunId);
            }
            else
            {
                Log.Started(logger, connection.Name, connectionId, start.RunId);
            }
        }
        else
        {
            return;
        }

        if (await db.SyncSchedules.FindAsync([connectionId], cancellationToken) is { } schedule)
        {
            schedule.LastFiredAt = time.GetUtcNow();
            schedule.LastFireOutcome = outcome;
            schedule.LastFireRunId = runId;
            if (outcome != ScheduleFireOutcome.Started)
            {
                schedule.SkippedFires++;
            }

            await db.SaveChangesAsync(cancellationToken);
        }
    }

    private static string Name(long connectionId) => $"sync-schedule-{connectionId.ToString(CultureInfo.InvariantCulture)}";

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Scheduled sync of {Connection} ({ConnectionId}) started run {RunId}")]
        public static partial void Started(ILogger logger, string connection, long connectionId, long runId);

        [LoggerMessage(2, LogLevel.Warning, "Scheduled sync of {Connection} ({ConnectionId}) skipped: run {RunId} was under way")]
        public static partial void SkippedRunUnderWay(ILogger logger, string connection, long connectionId, long runId);

        [LoggerMessage(3, LogLevel.Information, "Scheduled sync of {Connection} ({ConnectionId}) skipped: the connection is disabled")]
        public static partial void SkippedDisabled(ILogger logger, string connection, long connectionId);

        [LoggerMessage(4, LogLevel.Warning, "Scheduled sync of connection {ConnectionId} found no such connection; its trigger is removed")]
        public static partial void ConnectionGone(ILogger logger, long connectionId);
    }
}
