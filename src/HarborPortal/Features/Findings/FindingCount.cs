using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HarborPortal.Features.Findings;

/// <summary>
/// How many findings share one combination of the queue's few-valued columns. Database triggers on Findings keep it
/// exact on every insert, update and delete, so facet counts over a million findings add up a few thousand rows
/// instead of reading the million (see migration 20261122180000).
/// </summary>
public sealed class FindingCount
{
    public long ConnectionId { get; set; }

    public required string ProjectName { get; set; }

    public required string SourceTool { get; set; }

    public Severity Severity { get; set; }

    public Severity Priority { get; set; }

    public FindingStatus Status { get; set; }

    public bool FixAvailable { get; set; }

    public long Count { get; set; }
}

internal sealed class FindingCountConfiguration : IEntityTypeConfiguration<FindingCount>
{
    public void Configure(EntityTypeBuilder<FindingCount> builder)
    {
        builder.HasKey(c => new { c.ConnectionId, c.ProjectName, c.SourceTool, c.Severity, c.Priority, c.Status, c.FixAvailable });
        builder.Property(c => c.ProjectName).HasMaxLength(256);
        builder.Property(c => c.SourceTool).HasMaxLength(32);
    }
}
