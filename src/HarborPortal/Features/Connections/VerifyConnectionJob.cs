using System.Globalization;
using HarborPortal.Data;
using HarborPortal.Features.Audit;
using HarborPortal.Harbor;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Quartz;

namespace HarborPortal.Features.Connections;

/// <summary>
/// Runs one requested verification. One Quartz job per connection (<see cref="KeyFor"/>), so that
/// <see cref="DisallowConcurrentExecutionAttribute"/> keeps two runs of the same connection from overlapping while
/// different connections verify side by side. Each trigger carries the run's id.
/// </summary>
[DisallowConcurrentExecution]
public sealed class VerifyConnectionJob(VerificationRunner runner) : IJob
{
    public const string RunIdKey = "runId";

    public static JobKey KeyFor(long connectionId) => new($"verify-connection-{connectionId.ToString(CultureInfo.InvariantCulture)}", "connections");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var runId = long.Parse(context.MergedJobDataMap.GetString(RunIdKey) ?? throw new InvalidOperationException("A verification trigger carries no run id."), CultureInfo.InvariantCulture);
        await runner.RunAsync(runId, cancellationToken);
    }
}

/// <summary>Every day, a verification of every enabled connection: robots expire and certificates too.</summary>
[DisallowConcurrentExecution]
public sealed class DailyVerificationJob(PortalDbContext db, ConnectionVerifier verifier) : IJob
{
    public static readonly JobKey Key = new("verify-connections-daily", "connections");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var ids = await db.HarborConnections.Where(c => c.Enabled).Select(c => c.Id).ToListAsync(cancellationToken);
        foreach (var id in ids)
        {
            await verifier.RequestAsync(id, VerificationTriggers.Daily, null, cancellationToken);
        }
    }
}

/// <summary>Why a verification ran.</summary>
public static class VerificationTriggers
{
    public const string Save = "save";
    public const string Button = "button";
    public const string Api = "api";
    public const string Daily = "daily";
}

/// <summary>Requests verification runs: records a pending run, then schedules a one-off trigger for it.</summary>
public sealed class ConnectionVerifier(PortalDbContext db, ISchedulerFactory schedulers, TimeProvider time)
{
    /// <summary>The pending run, or null when the connection does not exist.</summary>
    public async Task<ConnectionVerification?> RequestAsync(long connectionId, string trigger, string? requestedBy, CancellationToken cancellationToken)
    {
        if (!await db.HarborConnections.AnyAsync(c => c.Id == connectionId, cancellationToken))
        {
            return null;
        }

        var run = new ConnectionVerification
        {
            ConnectionId = connectionId,
            Trigger = trigger,
            RequestedBy = requestedBy,
            Status = VerificationStatus.Pending,
            RequestedAt = time.GetUtcNow(),
        };
        db.ConnectionVerifications.Add(run);
        await db.SaveChangesAsync(cancellationToken);

        var scheduler = await schedulers.GetScheduler(cancellationToken);
        var key = VerifyConnectionJob.KeyFor(connectionId);
        var job = JobBuilder.Create<VerifyConnectionJob>()
            .WithIdentity(key)
            .WithDescription($"Verifies connectivity of connection {connectionId.ToString(CultureInfo.InvariantCulture)}.")
            .StoreDurably()
            .Build();
        await scheduler.AddJob(job, AddJobOptions.Replacing, cancellationToken);
        await scheduler.ScheduleJob(TriggerBuilder.Create()
            .ForJob(key)
            .WithIdentity($"verify-run-{run.Id.ToString(CultureInfo.InvariantCulture)}", "connections")
            .UsingJobData(VerifyConnectionJob.RunIdKey, run.Id.ToString(CultureInfo.InvariantCulture))
            .StartNow()
            .Build(), new ScheduleJobOptions(), cancellationToken);
        return run;
    }

    /// <summary>Removes a deleted connection's job (its runs go with the connection's row).</summary>
    public async Task ForgetAsync(long connectionId, CancellationToken cancellationToken)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        await scheduler.DeleteJob(VerifyConnectionJob.KeyFor(connectionId), cancellationToken);
    }
}

/// <summary>
/// Runs a verification: the checklist, saved after every step (the page polls it), then the connection's last state
/// and an audit line. The plain secret exists only inside the settings handed to the Harbor client.
/// </summary>
public sealed partial class VerificationRunner(
    PortalDbContext db, ConnectivityCheck check, ConnectionSecrets secrets, AuditLog audit, TimeProvider time,
    IOptions<ConnectionsOptions> options, ILogger<VerificationRunner> logger)
{
    public async Task RunAsync(long runId, CancellationToken cancellationToken)
    {
        var run = await db.ConnectionVerifications.FindAsync([runId], cancellationToken);
        var connection = run is null ? null : await db.HarborConnections.FindAsync([run.ConnectionId], cancellationToken);
        if (run is null || connection is null || run.IsDone)
        {
            // Deleted meanwhile, or already run (a trigger replayed after a restart).
            return;
        }

        run.Status = VerificationStatus.Running;
        run.StartedAt = time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);

        ConnectivityReport report;
        try
        {
            report = TargetFor(connection) is { } target
                ? await check.RunAsync(target, async steps =>
                {
                    run.Steps = steps;
                    await db.SaveChangesAsync(cancellationToken);
                }, cancellationToken)
                : new ConnectivityReport([new CheckStep("Credentials", CheckOutcome.Failed, 0,
                    "The stored secret cannot be decrypted (the data protection keys changed).", "Rotate the secret on this connection.")]);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The portal is stopping: close the run so that the page stops waiting for it.
            run.Status = VerificationStatus.Finished;
            run.Ok = false;
            run.FinishedAt = time.GetUtcNow();
            run.Summary = "Interrupted: the portal stopped during the run. Verify again.";
            await db.SaveChangesAsync(CancellationToken.None);
            throw;
        }

        var finished = time.GetUtcNow();
        var summary = Truncate(report.Summary, ConnectionVerification.MaxSummaryLength);
        run.Steps = report.Steps;
        run.Ok = report.Ok;
        run.Summary = summary;
        run.Status = VerificationStatus.Finished;
        run.FinishedAt = finished;
        connection.LastVerifiedAt = finished;
        connection.LastVerificationOk = report.Ok;
        connection.LastVerificationSummary = summary;
        await db.SaveChangesAsync(cancellationToken);
        Log.Verified(logger, connection.Name, run.Id, report.Ok, summary);

        await audit.WriteAsync("connection.verify", report.Ok, run.RequestedBy ?? "schedule", run.Trigger, connection.Name,
            Truncate($"run={run.Id}; trigger={run.Trigger}; ok={report.Ok}; {summary}", 2048), cancellationToken);
    }

    private ConnectivityTarget? TargetFor(HarborConnection connection) =>
        secrets.SettingsFor(connection, options.Value.RequestTimeout) is { } settings ? new ConnectivityTarget(settings, connection.RobotPrefix) : null;

    private static string Truncate(string value, int max) => value.Length > max ? value[..(max - 1)] + "…" : value;

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Connectivity of {Connection} verified (run {RunId}): ok={Ok}; {Summary}")]
        public static partial void Verified(ILogger logger, string connection, long runId, bool ok, string summary);
    }
}
