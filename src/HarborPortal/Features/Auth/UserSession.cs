using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HarborPortal.Features.Auth;

/// <summary>
/// A signed-in browser session. The cookie carries only <see cref="Id"/>; the authentication ticket lives
/// here, so an admin can list and revoke sessions, authentik's back-channel logout can end the session with
/// a given <c>sid</c>, and every portal instance sees the same sessions.
/// </summary>
public sealed class UserSession
{
    public required string Id { get; set; }

    public long? UserAccountId { get; set; }

    public UserAccount? UserAccount { get; set; }

    /// <summary>The provider's session id (<c>sid</c> in authentik's tokens), for back-channel logout.</summary>
    public string? ProviderSessionId { get; set; }

    public string? Issuer { get; set; }

    public string? Subject { get; set; }

    public string? UserName { get; set; }

    /// <summary>"oidc" or "local".</summary>
    public required string Method { get; set; }

    /// <summary>The serialized ticket, protected with Data Protection (it holds the id_token for logout).</summary>
    public required byte[] Ticket { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset LastSeenAt { get; set; }

    /// <summary>Sliding expiry (renewed on use) — never later than <see cref="AbsoluteExpiresAt"/>.</summary>
    public DateTimeOffset ExpiresAt { get; set; }

    public DateTimeOffset AbsoluteExpiresAt { get; set; }

    public DateTimeOffset? EndedAt { get; set; }

    public string? EndedReason { get; set; }

    public string? IpAddress { get; set; }

    public string? UserAgent { get; set; }
}

internal sealed class UserSessionConfiguration : IEntityTypeConfiguration<UserSession>
{
    public void Configure(EntityTypeBuilder<UserSession> builder)
    {
        builder.Property(s => s.Id).HasMaxLength(64);
        builder.Property(s => s.Method).HasMaxLength(16);
        builder.Property(s => s.ProviderSessionId).HasMaxLength(256);
        builder.Property(s => s.Issuer).HasMaxLength(512);
        builder.Property(s => s.Subject).HasMaxLength(256);
        builder.Property(s => s.UserName).HasMaxLength(256);
        builder.Property(s => s.EndedReason).HasMaxLength(64);
        builder.Property(s => s.IpAddress).HasMaxLength(64);
        builder.Property(s => s.UserAgent).HasMaxLength(512);
        builder.HasIndex(s => s.ProviderSessionId);
        builder.HasIndex(s => new { s.Issuer, s.Subject });
        builder.HasOne(s => s.UserAccount).WithMany().HasForeignKey(s => s.UserAccountId).OnDelete(DeleteBehavior.Cascade);
    }
}
