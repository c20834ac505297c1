using System.Globalization;
using HarborPortal.Data;
using HarborPortal.Features.Connections;
using Microsoft.EntityFrameworkCore;
using Quartz;

namespace HarborPortal.Features.Scanning;

/// <summary>
/// Runs one requested sync. One Quartz job per connection (<see cref="KeyFor"/>), so that
/// <see cref="DisallowConcurrentExecutionAttribute"/> keeps two syncs of the same connection from overlapping while
/// different connections sync side by side. Each trigger carries the run's id.
/// </summary>
[DisallowConcurrentExecution]
public sealed class SyncJob(SyncRunner runner, SyncRequests requests, Posture.PostureRunner posture) : IJob
{
    public const string ConnectionIdKey = "connectionId";
    public const string RunIdKey = "runId";

    public static JobKey KeyFor(long connectionId) => new($"sync-connection-{connectionId.ToString(CultureInfo.InvariantCulture)}", "scanning");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var data = context.MergedJobDataMap;
        var connectionId = long.Parse(data.GetString(ConnectionIdKey) ?? throw new InvalidOperationException("A sync trigger carries no connection id."), CultureInfo.InvariantCulture);
        if (data.GetString(RunIdKey) is not { } runId)
        {
            // "Run now" on the Jobs page fires the job without a run: record one as a manual request, which queues its own
            // trigger (this job cannot overlap itself, so that run starts as soon as this execution returns).
            await requests.StartAsync(connectionId, "jobs page", cancellationToken);
            return;
        }

        // A recovering execution re-runs the job of an instance that died mid-run (Quartz clustering, or SQLite's restart).
        await runner.RunAsync(connectionId, long.Parse(runId, CultureInfo.InvariantCulture), cancellationToken, recovering: context.Recovering);
        await posture.RunAfterSyncAsync(connectionId, long.Parse(runId, CultureInfo.InvariantCulture), cancellationToken);
    }
}

/// <summary>The answer to a sync request: the run that will do it, or the one already under way.</summary>
public sealed record SyncStart(long RunId, SyncRunStatus Status, bool AlreadyRunning);

/// <summary>
/// Requests syncs: records a pending run, then schedules a one-off trigger for it. One run at a time per connection:
/// a full sync asked for while one is pending or running is refused with that run; webhook targets are merged into
/// the pending targeted run, or queue one behind the running run.
/// </summary>
public sealed class SyncRequests(PortalDbContext db, ISchedulerFactory schedulers, TimeProvider time, SyncRunLiveness liveness)
{
    /// <summary>The new run, the run already under way (refused), or null when the connection does not exist.</summary>
    public async Task<SyncStart?> StartAsync(long connectionId, string? requestedBy, CancellationToken cancellationToken, SyncTrigger trigger = SyncTrigger.Manual)
    {
        // Check-then-insert under the connection's row lock: two instances asked at the same moment make one run.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (!await ConnectionRowLock.TakeAsync(db, connectionId, cancellationToken))
        {
            return null;
        }

        var active = await ActiveRuns(connectionId).FirstOrDefaultAsync(cancellationToken);
        // A run whose instance died blocks nothing: it ends Failed with the reason, and this request goes ahead.
        if (active is not null && liveness.IsOrphaned(active) && await liveness.AbandonAsync(db, active, cancellationToken))
        {
            active = await ActiveRuns(connectionId).FirstOrDefaultAsync(cancellationToken);
        }

        if (active is not null)
        {
            return new SyncStart(active.Id, active.Status, AlreadyRunning: true);
        }

        var run = new SyncRun { ConnectionId = connectionId, Status = SyncRunStatus.Pending, RequestedBy = requestedBy, RequestedAt = time.GetUtcNow(), Trigger = trigger };
        db.SyncRuns.Add(run);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        // After the commit: the trigger's job reads the run, from any instance.
        await ScheduleAsync(run, cancellationToken);
        return new SyncStart(run.Id, run.Status, AlreadyRunning: false);
    }

