using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HarborPortal.Features.Audit;

/// <summary>One line of the append-only audit log. Never holds a secret.</summary>
public sealed class AuditEvent
{
    public long Id { get; set; }

    public DateTimeOffset At { get; set; }

    /// <summary>What happened, dotted: <c>signin</c>, <c>signout</c>, <c>lockout</c>, <c>apitoken.create</c>, …</summary>
    public required string Action { get; set; }

    public bool Succeeded { get; set; }

    /// <summary>Who did it (user name), or who was attempted for a failed sign-in.</summary>
    public string? Actor { get; set; }

    /// <summary>How: <c>oidc</c>, <c>local</c>, <c>api-token</c>, <c>cli</c>, <c>backchannel</c>.</summary>
    public string? Method { get; set; }

    public string? IpAddress { get; set; }

    /// <summary>What it was done to (a connection, a token name, a session).</summary>
    public string? Target { get; set; }

    /// <summary>A short human-readable explanation.</summary>
    public string? Details { get; set; }
}

internal sealed class AuditEventConfiguration : IEntityTypeConfiguration<AuditEvent>
{
    public void Configure(EntityTypeBuilder<AuditEvent> builder)
    {
        builder.Property(e => e.Action).HasMaxLength(64);
        builder.Property(e => e.Actor).HasMaxLength(256);
        builder.Property(e => e.Method).HasMaxLength(32);
        builder.Property(e => e.IpAddress).HasMaxLength(64);
        builder.Property(e => e.Target).HasMaxLength(512);
        builder.Property(e => e.Details).HasMaxLength(2048);
        builder.HasIndex(e => e.At);
        builder.HasIndex(e => new { e.Action, e.At });
        builder.HasIndex(e => new { e.Actor, e.At });
    }
}
