using HarborPortal.Features.Findings;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HarborPortal.Features.Dashboard;

/// <summary>
/// How many findings one (connection, project, source tool, severity) had at the start of a UTC day, by status class: the
/// dashboard's trend reads these instead of replaying history. Written once a day from FindingCounts, so a day is a few
/// hundred rows at most. Every snapshot also writes one <see cref="IsDayMarker"/> row, so that a day whose findings were
/// all zero reads as zero rather than as a day without a snapshot (a gap).
/// </summary>
public sealed class FindingSnapshot
{
    public DateOnly Day { get; set; }

    /// <summary>0 on the day marker.</summary>
    public long ConnectionId { get; set; }

    /// <summary>Empty on the day marker.</summary>
    public required string ProjectName { get; set; }

    public required string SourceTool { get; set; }

    public Severity Severity { get; set; }

    /// <summary>Open and In progress: the work still to do.</summary>
    public long Open { get; set; }

    /// <summary>Risk accepted and False positive: decided, not fixed.</summary>
    public long Suppressed { get; set; }

    public long Resolved { get; set; }

    public bool IsDayMarker => ConnectionId == 0 && ProjectName.Length == 0;
}

internal sealed class FindingSnapshotConfiguration : IEntityTypeConfiguration<FindingSnapshot>
{
    public void Configure(EntityTypeBuilder<FindingSnapshot> builder)
    {
        builder.HasKey(s => new { s.Day, s.ConnectionId, s.ProjectName, s.SourceTool, s.Severity });
        builder.Property(s => s.ProjectName).HasMaxLength(256);
        builder.Property(s => s.SourceTool).HasMaxLength(32);
        builder.Ignore(s => s.IsDayMarker);
    }
}

/// <summary>
/// The dashboard's indexes on Findings, kept with their only reader. Resolved findings by date (new versus resolved per
/// week, mean time to resolve, the queue's resolved-date filter) and open findings by severity and age (SLA breaches,
/// counted inside the index without reading a row).
/// </summary>
internal sealed class FindingDashboardConfiguration : IEntityTypeConfiguration<Finding>
{
    public void Configure(EntityTypeBuilder<Finding> builder)
    {
        builder.HasIndex(f => f.ResolvedAt);
        builder.HasIndex(f => new { f.Status, f.Severity, f.FirstSeenAt });
    }
}
