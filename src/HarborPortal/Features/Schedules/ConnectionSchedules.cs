using System.Globalization;
using System.Security.Claims;
using HarborPortal.Data;
using HarborPortal.Features.Audit;
using HarborPortal.Features.Auth;
using HarborPortal.Features.Connections;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Quartz;

namespace HarborPortal.Features.Schedules;

/// <summary>
/// Reads and changes connections' schedules, and keeps Quartz in step with them: a save replaces the connection's cron
/// trigger at once, manual removes it, a deleted connection loses it, and <see cref="ReconcileAsync"/> repairs any drift at
/// start. Shared by the schedule panel and the API so both apply the same rules and write the same audit lines.
/// </summary>
public sealed partial class ConnectionSchedules(
    PortalDbContext db, ISchedulerFactory schedulers, IOptions<SchedulesOptions> options, AuditLog audit, TimeProvider time,
    ILogger<ConnectionSchedules> logger)
{
    /// <summary>The zone schedules are read in (<c>Schedules:TimeZone</c>, UTC by default).</summary>
    public TimeZoneInfo TimeZone => options.Value.ResolveTimeZone();

    /// <summary>The saved schedule, or null when the connection has none (manual only).</summary>
    public Task<SyncSchedule?> FindAsync(long connectionId, CancellationToken cancellationToken) =>
        db.SyncSchedules.AsNoTracking().SingleOrDefaultAsync(s => s.ConnectionId == connectionId, cancellationToken);

    public async Task<ScheduleResult> SaveAsync(long connectionId, ScheduleForm form, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var connection = await db.HarborConnections.AsNoTracking().Where(c => c.Id == connectionId).Select(c => new { c.Id, c.Name }).SingleOrDefaultAsync(cancellationToken);
        if (connection is null)
        {
            return ScheduleResult.NotFound;
        }

        var errors = new ValidationErrors();
        var definition = ScheduleRules.Validate(form, TimeZone, time.GetUtcNow(), errors);
        if (definition is null)
        {
            return ScheduleResult.Invalid(errors);
        }

        var schedule = await db.SyncSchedules.FindAsync([connectionId], cancellationToken);
        var before = schedule?.Definition ?? ScheduleDefinition.Manual;
        if (schedule is null)
        {
            schedule = new SyncSchedule { ConnectionId = connectionId };
            db.SyncSchedules.Add(schedule);
        }

        schedule.Kind = definition.Kind;
        schedule.Minute = definition.Minute;
        schedule.TimeOfDay = definition.TimeOfDay;
        schedule.Day = definition.Day;
        schedule.Cron = definition.Cron;
        schedule.UpdatedAt = time.GetUtcNow();
        schedule.UpdatedBy = user.Identity?.Name;
        if (before != definition)
        {
            schedule.SkippedFires = 0;
        }

        await db.SaveChangesAsync(cancellationToken);
        await ApplyAsync(await schedulers.GetScheduler(cancellationToken), connection.Id, connection.Name, definition, cancellationToken);
        await audit.WriteAsync(
            "connection.schedule", true, user.Identity?.Name, user.FindFirstValue(PortalClaimTypes.AuthMethod) ?? "web", connection.Name,
            before == definition ? $"no change ({Describe(definition)})" : $"{Describe(definition)} (was {Describe(before)})", cancellationToken);
        return ScheduleResult.Saved(schedule);
    }

    /// <summary>Removes a connection's trigger (and job). Call when the connection is deleted; its row goes by cascade.</summary>
    public async Task ForgetAsync(long connectionId, CancellationToken cancellationToken)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        await scheduler.DeleteJob(ScheduledSyncJob.KeyFor(connectionId), cancellationToken);
    }

    /// <summary>
    /// Makes the scheduler agree with the table: a trigger for every scheduled connection, as saved, and none for a
    /// manual or deleted one. Returns how many jobs were added, replaced or removed.
    /// </summary>
    public async Task<int> ReconcileAsync(CancellationToken cancellationToken)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        var scheduled = await (
            from s in db.SyncSchedules.AsNoTracking()
            join c in db.HarborConnections.AsNoTracking() on s.ConnectionId equals c.Id
            where s.Kind != ScheduleKind.Manual
            select new { Schedule = s, c.Name }).ToListAsync(cancellationToken);

        var changed = 0;
        foreach (var row in scheduled)
        {
            var definition = row.Schedule.Definition;
            try
            {
                if (!await MatchesAsync(scheduler, row.Schedule.ConnectionId, row.Name, definition, cancellationToken))
                {
                    await ApplyAsync(scheduler, row.Schedule.ConnectionId, row.Name, definition, cancellationToken);
                    changed++;
                }
            }
            catch (FormatException e)
            {
                // A row the rules would refuse today: leave it without a trigger and say so, instead of failing the start.
                Log.UnusableSchedule(logger, e, row.Schedule.ConnectionId, Describe(definition));
            }
        }

        var wanted = scheduled.Select(r => ScheduledSyncJob.KeyFor(r.Schedule.ConnectionId)).ToHashSet();
        foreach (var key in await scheduler.GetJobKeys(GroupMatcher<JobKey>.GroupEquals(ScheduledSyncJob.Group), cancellationToken))
        {
            if (!wanted.Contains(key))
            {
                await scheduler.DeleteJob(key, cancellationToken);
                changed++;
            }
        }

        if (changed > 0)
        {
            Log.Reconciled(logger, changed);
        }

        return changed;
    }

    /// <summary>"Daily at 02:30 (UTC)": the schedule with its zone, as the Jobs page and audit lines show it.</summary>
    public string Describe(ScheduleDefinition definition) =>
        definition.Kind == ScheduleKind.Manual ? definition.Describe() : $"{definition.Describe()} ({TimeZone.Id})";

    private async Task ApplyAsync(IScheduler scheduler, long connectionId, string connectionName, ScheduleDefinition definition, CancellationToken cancellationToken)
    {
        if (definition.CronExpression is not { } cron)
        {
            await scheduler.DeleteJob(ScheduledSyncJob.KeyFor(connectionId), cancellationToken);
            return;
        }

        var zone = TimeZone;
        var job = JobBuilder.Create<ScheduledSyncJob>()
            .WithIdentity(ScheduledSyncJob.KeyFor(connectionId))
            .WithDescription(JobDescription(connectionId, connectionName))
            .UsingJobData(ScheduledSyncJob.ConnectionIdKey, connectionId.ToString(CultureInfo.InvariantCulture))
            .StoreDurably()
            .Build();
        var trigger = TriggerBuilder.Create()
            .WithIdentity(ScheduledSyncJob.TriggerKeyFor(connectionId))
            .ForJob(job)
            .WithDescription(Describe(definition))
            // After downtime: one catch-up sync now, not one per missed fire.
            .WithCronSchedule(cron, c => c.InTimeZone(zone).WithMisfireInstruction(CronTriggerMisfireInstruction.FireAndProceed))
            .Build();
        await scheduler.ScheduleJob(job, [trigger], ScheduleJobOptions.Replacing, cancellationToken);
    }

    private async Task<bool> MatchesAsync(IScheduler scheduler, long connectionId, string connectionName, ScheduleDefinition definition, CancellationToken cancellationToken) =>
        await scheduler.GetTrigger(ScheduledSyncJob.TriggerKeyFor(connectionId), cancellationToken) is ICronTrigger trigger
        && trigger.CronExpressionString == definition.CronExpression
        && trigger.TimeZone.Id == TimeZone.Id
        && trigger.Description == Describe(definition)
        && (await scheduler.GetJobDetail(ScheduledSyncJob.KeyFor(connectionId), cancellationToken))?.Description == JobDescription(connectionId, connectionName);

    private static string JobDescription(long connectionId, string connectionName) =>
        $"Scheduled sync of \"{connectionName}\" (connection {connectionId.ToString(CultureInfo.InvariantCulture)}).";

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Schedules reconciled with Quartz: {Count} jobs added, replaced or removed")]
        public static partial void Reconciled(ILogger logger, int count);

        [LoggerMessage(2, LogLevel.Error, "The schedule of connection {ConnectionId} ({Schedule}) cannot become a trigger; save it again")]
        public static partial void UnusableSchedule(ILogger logger, Exception exception, long connectionId, string schedule);
    }
}

/// <summary>The outcome of a save: the schedule, or why it was not saved.</summary>
public sealed record ScheduleResult(SyncSchedule? Schedule, ValidationErrors? Errors, bool IsNotFound)
{
    public static readonly ScheduleResult NotFound = new(null, null, true);

    public static ScheduleResult Saved(SyncSchedule schedule) => new(schedule, null, false);

    public static ScheduleResult Invalid(ValidationErrors errors) => new(null, errors, false);
}
