using System.Security.Claims;
using System.Security.Cryptography;
using HarborPortal.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace HarborPortal.Features.Auth;

/// <summary>The <c>Portal:Session</c> section: how long a browser session lasts.</summary>
public sealed class PortalSessionOptions
{
    public const string SectionName = "Portal:Session";

    /// <summary>Sliding: a session unused this long ends.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromHours(8);

    /// <summary>Absolute: no session outlives this, however busy.</summary>
    public TimeSpan AbsoluteLifetime { get; set; } = TimeSpan.FromDays(7);
}

/// <summary>
/// Keeps cookie tickets in <see cref="UserSession"/> rows: the cookie carries only the row's id, the ticket (with the
/// id_token kept for logout) is protected with Data Protection at rest. Every sign-in through the cookie scheme lands
/// here — OIDC and the local admin alike — so sessions can be listed, revoked and ended by back-channel logout.
/// </summary>
public sealed partial class DatabaseTicketStore(
    IDbContextFactory<PortalDbContext> contexts,
    IDataProtectionProvider dataProtection,
    IOptions<PortalSessionOptions> options,
    TimeProvider time,
    ILogger<DatabaseTicketStore> logger) : ITicketStore
{
    /// <summary>Where the ticket remembers its own row, so that logout and the sessions page know the current session.</summary>
    public const string SessionIdItem = ".portal.session";

    /// <summary>Last-seen is written at most this often: a database write per request would be wasted.</summary>
    private static readonly TimeSpan LastSeenResolution = TimeSpan.FromMinutes(1);

    private readonly IDataProtector _protector = dataProtection.CreateProtector("HarborPortal.UserSession.Ticket.v1");

    /// <summary>The session row behind the current request's cookie, or null.</summary>
    public static string? SessionId(AuthenticationProperties? properties) =>
        properties?.Items.TryGetValue(SessionIdItem, out var id) == true ? id : null;

    public Task<string> StoreAsync(AuthenticationTicket ticket) => StoreAsync(ticket, httpContext: null, CancellationToken.None);

    public Task<string> StoreAsync(AuthenticationTicket ticket, CancellationToken cancellationToken) => StoreAsync(ticket, httpContext: null, cancellationToken);

    public async Task<string> StoreAsync(AuthenticationTicket ticket, HttpContext? httpContext, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var id = WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(32));
        var absolute = now + options.Value.AbsoluteLifetime;
        ticket.Properties.Items[SessionIdItem] = id;
        var expires = Cap(ticket, now, absolute);

        var user = ticket.Principal;
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var session = new UserSession
        {
            Id = id,
            UserAccountId = await ExistingAccountIdAsync(db, user.FindFirstValue(PortalClaimTypes.UserId), cancellationToken),
            ProviderSessionId = Truncate(user.FindFirstValue(PortalClaimTypes.ProviderSessionId), 256),
            Issuer = Truncate(user.FindFirstValue(PortalClaimTypes.Issuer), 512),
            Subject = Truncate(user.FindFirstValue(PortalClaimTypes.Subject), 256),
            UserName = Truncate(user.Identity?.Name, 256),
            Method = Truncate(user.FindFirstValue(PortalClaimTypes.AuthMethod), 16) ?? "unknown",
            Ticket = Protect(ticket),
            CreatedAt = now,
            LastSeenAt = now,
            ExpiresAt = expires,
            AbsoluteExpiresAt = absolute,
            IpAddress = Truncate(httpContext?.Connection.RemoteIpAddress?.ToString(), 64),
            UserAgent = Truncate(httpContext?.Request.Headers.UserAgent.ToString(), 512),
        };
        db.UserSessions.Add(session);
        await db.SaveChangesAsync(cancellationToken);
        Log.SessionStarted(logger, session.UserName, session.Method);
        return id;
    }

    public Task RenewAsync(string key, AuthenticationTicket ticket) => RenewAsync(key, ticket, httpContext: null, CancellationToken.None);

    public Task RenewAsync(string key, AuthenticationTicket ticket, CancellationToken cancellationToken) => RenewAsync(key, ticket, httpContext: null, cancellationToken);

    public async Task RenewAsync(string key, AuthenticationTicket ticket, HttpContext? httpContext, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var session = await db.UserSessions.FirstOrDefaultAsync(s => s.Id == key, cancellationToken);
        if (session is null || session.EndedAt is not null)
        {
            // Ended meanwhile (revoked, back-channel logout): renewing must not bring it back.
            return;
        }

        var now = time.GetUtcNow();
        ticket.Properties.Items[SessionIdItem] = key;
        session.ExpiresAt = Cap(ticket, now, session.AbsoluteExpiresAt);
        session.LastSeenAt = now;
        session.Ticket = Protect(ticket);
        await db.SaveChangesAsync(cancellationToken);
    }

    public Task<AuthenticationTicket?> RetrieveAsync(string key) => RetrieveAsync(key, httpContext: null, CancellationToken.None);

    public Task<AuthenticationTicket?> RetrieveAsync(string key, CancellationToken cancellationToken) => RetrieveAsync(key, httpContext: null, cancellationToken);

    public async Task<AuthenticationTicket?> RetrieveAsync(string key, HttpContext? httpContext, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var session = await db.UserSessions.FirstOrDefaultAsync(s => s.Id == key, cancellationToken);
        var now = time.GetUtcNow();
        if (session is null || session.EndedAt is not null || session.ExpiresAt <= now || session.AbsoluteExpiresAt <= now)
        {
            // The cookie handler treats null as "not signed in": the user is sent to the login page.
            return null;
        }

        AuthenticationTicket? ticket;
        try
        {
            ticket = TicketSerializer.Default.Deserialize(_protector.Unprotect(session.Ticket));
        }
        catch (CryptographicException ex)
        {
            // Data Protection keys lost or rotated away: the session cannot be read, so it is over.
            Log.TicketUnreadable(logger, ex);
            return null;
        }

        if (now - session.LastSeenAt >= LastSeenResolution)
        {
            await db.UserSessions.Where(s => s.Id == key).ExecuteUpdateAsync(s => s.SetProperty(x => x.LastSeenAt, now), cancellationToken);
        }

        return ticket;
    }

    public Task RemoveAsync(string key) => RemoveAsync(key, httpContext: null, CancellationToken.None);

    public Task RemoveAsync(string key, CancellationToken cancellationToken) => RemoveAsync(key, httpContext: null, cancellationToken);

    /// <summary>Called by the cookie handler on sign-out, and when it finds the ticket expired. The row stays, ended, for the admin's eyes.</summary>
    public async Task RemoveAsync(string key, HttpContext? httpContext, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await db.UserSessions
            .Where(s => s.Id == key && s.EndedAt == null)
            .ExecuteUpdateAsync(
                s => s.SetProperty(x => x.EndedAt, now)
                      .SetProperty(x => x.EndedReason, x => x.ExpiresAt <= now || x.AbsoluteExpiresAt <= now ? "expired" : "signout"),
                cancellationToken);
    }

    /// <summary>Ends one session (sign-out, an admin's revoke). Returns false when it was not active.</summary>
    public async Task<bool> EndAsync(string key, string reason, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var ended = await db.UserSessions
            .Where(s => s.Id == key && s.EndedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.EndedAt, now).SetProperty(x => x.EndedReason, reason), cancellationToken);
        return ended > 0;
    }

    /// <summary>
    /// Ends every active session of a provider session (<c>sid</c>), or of the provider's user when the logout token
    /// names no <c>sid</c>. Returns the user names whose sessions ended.
    /// </summary>
    public async Task<IReadOnlyList<string>> EndProviderSessionsAsync(string issuer, string? providerSessionId, string? subject, string reason, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var sessions = db.UserSessions.Where(s => s.Issuer == issuer && s.EndedAt == null);
        sessions = !string.IsNullOrEmpty(providerSessionId)
            ? sessions.Where(s => s.ProviderSessionId == providerSessionId)
            : sessions.Where(s => s.Subject == subject);

        var users = await sessions.Select(s => s.UserName ?? s.Subject ?? "").Distinct().ToListAsync(cancellationToken);
        await sessions.ExecuteUpdateAsync(s => s.SetProperty(x => x.EndedAt, now).SetProperty(x => x.EndedReason, reason), cancellationToken);
        return users;
    }

    /// <summary>The ticket never outlives the session's absolute limit: the cookie handler checks ExpiresUtc too.</summary>
    private static DateTimeOffset Cap(AuthenticationTicket ticket, DateTimeOffset now, DateTimeOffset absolute)
    {
        var expires = ticket.Properties.ExpiresUtc ?? now + TimeSpan.FromHours(8);
        if (expires > absolute)
        {
            expires = absolute;
            ticket.Properties.ExpiresUtc = absolute;
        }

        return expires;
    }

    private byte[] Protect(AuthenticationTicket ticket) => _protector.Protect(TicketSerializer.Default.Serialize(ticket));

    private static async Task<long?> ExistingAccountIdAsync(PortalDbContext db, string? userId, CancellationToken cancellationToken) =>
        long.TryParse(userId, System.Globalization.CultureInfo.InvariantCulture, out var id) && await db.UserAccounts.AnyAsync(a => a.Id == id, cancellationToken)
            ? id
            : null;

    private static string? Truncate(string? value, int max) => string.IsNullOrEmpty(value) ? null : value.Length > max ? value[..max] : value;

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Session started for {UserName} ({Method})")]
        public static partial void SessionStarted(ILogger logger, string? userName, string method);

        [LoggerMessage(2, LogLevel.Warning, "A stored session could not be decrypted (were the Data Protection keys lost?); the user must sign in again")]
        public static partial void TicketUnreadable(ILogger logger, Exception exception);
    }
}
