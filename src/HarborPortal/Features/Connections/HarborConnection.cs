using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HarborPortal.Features.Connections;

/// <summary>How the portal signs in to a Harbor: a robot account (recommended) or a user and password.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<HarborAuthKind>))]
public enum HarborAuthKind
{
    Robot,
    User,
}

/// <summary>
/// A registered Harbor. The secret is stored only as a Data Protection payload (<see cref="ConnectionSecrets"/>);
/// the Last… fields belong to connectivity verification and sync, which fill them in.
/// </summary>
public sealed class HarborConnection
{
    public const string HarborProvider = "Harbor";

    /// <summary>Harbor's default <c>robot_name_prefix</c>; an installation can change it.</summary>
    public const string DefaultRobotPrefix = "robot$";

    public long Id { get; set; }

    /// <summary>What people call this registry in the portal; unique.</summary>
    public required string Name { get; set; }

    /// <summary>The normalised URL (<see cref="RegistryUrl"/>): scheme, lower-case host, optional port, no trailing slash.</summary>
    public required string BaseUrl { get; set; }

    public string Provider { get; set; } = HarborProvider;

    public HarborAuthKind AuthKind { get; set; }

    /// <summary>The login name Harbor expects: for a robot the full name, prefix included (e.g. <c>robot$team-a+portal</c>).</summary>
    public required string UserName { get; set; }

    public string RobotPrefix { get; set; } = DefaultRobotPrefix;

    /// <summary>The password or robot secret, encrypted with Data Protection. Never shown, logged or returned.</summary>
    public required string ProtectedSecret { get; set; }

    public DateTimeOffset SecretUpdatedAt { get; set; }

    /// <summary>Plain <c>http://</c> was explicitly allowed by an admin (staging registries).</summary>
    public bool AllowInsecureHttp { get; set; }

    /// <summary>One or more PEM certificates trusted for this Harbor's TLS chain, besides the system's.</summary>
    public string? CaCertificatePem { get; set; }

    public bool Enabled { get; set; }

    /// <summary>Sync asks Harbor to scan artifacts that have no report yet (needs <c>scan:create</c>); off: they are only counted.</summary>
    public bool ScanUnscanned { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>When connectivity was last verified (set by verification).</summary>
    public DateTimeOffset? LastVerifiedAt { get; set; }

    /// <summary>Whether that verification was all green; null until the first one.</summary>
    public bool? LastVerificationOk { get; set; }

    /// <summary>One line for the list: the first failing step and its hint, or the identity proven.</summary>
    public string? LastVerificationSummary { get; set; }

    /// <summary>When findings were last synced from this Harbor (set by the sync).</summary>
    public DateTimeOffset? LastSyncAt { get; set; }
}

internal sealed class HarborConnectionConfiguration : IEntityTypeConfiguration<HarborConnection>
{
    public void Configure(EntityTypeBuilder<HarborConnection> builder)
    {
        builder.Property(c => c.Name).HasMaxLength(ConnectionRules.MaxNameLength);
        builder.HasIndex(c => c.Name).IsUnique();
        builder.Property(c => c.BaseUrl).HasMaxLength(RegistryUrl.MaxLength);
        builder.Property(c => c.Provider).HasMaxLength(32);
        // As text, so that a reordered enum cannot silently change what rows mean.
        builder.Property(c => c.AuthKind).HasConversion<string>().HasMaxLength(16);
        builder.Property(c => c.UserName).HasMaxLength(ConnectionRules.MaxUserNameLength);
        builder.Property(c => c.RobotPrefix).HasMaxLength(ConnectionRules.MaxRobotPrefixLength);
        builder.Property(c => c.LastVerificationSummary).HasMaxLength(1024);
    }
}
