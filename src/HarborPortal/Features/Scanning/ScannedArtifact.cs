using HarborPortal.Features.Connections;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HarborPortal.Features.Scanning;

/// <summary>
/// What the last sync saw of one artifact: enough to skip it without a request next time (its report's completion
/// time) and to notice that it has gone from Harbor.
/// </summary>
public sealed class ScannedArtifact
{
    public long Id { get; set; }

    public long ConnectionId { get; set; }

    public required string ProjectName { get; set; }

    /// <summary>The full repository name, project included.</summary>
    public required string RepositoryName { get; set; }

    public required string Digest { get; set; }

    /// <summary>Comma separated.</summary>
    public string Tags { get; set; } = "";

    /// <summary>Harbor's scan status (Success, Error, Running, …), or null when never scanned.</summary>
    public string? ScanStatus { get; set; }

    /// <summary>When the report whose findings are stored was completed; null until one has been read.</summary>
    public DateTimeOffset? ScanCompletedAt { get; set; }

    public DateTimeOffset LastSeenAt { get; set; }
}

internal sealed class ScannedArtifactConfiguration : IEntityTypeConfiguration<ScannedArtifact>
{
    public void Configure(EntityTypeBuilder<ScannedArtifact> builder)
    {
        builder.Property(a => a.ProjectName).HasMaxLength(256);
        builder.Property(a => a.RepositoryName).HasMaxLength(512);
        builder.Property(a => a.Digest).HasMaxLength(128);
        builder.Property(a => a.ScanStatus).HasMaxLength(16);
        builder.HasIndex(a => new { a.ConnectionId, a.RepositoryName, a.Digest }).IsUnique();
        builder.HasOne<HarborConnection>().WithMany().HasForeignKey(a => a.ConnectionId).OnDelete(DeleteBehavior.Cascade);
    }
}