    /// <summary>
    /// Asks for the named artifacts to be re-read. Duplicates coalesce: a pending full run covers them already, a pending
    /// targeted run takes them in; otherwise a new targeted run is queued (behind a running one, if any). Null when the
    /// connection does not exist.
    /// </summary>
    public async Task<SyncStart?> RequestArtifactsAsync(long connectionId, IReadOnlyCollection<ArtifactRef> artifacts, string? requestedBy, CancellationToken cancellationToken)
    {
        // Webhooks of one Harbor arrive together, at any instance: under the connection's row lock they all land in one pending run.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (!await ConnectionRowLock.TakeAsync(db, connectionId, cancellationToken))
        {
            return null;
        }

        // Merging into a pending run races with the runner picking it up: the merge is written only while the run is
        // still Pending with the targets read here; otherwise it is read again (and a new run queued when none is pending).
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var pending = await db.SyncRuns.AsNoTracking()
                .Where(r => r.ConnectionId == connectionId && r.Status == SyncRunStatus.Pending)
                .OrderByDescending(r => r.Id)
                .FirstOrDefaultAsync(cancellationToken);
            if (pending is null)
            {
                break;
            }

            if (pending.Targets is null)
            {
                return new SyncStart(pending.Id, pending.Status, AlreadyRunning: true);
            }

            var read = pending.Targets;
            pending.TargetList = [.. pending.TargetList!.Union(artifacts)];
            var merged = pending.Targets;
            var updated = await db.SyncRuns
                .Where(r => r.Id == pending.Id && r.Status == SyncRunStatus.Pending && r.Targets == read)
                .ExecuteUpdateAsync(set => set.SetProperty(r => r.Targets, merged), cancellationToken);
            if (updated == 1)
            {
                await transaction.CommitAsync(cancellationToken);
                return new SyncStart(pending.Id, pending.Status, AlreadyRunning: true);
            }
        }

        var run = new SyncRun
        {
            ConnectionId = connectionId, Status = SyncRunStatus.Pending, RequestedBy = requestedBy, RequestedAt = time.GetUtcNow(),
            Trigger = SyncTrigger.Webhook, TargetList = [.. artifacts.Distinct()],
        };
        db.SyncRuns.Add(run);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        await ScheduleAsync(run, cancellationToken);
        return new SyncStart(run.Id, run.Status, AlreadyRunning: false);
    }

    /// <summary>
    /// Asks a pending or running run to stop; the runner ends it Cancelled at its next safe point. False when the run
    /// does not exist or has already ended.
    /// </summary>
    public async Task<bool> CancelAsync(long runId, string? requestedBy, CancellationToken cancellationToken)
    {
        var run = await db.SyncRuns.SingleOrDefaultAsync(r => r.Id == runId, cancellationToken);
        if (run is not { IsActive: true })
        {
            return false;
        }

        run.CancelRequestedAt ??= time.GetUtcNow();
        run.CancelRequestedBy ??= requestedBy;
        await db.SaveChangesAsync(cancellationToken);
        return true;
    }

    private IQueryable<SyncRun> ActiveRuns(long connectionId) => db.SyncRuns.AsNoTracking()
        .Where(r => r.ConnectionId == connectionId && (r.Status == SyncRunStatus.Pending || r.Status == SyncRunStatus.Running))
        .OrderByDescending(r => r.Id);

    private async Task ScheduleAsync(SyncRun run, CancellationToken cancellationToken)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        var key = SyncJob.KeyFor(run.ConnectionId);
        var connectionId = run.ConnectionId.ToString(CultureInfo.InvariantCulture);
        var job = JobBuilder.Create<SyncJob>()
            .WithIdentity(key)
            .WithDescription($"Syncs findings of connection {connectionId} from Harbor.")
            .UsingJobData(SyncJob.ConnectionIdKey, connectionId)
            .StoreDurably()
            // After a crash the interrupted run is fired again; the runner starts it over.
            .RequestRecovery()
            .Build();
        await scheduler.AddJob(job, AddJobOptions.Replacing, cancellationToken);
        await scheduler.ScheduleJob(TriggerBuilder.Create()
            .ForJob(key)
            .WithIdentity($"sync-run-{run.Id.ToString(CultureInfo.InvariantCulture)}", "scanning")
            .UsingJobData(SyncJob.ConnectionIdKey, connectionId)
            .UsingJobData(SyncJob.RunIdKey, run.Id.ToString(CultureInfo.InvariantCulture))
            .StartNow()
            .Build(), new ScheduleJobOptions(), cancellationToken);
    }
}
