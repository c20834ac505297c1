using HarborPortal.Features.Connections;
using HarborPortal.Features.Findings;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HarborPortal.Features.Posture;

/// <summary>
/// The latest result of one posture check for one scope of a connection (every outcome, Pass and Not assessed
/// included — findings hold only the failures). Each assessment replaces the connection's rows.
/// </summary>
public sealed class PostureResult
{
    public const int MaxEvidenceLength = 2000;

    public long Id { get; set; }

    public long ConnectionId { get; set; }

    public required string CheckId { get; set; }

    /// <summary><see cref="PostureChecks.SystemScope"/>, a project name or a robot name.</summary>
    public required string Scope { get; set; }

    /// <summary>The Harbor project the scope belongs to; empty for system checks.</summary>
    public string ProjectName { get; set; } = "";

    public PostureOutcome Outcome { get; set; }

    public Severity Severity { get; set; }

    public string Evidence { get; set; } = "";

    /// <summary>For Not assessed because of a refusal: the permission the account lacks.</summary>
    public string? NeededPermission { get; set; }

    public DateTimeOffset AssessedAt { get; set; }
}

internal sealed class PostureResultConfiguration : IEntityTypeConfiguration<PostureResult>
{
    public void Configure(EntityTypeBuilder<PostureResult> builder)
    {
        builder.Property(r => r.CheckId).HasMaxLength(64);
        builder.Property(r => r.Scope).HasMaxLength(256);
        builder.Property(r => r.ProjectName).HasMaxLength(256);
        builder.Property(r => r.Outcome).HasConversion<string>().HasMaxLength(16);
        builder.Property(r => r.Evidence).HasMaxLength(PostureResult.MaxEvidenceLength);
        builder.Property(r => r.NeededPermission).HasMaxLength(256);
        builder.HasIndex(r => new { r.ConnectionId, r.CheckId, r.Scope }).IsUnique();
        builder.HasOne<HarborConnection>().WithMany().HasForeignKey(r => r.ConnectionId).OnDelete(DeleteBehavior.Cascade);
    }
}
