using System.Text.Json;
using System.Text.Json.Serialization;
using HarborPortal.Features.Connections;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HarborPortal.Features.Scanning;

[JsonConverter(typeof(JsonStringEnumConverter<SyncRunStatus>))]
public enum SyncRunStatus
{
    Pending,
    Running,
    Succeeded,
    Partial,
    Failed,
    Cancelled,
}

/// <summary>What asked for a sync run.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<SyncTrigger>))]
public enum SyncTrigger
{
    /// <summary>"Scan now" or the API.</summary>
    Manual,

    /// <summary>The connection's schedule.</summary>
    Schedule,

    /// <summary>Harbor's webhooks (a targeted run over the artifacts they named).</summary>
    Webhook,

    /// <summary>Demo mode's first sync.</summary>
    Demo,
}

/// <summary>
/// One artifact a targeted run re-reads from Harbor (named by a webhook; its payload is never trusted).
/// <see cref="RepositoryName"/> may be the full name (<c>team-a/payments-api</c>) or the name inside the project;
/// <see cref="Digest"/> should be the digest (a tag is read too, but cannot resolve a deleted artifact's findings).
/// </summary>
public sealed record ArtifactRef(string ProjectName, string RepositoryName, string Digest);

/// <summary>One sync of a connection: requested, run by <see cref="SyncJob"/>, then its counts and errors.</summary>
public sealed class SyncRun
{
    /// <summary>Errors kept per run; the count goes on past it.</summary>
    public const int MaxErrors = 100;

    private static readonly JsonSerializerOptions ErrorsJsonOptions = new(JsonSerializerDefaults.Web);

    public long Id { get; set; }

    public long ConnectionId { get; set; }

    public SyncRunStatus Status { get; set; }

    public string? RequestedBy { get; set; }

    public DateTimeOffset RequestedAt { get; set; }

    public DateTimeOffset? StartedAt { get; set; }

    public DateTimeOffset? FinishedAt { get; set; }

    public SyncTrigger Trigger { get; set; }

    /// <summary>
    /// For a targeted run, the <see cref="ArtifactRef"/>s to re-read as a JSON list; null for a full run over the
    /// scanned locations.
    /// </summary>
    public string? Targets { get; set; }

    /// <summary>How many artifacts the run will look at, once enumeration has counted them (the progress bar's 100 %); 0 before.</summary>
    public int ArtifactsTotal { get; set; }

    /// <summary>Unscanned artifacts the run asked Harbor to scan.</summary>
    public int ArtifactsScanRequested { get; set; }

    /// <summary>Artifacts whose Harbor scan ended in an error.</summary>
    public int ArtifactsScanFailed { get; set; }

    /// <summary>Set by Cancel; the runner stops at its next safe point and the run ends Cancelled.</summary>
    public DateTimeOffset? CancelRequestedAt { get; set; }

    public string? CancelRequestedBy { get; set; }

    /// <summary>The instance running the run (<see cref="PortalInstance"/>); it writes <see cref="HeartbeatAt"/> every few seconds.</summary>
    public string? RunningOn { get; set; }

    /// <summary>When the running instance last said it was alive: a stale heartbeat means the run is orphaned (<see cref="SyncRunLiveness"/>).</summary>
    public DateTimeOffset? HeartbeatAt { get; set; }

    /// <summary>The instance that was running the run when it died, once another took the run over and started it again.</summary>
    public string? ResumedFrom { get; set; }

    /// <summary>Projects in the scanned locations that Harbor listed.</summary>
    public int Projects { get; set; }

    /// <summary>Repositories in the scanned locations whose artifacts were listed.</summary>
    public int Repositories { get; set; }

    /// <summary>Artifacts looked at so far (each selected artifact, or each target of a targeted run, once): the progress against <see cref="ArtifactsTotal"/>.</summary>
    public int ArtifactsSeen { get; set; }

    /// <summary>Artifacts whose newer report was read and applied.</summary>
    public int ArtifactsChanged { get; set; }

    /// <summary>Artifacts whose report had not changed (no request made), and targets outside the scanned locations.</summary>
    public int ArtifactsSkipped { get; set; }

    /// <summary>Artifacts without a report to read (never scanned and not sent to scan, scan pending or running, or Harbor answered <c>{}</c>).</summary>
    public int ArtifactsNotScanned { get; set; }

    /// <summary>Synced artifacts that are gone from Harbor or left the scanned locations; their findings were resolved.</summary>
    public int ArtifactsRemoved { get; set; }

    public int ReportsFetched { get; set; }

    public int FindingsNew { get; set; }

    public int FindingsUpdated { get; set; }

    public int FindingsResolved { get; set; }

    public int FindingsReopened { get; set; }

    public int ErrorCount { get; set; }

    /// <summary>The first <see cref="MaxErrors"/> errors as a JSON list of strings.</summary>
    public string Errors { get; set; } = "[]";

    public bool IsActive => Status is SyncRunStatus.Pending or SyncRunStatus.Running;

    public IReadOnlyList<ArtifactRef>? TargetList
    {
        get => Targets is null ? null : JsonSerializer.Deserialize<List<ArtifactRef>>(Targets, ErrorsJsonOptions) ?? [];
        set => Targets = value is null ? null : JsonSerializer.Serialize(value, ErrorsJsonOptions);
    }

    public IReadOnlyList<string> ErrorList
    {
        get => JsonSerializer.Deserialize<List<string>>(Errors, ErrorsJsonOptions) ?? [];
        set => Errors = JsonSerializer.Serialize(value, ErrorsJsonOptions);
    }

    /// <summary>Clears the counts and errors of an attempt that was interrupted, before the run starts over.</summary>
    public void Restart()
    {
        Projects = Repositories = ArtifactsSeen = ArtifactsChanged = ArtifactsSkipped = ArtifactsNotScanned = ArtifactsRemoved = 0;
        ReportsFetched = FindingsNew = FindingsUpdated = FindingsResolved = FindingsReopened = ErrorCount = 0;
        ArtifactsTotal = ArtifactsScanRequested = ArtifactsScanFailed = 0;
        Errors = "[]";
    }

    public void AddError(string error)
    {
        ErrorCount++;
        var errors = ErrorList;
        if (errors.Count < MaxErrors)
        {
            ErrorList = [.. errors, error.Length > 1000 ? error[..999] + "…" : error];
        }
    }
}

internal sealed class SyncRunConfiguration : IEntityTypeConfiguration<SyncRun>
{
    public void Configure(EntityTypeBuilder<SyncRun> builder)
    {
        builder.Property(r => r.Status).HasConversion<string>().HasMaxLength(16);
        builder.Property(r => r.RequestedBy).HasMaxLength(256);
        builder.Property(r => r.Trigger).HasConversion<string>().HasMaxLength(16);
        builder.Property(r => r.CancelRequestedBy).HasMaxLength(256);
        builder.Property(r => r.RunningOn).HasMaxLength(128);
        builder.Property(r => r.ResumedFrom).HasMaxLength(128);
        builder.Ignore(r => r.ErrorList);
        builder.Ignore(r => r.TargetList);
        builder.Ignore(r => r.IsActive);
        builder.HasIndex(r => new { r.ConnectionId, r.Status });
        builder.HasOne<HarborConnection>().WithMany().HasForeignKey(r => r.ConnectionId).OnDelete(DeleteBehavior.Cascade);
    }
}
