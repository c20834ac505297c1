using HarborPortal.Features.Connections;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HarborPortal.Features.Webhooks;

/// <summary>
/// A connection's Harbor webhook: the hash of its secret (never the secret) and what arrived last, for the connection
/// page. No row, or no hash, means webhooks are off and every call is refused.
/// </summary>
public sealed class ConnectionWebhook
{
    public const int MaxEventTypeLength = 64;

    public long ConnectionId { get; set; }

    /// <summary>Lower-case hex SHA-256 of the secret (<see cref="WebhookSecrets.Hash"/>); null when webhooks are off.</summary>
    public string? SecretHash { get; set; }

    public DateTimeOffset? SecretCreatedAt { get; set; }

    public string? SecretCreatedBy { get; set; }

    /// <summary>When the last authenticated, well-formed webhook arrived (accepted or ignored).</summary>
    public DateTimeOffset? LastReceivedAt { get; set; }

    /// <summary>Its event type as Harbor sent it (<c>PUSH_ARTIFACT</c>, <c>harbor.scan.completed</c>, …).</summary>
    public string? LastEventType { get; set; }

    /// <summary>The sync run it asked for; null when it was ignored.</summary>
    public long? LastRunId { get; set; }

    /// <summary>Authenticated, well-formed webhooks received since the first secret was made.</summary>
    public long ReceivedCount { get; set; }

    public bool IsOn => SecretHash is not null;
}

internal sealed class ConnectionWebhookConfiguration : IEntityTypeConfiguration<ConnectionWebhook>
{
    public void Configure(EntityTypeBuilder<ConnectionWebhook> builder)
    {
        builder.HasKey(w => w.ConnectionId);
        builder.Property(w => w.ConnectionId).ValueGeneratedNever();
        builder.Property(w => w.SecretHash).HasMaxLength(64);
        builder.Property(w => w.SecretCreatedBy).HasMaxLength(256);
        builder.Property(w => w.LastEventType).HasMaxLength(ConnectionWebhook.MaxEventTypeLength);
        builder.Ignore(w => w.IsOn);
        builder.HasOne<HarborConnection>().WithOne().HasForeignKey<ConnectionWebhook>(w => w.ConnectionId).OnDelete(DeleteBehavior.Cascade);
    }
}
