using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HarborPortal.Features.Findings;

/// <summary>A vulnerability's severity, as Harbor's scanners name it. Stored as a number so that it sorts.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<Severity>))]
public enum Severity
{
    Unknown = 0,
    None = 1,
    Low = 2,
    Medium = 3,
    High = 4,
    Critical = 5,
}

/// <summary>
/// Where a finding stands. <see cref="Resolved"/> is set by the sync only (the scanner no longer reports it) and a finding
/// seen again goes back to <see cref="Open"/>; the others are triage decisions. Values are stored, so never renumber.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<FindingStatus>))]
public enum FindingStatus
{
    Open = 0,
    Resolved = 1,
    InProgress = 2,

    /// <summary>Needs a justification and an expiry date; the finding reopens by itself when the date passes.</summary>
    RiskAccepted = 3,

    /// <summary>Needs a justification.</summary>
    FalsePositive = 4,
}

/// <summary>
/// One vulnerability in one package of one artifact, as a scanner reported it through Harbor. Its
/// <see cref="Identity"/> is stable across syncs, so a re-sync updates the same row instead of adding one.
/// </summary>
public sealed partial class Finding
{
    public const string HarborSource = "Harbor";
    public const string NoLongerReported = "no longer reported";
    public const string ArtifactRemoved = "artifact removed";

    /// <summary>The artifact still exists but is no longer in the connection's scanned locations.</summary>
    public const string LeftScannedLocations = "left the scanned locations";
    public const int MaxDescriptionLength = 4000;
    public const int MaxTitleLength = 256;

    public long Id { get; set; }

    /// <summary>SHA-256 (hex) of connection | repository | digest | vulnerability | package | installed version.</summary>
    public required string Identity { get; set; }

    /// <summary>The connection the finding came from (kept when the connection is deleted with findings=keep).</summary>
    public long ConnectionId { get; set; }

    public required string ProjectName { get; set; }

    /// <summary>The full repository name, project included (<c>team-a/payments-api</c>).</summary>
    public required string RepositoryName { get; set; }

    public required string Digest { get; set; }

    /// <summary>The artifact's tags when last seen, comma separated.</summary>
    public string Tags { get; set; } = "";

    public required string VulnerabilityId { get; set; }

    public required string PackageName { get; set; }

    public string InstalledVersion { get; set; } = "";

    /// <summary>Empty when there is no fix.</summary>
    public string FixedVersion { get; set; } = "";

    public Severity Severity { get; set; }

    public double? CvssScore { get; set; }

    public string? CvssVector { get; set; }

    public string Title { get; set; } = "";

    public string Description { get; set; } = "";

    /// <summary>Reference links, one per line.</summary>
    public string Links { get; set; } = "";

    /// <summary>For an image index: the child digests the vulnerability was found in, one per line.</summary>
    public string ArtifactDigests { get; set; } = "";

    public string SourceTool { get; set; } = HarborSource;

    public string? ScannerName { get; set; }

    public string? ScannerVersion { get; set; }

    public FindingStatus Status { get; set; }

    /// <summary><see cref="NoLongerReported"/>, <see cref="ArtifactRemoved"/> or <see cref="LeftScannedLocations"/> while resolved.</summary>
    public string? ResolvedReason { get; set; }

    public DateTimeOffset FirstSeenAt { get; set; }

    public DateTimeOffset LastSeenAt { get; set; }

    public DateTimeOffset? ResolvedAt { get; set; }

    /// <summary>How many times the finding came back after being resolved (its history in brief).</summary>
    public int ReopenCount { get; set; }

    public static string IdentityOf(long connectionId, string repositoryName, string digest, string vulnerabilityId, string packageName, string installedVersion)
    {
        var key = string.Join('|', connectionId.ToString(System.Globalization.CultureInfo.InvariantCulture), repositoryName, digest, vulnerabilityId, packageName, installedVersion);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
    }

    public static Severity ParseSeverity(string? value) =>
        Enum.TryParse<Severity>(value, ignoreCase: true, out var severity) && Enum.IsDefined(severity) ? severity : Severity.Unknown;
}

internal sealed class FindingConfiguration : IEntityTypeConfiguration<Finding>
{
    public void Configure(EntityTypeBuilder<Finding> builder)
    {
        builder.Property(f => f.Identity).HasMaxLength(64);
        builder.HasIndex(f => f.Identity).IsUnique();
        builder.HasIndex(f => new { f.ConnectionId, f.Status });
        builder.HasIndex(f => f.Severity);
        builder.HasIndex(f => new { f.ConnectionId, f.RepositoryName, f.Digest });
        builder.Property(f => f.ProjectName).HasMaxLength(256);
        builder.Property(f => f.RepositoryName).HasMaxLength(512);
        builder.Property(f => f.Digest).HasMaxLength(128);
        builder.Property(f => f.VulnerabilityId).HasMaxLength(128);
        builder.Property(f => f.PackageName).HasMaxLength(512);
        builder.Property(f => f.InstalledVersion).HasMaxLength(256);
        builder.Property(f => f.FixedVersion).HasMaxLength(512);
        builder.Property(f => f.CvssVector).HasMaxLength(256);
        builder.Property(f => f.Title).HasMaxLength(Finding.MaxTitleLength);
        builder.Property(f => f.Description).HasMaxLength(Finding.MaxDescriptionLength);
        builder.Property(f => f.SourceTool).HasMaxLength(32);
        builder.Property(f => f.ScannerName).HasMaxLength(128);
        builder.Property(f => f.ScannerVersion).HasMaxLength(64);
        builder.Property(f => f.ResolvedReason).HasMaxLength(64);
    }
}
