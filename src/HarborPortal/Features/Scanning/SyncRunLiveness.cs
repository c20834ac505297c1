using System.Data.Common;
using System.Security.Cryptography;
using HarborPortal.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace HarborPortal.Features.Scanning;

/// <summary>The <c>Sync</c> section: how running syncs show they are alive.</summary>
public sealed class SyncOptions
{
    public const string SectionName = "Sync";

    /// <summary>
    /// A Running run whose heartbeat is older than this is orphaned: its instance died. Longer than the Quartz cluster's
    /// check-in threshold, so that a dead node's job is recovered by another node before anyone gives up on its run.
    /// </summary>
    public TimeSpan OrphanAfter { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How often the runner writes its heartbeat (one single-row UPDATE).</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>This process's name in <see cref="SyncRun.RunningOn"/>: unique per start, so that a restarted portal is another instance.</summary>
public sealed class PortalInstance
{
    public string Id { get; } = $"{Environment.MachineName}-{Environment.ProcessId}-{RandomNumberGenerator.GetHexString(6, lowercase: true)}";
}

/// <summary>
/// Tells a running sync from an orphaned one (its instance died mid-run) and writes the runner's heartbeat. On
/// PostgreSQL several instances run syncs, so only a stale heartbeat proves an instance dead; SQLite has one instance,
/// so a run Running on any other (an earlier life of this portal) is orphaned at once, without waiting for the threshold.
/// </summary>
public sealed class SyncRunLiveness(PortalInstance instance, SqlDialect dialect, IOptions<SyncOptions> options, TimeProvider time)
{
    public const string InterruptedReason = "Interrupted: the instance running it stopped";

    public string InstanceId => instance.Id;

    public TimeSpan HeartbeatInterval => options.Value.HeartbeatInterval;

    public bool IsOrphaned(SyncRun run)
    {
        if (run.Status != SyncRunStatus.Running)
        {
            return false;
        }

        if (!dialect.IsPostgres && run.RunningOn is not null && run.RunningOn != instance.Id)
        {
            return true;
        }

        // A run without an instance was started before heartbeats existed: its start is the last sign of life.

        var lastSign = run.HeartbeatAt ?? run.StartedAt ?? run.RequestedAt;
        return lastSign < time.GetUtcNow() - options.Value.OrphanAfter;
    }

    /// <summary>
    /// Ends an orphaned run Failed with the reason, unless its owner or a taker wrote meanwhile (the update is
    /// conditional on the heartbeat read). True when the run no longer blocks a new one.
    /// </summary>
    public async Task<bool> AbandonAsync(PortalDbContext db, SyncRun orphan, CancellationToken cancellationToken)
    {
        var seenOn = orphan.RunningOn;
        var seenBeat = orphan.HeartbeatAt;
        orphan.AddError($"{InterruptedReason} ({seenOn ?? "unknown"}) and no other instance resumed it; a new sync replaces it.");
        var errors = orphan.Errors;
        var errorCount = orphan.ErrorCount;
        var now = time.GetUtcNow();
        var ended = await db.SyncRuns
            .Where(r => r.Id == orphan.Id && r.Status == SyncRunStatus.Running && r.RunningOn == seenOn && r.HeartbeatAt == seenBeat)
            .ExecuteUpdateAsync(set => set
                .SetProperty(r => r.Status, SyncRunStatus.Failed)
                .SetProperty(r => r.FinishedAt, now)
                .SetProperty(r => r.Errors, errors)
                .SetProperty(r => r.ErrorCount, errorCount), cancellationToken);
        return ended == 1;
    }

    /// <summary>
    /// Says "still running on this instance" for the run. False when another instance has taken the run over (this
    /// one was taken for dead): the caller must stop without writing the run's end.
    /// </summary>
    public async Task<bool> BeatAsync(DbConnection connection, long runId)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "UPDATE \"SyncRuns\" SET \"HeartbeatAt\" = @at WHERE \"Id\" = @id AND \"RunningOn\" = @instance";
        Add(command, "@at", dialect.Stored(time.GetUtcNow()));
        Add(command, "@id", runId);
        Add(command, "@instance", instance.Id);
        // Not cancellable: a beat is one row, and a stopping run still owns its row until it has written its end.
        return await command.ExecuteNonQueryAsync(CancellationToken.None) == 1;
    }

    private static void Add(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}
