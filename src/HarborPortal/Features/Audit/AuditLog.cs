using HarborPortal.Data;

namespace HarborPortal.Features.Audit;

/// <summary>Appends to the audit log. Callers pass facts, never secrets.</summary>
public sealed class AuditLog(IServiceScopeFactory scopes, TimeProvider time, IHttpContextAccessor http)
{
    public async Task WriteAsync(string action, bool succeeded, string? actor, string? method, string? target = null, string? details = null, CancellationToken cancellationToken = default)
    {
        // Its own context: an audit line must be written even when the caller's unit of work is abandoned.
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
        db.AuditEvents.Add(new AuditEvent
        {
            At = time.GetUtcNow(),
            Action = action,
            Succeeded = succeeded,
            Actor = Truncate(actor, 256),
            Method = method,
            IpAddress = http.HttpContext?.Connection.RemoteIpAddress?.ToString(),
            Target = Truncate(target, 512),
            Details = Truncate(details, 2048),
        });
        await db.SaveChangesAsync(cancellationToken);
    }

    private static string? Truncate(string? value, int max) => value is { Length: > 0 } && value.Length > max ? value[..max] : value;
}
