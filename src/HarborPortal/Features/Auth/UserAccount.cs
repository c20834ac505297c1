using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HarborPortal.Features.Auth;

/// <summary>
/// A person (or an API-only automation account) known to the portal. People from authentik are keyed on
/// (issuer, subject), never on email: authentik's <c>email_verified</c> is false by default and its
/// <c>sub</c> is a hashed id that does not change when a user renames themselves.
/// </summary>
public sealed class UserAccount
{
    public long Id { get; set; }

    /// <summary>The OIDC issuer, <see cref="LocalIssuer"/> for the break-glass admin, <see cref="ApiIssuer"/> for API-only accounts.</summary>
    public required string Issuer { get; set; }

    public required string Subject { get; set; }

    public required string UserName { get; set; }

    public string? Email { get; set; }

    public string? DisplayName { get; set; }

    /// <summary>Group names from the last sign-in, newline separated (kept for the admin's eyes and for team scoping).</summary>
    public string Groups { get; set; } = "";

    /// <summary>Portal roles from the last sign-in (or given by an admin command), comma separated.</summary>
    public string Roles { get; set; } = "";

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? LastSignInAt { get; set; }

    public const string LocalIssuer = "urn:harborportal:local";
    public const string ApiIssuer = "urn:harborportal:api";

    public IReadOnlyList<string> RoleList => Roles.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public IReadOnlyList<string> GroupList => Groups.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

internal sealed class UserAccountConfiguration : IEntityTypeConfiguration<UserAccount>
{
    public void Configure(EntityTypeBuilder<UserAccount> builder)
    {
        builder.HasIndex(u => new { u.Issuer, u.Subject }).IsUnique();
        builder.HasIndex(u => u.UserName);
        builder.Property(u => u.Issuer).HasMaxLength(512);
        builder.Property(u => u.Subject).HasMaxLength(256);
        builder.Property(u => u.UserName).HasMaxLength(256);
        builder.Property(u => u.Email).HasMaxLength(320);
        builder.Property(u => u.DisplayName).HasMaxLength(256);
        builder.Property(u => u.Roles).HasMaxLength(256);
    }
}
