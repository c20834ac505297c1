using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HarborPortal.Features.Auth;

/// <summary>The break-glass admin's credential and lockout state (Harbor keeps its <c>admin</c> the same way).</summary>
public sealed class LocalAdminAccount
{
    public long Id { get; set; }

    public required string UserName { get; set; }

    /// <summary>ASP.NET Core <c>PasswordHasher</c> output.</summary>
    public required string PasswordHash { get; set; }

    public int FailedAttempts { get; set; }

    public DateTimeOffset? LockedUntil { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

internal sealed class LocalAdminAccountConfiguration : IEntityTypeConfiguration<LocalAdminAccount>
{
    public void Configure(EntityTypeBuilder<LocalAdminAccount> builder)
    {
        builder.Property(a => a.UserName).HasMaxLength(256);
        builder.Property(a => a.PasswordHash).HasMaxLength(512);
        builder.HasIndex(a => a.UserName).IsUnique();
    }
}
