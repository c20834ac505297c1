using System.Globalization;
using HarborPortal.Data;
using Microsoft.EntityFrameworkCore;
using Quartz;

namespace HarborPortal.Features.Scanning;

/// <summary>
/// Runs one requested sync. One Quartz job per connection (<see cref="KeyFor"/>), so that
/// <see cref="DisallowConcurrentExecutionAttribute"/> keeps two syncs of the same connection from overlapping while
/// different connections sync side by side. Each trigger carries the run's id.
/// </summary>
[DisallowConcurrentExecution]
public sealed class SyncJob(SyncRunner runner) : IJob
{
    public const string ConnectionIdKey = "connectionId";
    public const string RunIdKey = "runId";

    public static JobKey KeyFor(long connectionId) => new($"sync-connection-{connectionId.ToString(CultureInfo.InvariantCulture)}", "scanning");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var data = context.MergedJobDataMap;
        var connectionId = long.Parse(data.GetString(ConnectionIdKey) ?? throw new InvalidOperationException("A sync trigger carries no connection id."), CultureInfo.InvariantCulture);
        var runId = long.Parse(data.GetString(RunIdKey) ?? throw new InvalidOperationException("A sync trigger carries no run id."), CultureInfo.InvariantCulture);
        await runner.RunAsync(connectionId, runId, cancellationToken);
    }
}

/// <summary>The answer to a sync request: the run that will do it, or the one already under way.</summary>
public sealed record SyncStart(long RunId, SyncRunStatus Status, bool AlreadyRunning);

/// <summary>Requests syncs: records a pending run, then schedules a one-off trigger for it; one run at a time per connection.</summary>
public sealed class SyncRequests(PortalDbContext db, ISchedulerFactory schedulers, TimeProvider time)
{
    /// <summary>The new run, the run already under way (refused), or null when the connection does not exist.</summary>
    public async Task<SyncStart?> StartAsync(long connectionId, string? requestedBy, CancellationToken cancellationToken)
    {
        if (!await db.HarborConnections.AnyAsync(c => c.Id == connectionId, cancellationToken))
        {
            return null;
        }

        var active = await db.SyncRuns.AsNoTracking()
            .Where(r => r.ConnectionId == connectionId && (r.Status == SyncRunStatus.Pending || r.Status == SyncRunStatus.Running))
            .OrderByDescending(r => r.Id)
            .FirstOrDefaultAsync(cancellationToken);
        if (active is not null)
        {
            return new SyncStart(active.Id, active.Status, AlreadyRunning: true);
        }

        var run = new SyncRun { ConnectionId = connectionId, Status = SyncRunStatus.Pending, RequestedBy = requestedBy, RequestedAt = time.GetUtcNow() };
        db.SyncRuns.Add(run);
        await db.SaveChangesAsync(cancellationToken);

        var scheduler = await schedulers.GetScheduler(cancellationToken);
        var key = SyncJob.KeyFor(connectionId);
        var job = JobBuilder.Create<SyncJob>()
            .WithIdentity(key)
            .WithDescription($"Syncs findings of connection {connectionId.ToString(CultureInfo.InvariantCulture)} from Harbor.")
            .StoreDurably()
            // After a crash the interrupted run is fired again; the runner starts it over.
            .RequestRecovery()
            .Build();
        await scheduler.AddJob(job, AddJobOptions.Replacing, cancellationToken);
        await scheduler.ScheduleJob(TriggerBuilder.Create()
            .ForJob(key)
            .WithIdentity($"sync-run-{run.Id.ToString(CultureInfo.InvariantCulture)}", "scanning")
            .UsingJobData(SyncJob.ConnectionIdKey, connectionId.ToString(CultureInfo.InvariantCulture))
            .UsingJobData(SyncJob.RunIdKey, run.Id.ToString(CultureInfo.InvariantCulture))
            .StartNow()
            .Build(), new ScheduleJobOptions(), cancellationToken);
        return new SyncStart(run.Id, run.Status, AlreadyRunning: false);
    }
}
