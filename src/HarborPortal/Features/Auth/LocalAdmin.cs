using System.Security.Claims;
using System.Security.Cryptography;
using HarborPortal.Data;
using HarborPortal.Features.Audit;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace HarborPortal.Features.Auth;

public enum LocalSignInOutcome
{
    Succeeded,
    InvalidCredentials,

    /// <summary>The account was already locked: the password was not even checked.</summary>
    LockedOut,

    /// <summary>This failure was the one that locked the account.</summary>
    LockedNow,
    Disabled,
}

/// <param name="UserName">The local administrator's user name when the typed one matched it, else null (never echo what was typed).</param>
public sealed record LocalSignInResult(LocalSignInOutcome Outcome, string? UserName);

/// <summary>
/// The break-glass administrator (as Harbor keeps its <c>admin</c>): its stored credential, the lockout, and the
/// password's life cycle — from configuration, generated once at first start, or reset with <c>admin reset-local-admin</c>.
/// </summary>
public sealed partial class LocalAdmin(
    IDbContextFactory<PortalDbContext> contexts,
    IOptions<LocalAdminOptions> options,
    LocalAdminAvailability availability,
    AuditLog audit,
    TimeProvider time,
    ILogger<LocalAdmin> logger)
{
    public const string AuthMethod = "local";
    public const int MaxFailedAttempts = 5;
    public static readonly TimeSpan LockoutDuration = TimeSpan.FromMinutes(15);

    private const string PasswordAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    private static readonly PasswordHasher<LocalAdminAccount> Hasher = new();
    private static readonly LocalAdminAccount Nobody = new() { UserName = "", PasswordHash = "" };

    // Verified when the typed user name is wrong, so that a wrong name costs as much as a wrong password.
    private static readonly Lazy<string> DummyHash = new(() => Hasher.HashPassword(Nobody, GeneratePassword()));

    public string UserName => options.Value.UserName;

    /// <summary>24 characters from an unambiguous 57-letter alphabet: about 140 bits.</summary>
    public static string GeneratePassword() => RandomNumberGenerator.GetString(PasswordAlphabet, 24);

    /// <summary>
    /// At start: creates the account (with the configured password, or a generated one written once to the log), and
    /// applies a changed <c>LocalAdmin:Password</c> or <c>LocalAdmin:UserName</c> from configuration.
    /// </summary>
    public async Task EnsureAccountAsync(CancellationToken cancellationToken)
    {
        if (!availability.IsEnabled)
        {
            Log.Disabled(logger);
            return;
        }

        var configured = options.Value;
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var account = await db.LocalAdminAccounts.OrderBy(a => a.Id).FirstOrDefaultAsync(cancellationToken);
        var now = time.GetUtcNow();

        if (account is null)
        {
            var generated = string.IsNullOrEmpty(configured.Password);
            var password = generated ? GeneratePassword() : configured.Password!;
            account = new LocalAdminAccount { UserName = configured.UserName, PasswordHash = "", UpdatedAt = now };
            account.PasswordHash = Hasher.HashPassword(account, password);
            db.LocalAdminAccounts.Add(account);
            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateException)
            {
                // Several instances starting on one PostgreSQL database: another may have made the account a moment ago
                // (the unique user name refused ours). Then its password stands, and configuration applies to it as on
                // any later start; anything else is a real failure.
                await using var again = await contexts.CreateDbContextAsync(cancellationToken);
                if (!await again.LocalAdminAccounts.AnyAsync(cancellationToken))
                {
                    throw;
                }

                await EnsureAccountAsync(cancellationToken);
                return;
            }

            if (generated)
            {
                Log.PasswordGenerated(logger, account.UserName, password);
            }

            await audit.WriteAsync("localadmin.create", true, "system", "config", account.UserName,
                generated ? "Password generated at first start and written once to the log" : "Password from LocalAdmin:Password", cancellationToken);
            return;
        }

        var changes = new List<string>();
        if (!string.Equals(account.UserName, configured.UserName, StringComparison.Ordinal))
        {
            changes.Add($"user name changed from {account.UserName}");
            account.UserName = configured.UserName;
        }

        if (!string.IsNullOrEmpty(configured.Password)
            && Hasher.VerifyHashedPassword(account, account.PasswordHash, configured.Password) == PasswordVerificationResult.Failed)
        {
            // The operator rotated the password by configuration: they mean to use it, so the lockout goes too.
            account.PasswordHash = Hasher.HashPassword(account, configured.Password);
            account.FailedAttempts = 0;
            account.LockedUntil = null;
            changes.Add("password set from LocalAdmin:Password");
            Log.PasswordFromConfiguration(logger, account.UserName);
        }

        if (changes.Count > 0)
        {
            account.UpdatedAt = now;
            await db.SaveChangesAsync(cancellationToken);
            await audit.WriteAsync("localadmin.update", true, "system", "config", account.UserName, string.Join("; ", changes), cancellationToken);
        }
    }

    /// <summary>
    /// Checks a user name and password, counting failures: the <see cref="MaxFailedAttempts"/>th consecutive failure
    /// locks the account for <see cref="LockoutDuration"/>, during which even the right password is refused.
    /// </summary>
    public async Task<LocalSignInResult> VerifyAsync(string? userName, string? password, CancellationToken cancellationToken)
    {
        if (!availability.IsEnabled)
        {
            return new(LocalSignInOutcome.Disabled, null);
        }

        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var account = await db.LocalAdminAccounts.AsNoTracking().OrderBy(a => a.Id).FirstOrDefaultAsync(cancellationToken);
        if (account is null)
        {
            Hasher.VerifyHashedPassword(Nobody, DummyHash.Value, password ?? "");
            return new(LocalSignInOutcome.InvalidCredentials, null);
        }

        var now = time.GetUtcNow();
        var knownName = string.Equals(userName?.Trim(), account.UserName, StringComparison.OrdinalIgnoreCase) ? account.UserName : null;
        if (account.LockedUntil > now)
        {
            return new(LocalSignInOutcome.LockedOut, knownName);
        }

        var verification = Hasher.VerifyHashedPassword(account, knownName is null ? DummyHash.Value : account.PasswordHash, password ?? "");
        if (knownName is not null && verification != PasswordVerificationResult.Failed)
        {
            var hash = verification == PasswordVerificationResult.SuccessRehashNeeded ? Hasher.HashPassword(account, password!) : account.PasswordHash;
            await db.LocalAdminAccounts.Where(a => a.Id == account.Id).ExecuteUpdateAsync(s => s
                .SetProperty(a => a.FailedAttempts, 0)
                .SetProperty(a => a.LockedUntil, (DateTimeOffset?)null)
                .SetProperty(a => a.PasswordHash, hash), cancellationToken);
            return new(LocalSignInOutcome.Succeeded, account.UserName);
        }

        // Every failure counts against the one local account, whatever name was typed: the lockout then tells nobody
        // which user name exists. Increments are atomic in SQL, so parallel guesses cannot slip past the limit.
        await db.LocalAdminAccounts.Where(a => a.Id == account.Id).ExecuteUpdateAsync(s => s
            .SetProperty(a => a.FailedAttempts, a => a.FailedAttempts + 1)
            .SetProperty(a => a.UpdatedAt, now), cancellationToken);
        var lockedUntil = now + LockoutDuration;
        var locked = await db.LocalAdminAccounts
            .Where(a => a.Id == account.Id && a.FailedAttempts >= MaxFailedAttempts)
            .ExecuteUpdateAsync(s => s
                .SetProperty(a => a.LockedUntil, lockedUntil)
                .SetProperty(a => a.FailedAttempts, 0), cancellationToken);
        if (locked > 0)
        {
            Log.LockedOut(logger, account.UserName, MaxFailedAttempts, lockedUntil);
            return new(LocalSignInOutcome.LockedNow, knownName);
        }

        return new(LocalSignInOutcome.InvalidCredentials, knownName);
    }

    /// <summary>
    /// Sets a new password and clears the lockout (<c>admin reset-local-admin</c>); creates the account when missing.
    /// Returns the account's user name.
    /// </summary>
    public async Task<string> ResetPasswordAsync(string password, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var account = await db.LocalAdminAccounts.OrderBy(a => a.Id).FirstOrDefaultAsync(cancellationToken);
        if (account is null)
        {
            account = new LocalAdminAccount { UserName = options.Value.UserName, PasswordHash = "" };
            db.LocalAdminAccounts.Add(account);
        }

        account.PasswordHash = Hasher.HashPassword(account, password);
        account.FailedAttempts = 0;
        account.LockedUntil = null;
        account.UpdatedAt = time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        return account.UserName;
    }

    /// <summary>The signed-in administrator: their <see cref="UserAccount"/> row (upserted) and a principal with the Admin role.</summary>
    public async Task<ClaimsPrincipal> CreatePrincipalAsync(string userName, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var now = time.GetUtcNow();
        var user = await db.UserAccounts.SingleOrDefaultAsync(u => u.Issuer == UserAccount.LocalIssuer && u.Subject == userName, cancellationToken);
        if (user is null)
        {
            user = new UserAccount { Issuer = UserAccount.LocalIssuer, Subject = userName, UserName = userName, CreatedAt = now };
            db.UserAccounts.Add(user);
        }

        user.DisplayName = $"{userName} (local)";
        user.Roles = PortalRoles.Admin;
        user.Groups = "";
        user.LastSignInAt = now;
        await db.SaveChangesAsync(cancellationToken);

        Claim[] claims =
        [
            new(PortalClaimTypes.Name, user.UserName),
            new(PortalClaimTypes.Role, PortalRoles.Admin),
            new(PortalClaimTypes.DisplayName, user.DisplayName),
            new(PortalClaimTypes.UserId, user.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new(PortalClaimTypes.Issuer, UserAccount.LocalIssuer),
            new(PortalClaimTypes.Subject, user.Subject),
            new(PortalClaimTypes.AuthMethod, AuthMethod),
        ];
        return new ClaimsPrincipal(new ClaimsIdentity(claims, AuthMethod, PortalClaimTypes.Name, PortalClaimTypes.Role));
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Generated a password for the local administrator '{UserName}': {Password} — it is shown only this once. Set LocalAdmin:Password or run `admin reset-local-admin` to change it")]
        public static partial void PasswordGenerated(ILogger logger, string userName, string password);

        [LoggerMessage(2, LogLevel.Information, "The local administrator '{UserName}' now has the password from LocalAdmin:Password")]
        public static partial void PasswordFromConfiguration(ILogger logger, string userName);

        [LoggerMessage(3, LogLevel.Warning, "The local administrator '{UserName}' is locked until {LockedUntil} after {Attempts} failed sign-ins")]
        public static partial void LockedOut(ILogger logger, string userName, int attempts, DateTimeOffset lockedUntil);

        [LoggerMessage(4, LogLevel.Debug, "The local administrator is disabled (LocalAdmin:Enabled, or OIDC is configured)")]
        public static partial void Disabled(ILogger logger);
    }
}

/// <summary>Registration of the break-glass admin: the service, and the account made (or updated) before the server listens.</summary>
public static class LocalAdminSetup
{
    public static IServiceCollection AddLocalAdmin(this IServiceCollection services)
    {
        services.AddOptions<LocalAdminOptions>()
            .Validate(o => !string.IsNullOrWhiteSpace(o.UserName), "LocalAdmin:UserName must not be empty.")
            .ValidateOnStart();
        services.AddSingleton<LocalAdmin>();
        services.AddHostedService<LocalAdminStartup>();
        return services;
    }

    // Hosted services start after UseHarborPortalAsync migrated the database and before Kestrel accepts requests.
    private sealed class LocalAdminStartup(LocalAdmin localAdmin) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => localAdmin.EnsureAccountAsync(cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
