using System.Security.Claims;
using HarborPortal.Data;
using HarborPortal.Features.Audit;
using HarborPortal.Features.Auth;
using Microsoft.EntityFrameworkCore;

namespace HarborPortal.Features.Webhooks;

/// <summary>A secret just made: <see cref="Secret"/> is shown once and stored nowhere (only its hash is).</summary>
public sealed record GeneratedWebhookSecret(string Secret, bool Rotated);

/// <summary>Turning a connection's webhooks on (a new secret), rotating the secret, and turning them off. Audited.</summary>
public sealed class WebhookCommands(PortalDbContext db, AuditLog audit, TimeProvider time)
{
    /// <summary>A new secret for the connection, replacing any previous one at once; null when there is no such connection.</summary>
    public async Task<GeneratedWebhookSecret?> GenerateSecretAsync(long connectionId, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var connection = await db.HarborConnections.AsNoTracking().Where(c => c.Id == connectionId).Select(c => new { c.Name }).SingleOrDefaultAsync(cancellationToken);
        if (connection is null)
        {
            return null;
        }

        var webhook = await db.ConnectionWebhooks.FindAsync([connectionId], cancellationToken);
        if (webhook is null)
        {
            webhook = new ConnectionWebhook { ConnectionId = connectionId };
            db.ConnectionWebhooks.Add(webhook);
        }

        var rotated = webhook.IsOn;
        var secret = WebhookSecrets.Generate();
        webhook.SecretHash = WebhookSecrets.Hash(secret);
        webhook.SecretCreatedAt = time.GetUtcNow();
        webhook.SecretCreatedBy = user.Identity?.Name;
        await db.SaveChangesAsync(cancellationToken);
        await WriteAuditAsync(rotated ? "webhook.rotate-secret" : "webhook.generate-secret", user, connection.Name,
            rotated ? "webhook secret replaced; the old one no longer works" : "webhooks turned on with a new secret", cancellationToken);
        return new GeneratedWebhookSecret(secret, rotated);
    }

    /// <summary>Forgets the secret, so every webhook is refused; false when there is no such connection.</summary>
    public async Task<bool> TurnOffAsync(long connectionId, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var connection = await db.HarborConnections.AsNoTracking().Where(c => c.Id == connectionId).Select(c => new { c.Name }).SingleOrDefaultAsync(cancellationToken);
        if (connection is null)
        {
            return false;
        }

        var webhook = await db.ConnectionWebhooks.FindAsync([connectionId], cancellationToken);
        if (webhook is { IsOn: true })
        {
            webhook.SecretHash = null;
            webhook.SecretCreatedAt = null;
            webhook.SecretCreatedBy = null;
            await db.SaveChangesAsync(cancellationToken);
            await WriteAuditAsync("webhook.turn-off", user, connection.Name, "webhook secret removed; webhooks are refused", cancellationToken);
        }

        return true;
    }

    private Task WriteAuditAsync(string action, ClaimsPrincipal user, string connectionName, string details, CancellationToken cancellationToken) =>
        audit.WriteAsync(action, true, user.Identity?.Name, user.FindFirstValue(PortalClaimTypes.AuthMethod) ?? "web", connectionName, details, cancellationToken);
}
