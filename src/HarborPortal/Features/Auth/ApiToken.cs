using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HarborPortal.Features.Auth;

/// <summary>
/// A personal API token. Only its SHA-256 hash is stored: the token itself is shown once, when created.
/// It carries its owner's roles at the time of use (so removing a user from a group narrows their tokens too).
/// </summary>
public sealed class ApiToken
{
    public long Id { get; set; }

    public long UserAccountId { get; set; }

    public UserAccount? UserAccount { get; set; }

    public required string Name { get; set; }

    /// <summary>The first characters of the token, to tell tokens apart in lists (not enough to use it).</summary>
    public required string Prefix { get; set; }

    /// <summary>Lower-case hex SHA-256 of the whole token.</summary>
    public required string TokenHash { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }

    public DateTimeOffset? RevokedAt { get; set; }

    public DateTimeOffset? LastUsedAt { get; set; }
}

internal sealed class ApiTokenConfiguration : IEntityTypeConfiguration<ApiToken>
{
    public void Configure(EntityTypeBuilder<ApiToken> builder)
    {
        builder.Property(t => t.Name).HasMaxLength(128);
        builder.Property(t => t.Prefix).HasMaxLength(16);
        builder.Property(t => t.TokenHash).HasMaxLength(64);
        builder.HasIndex(t => t.TokenHash).IsUnique();
        builder.HasOne(t => t.UserAccount).WithMany().HasForeignKey(t => t.UserAccountId).OnDelete(DeleteBehavior.Cascade);
    }
}
