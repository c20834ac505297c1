using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HarborPortal.Features.Findings;

// Triage's columns: kept apart from Finding.cs and the queue's columns so that each changes on its own.
public sealed partial class Finding
{
    /// <summary>The decision that set <see cref="Status"/> (risk accepted, false positive); null when a person or the sync set it.</summary>
    public long? TriageDecisionId { get; set; }

    /// <summary>The expiry of the risk acceptance behind the status, copied from its decision so that the priority rules read it from the row.</summary>
    public DateTimeOffset? RiskAcceptedUntil { get; set; }

    /// <summary>The portal user (user name) the finding is assigned to.</summary>
    public string? AssignedTo { get; set; }

    public long? AssignedTeamId { get; set; }
}

internal sealed class FindingTriageConfiguration : IEntityTypeConfiguration<Finding>
{
    public void Configure(EntityTypeBuilder<Finding> builder)
    {
        builder.Property(f => f.AssignedTo).HasMaxLength(256);

        // Partial indexes: most findings are neither triaged nor assigned, and a NULL costs a sync's insert nothing here.
        // No foreign keys either (decisions are never deleted; a deleted team's id is never reused): checks on every insert.
        builder.HasIndex(f => f.TriageDecisionId).HasFilter("\"TriageDecisionId\" IS NOT NULL");
        builder.HasIndex(f => new { f.AssignedTo, f.Priority }).HasFilter("\"AssignedTo\" IS NOT NULL");
        builder.HasIndex(f => new { f.AssignedTeamId, f.Priority }).HasFilter("\"AssignedTeamId\" IS NOT NULL");
    }
}
