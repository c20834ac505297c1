using HarborPortal.Features.Scanning;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HarborPortal.Features.Findings;

/// <summary>
/// What can happen to a finding. Stored as text, so that a new kind (triage: assigned, risk accepted, …) is a new
/// constant here and never a migration, and rows written by a newer portal still read.
/// </summary>
public static class FindingEventKind
{
    /// <summary>First reported.</summary>
    public const string Opened = "Opened";

    /// <summary>No longer reported, its artifact removed, or its artifact left the scanned locations (see the reason).</summary>
    public const string Resolved = "Resolved";

    /// <summary>Reported again after being resolved.</summary>
    public const string Reopened = "Reopened";

    public const int MaxLength = 32;
}

/// <summary>
/// One entry of a finding's history (its timeline): when it was opened, resolved (and why), reopened, and later
/// triaged. The sync writes its entries in bulk with <see cref="Actor"/> null and the run that observed the change.
/// </summary>
public sealed class FindingEvent
{
    public const int MaxReasonLength = 256;

    public long Id { get; set; }

    public long FindingId { get; set; }

    public DateTimeOffset At { get; set; }

    /// <summary>One of <see cref="FindingEventKind"/>.</summary>
    public required string Kind { get; set; }

    /// <summary>Why, in words (<see cref="Finding.NoLongerReported"/>, a triage comment, …); null when the kind says it all.</summary>
    public string? Reason { get; set; }

    /// <summary>The sync run that observed the change; null for people's changes (and once the run is deleted).</summary>
    public long? SyncRunId { get; set; }

    /// <summary>Who made the change; null for the sync.</summary>
    public string? Actor { get; set; }
}

internal sealed class FindingEventConfiguration : IEntityTypeConfiguration<FindingEvent>
{
    public void Configure(EntityTypeBuilder<FindingEvent> builder)
    {
        builder.Property(e => e.Kind).HasMaxLength(FindingEventKind.MaxLength);
        builder.Property(e => e.Reason).HasMaxLength(FindingEvent.MaxReasonLength);
        builder.Property(e => e.Actor).HasMaxLength(256);
        builder.HasIndex(e => new { e.FindingId, e.At });
        builder.HasIndex(e => e.SyncRunId);
        builder.HasOne<Finding>().WithMany().HasForeignKey(e => e.FindingId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<SyncRun>().WithMany().HasForeignKey(e => e.SyncRunId).OnDelete(DeleteBehavior.SetNull);
    }
}
