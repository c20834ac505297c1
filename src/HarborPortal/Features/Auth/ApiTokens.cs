using System.Buffers;
using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using HarborPortal.Data;
using HarborPortal.Features.Audit;
using Microsoft.EntityFrameworkCore;

namespace HarborPortal.Features.Auth;

/// <summary>A token just made: <see cref="Value"/> is shown once and stored nowhere.</summary>
public sealed record CreatedApiToken(ApiToken Token, string Value);

/// <summary>
/// Personal API tokens: made, listed and revoked. A token is <c>hp_</c> and 40 random base62 characters (about 238
/// bits); only its SHA-256 is stored, with its first characters to tell tokens apart.
/// </summary>
public sealed class ApiTokens(PortalDbContext db, TimeProvider time, AuditLog audit)
{
    public const string TokenPrefix = "hp_";
    public const int RandomLength = 40;
    public const int DisplayPrefixLength = 10;
    public const int MaxNameLength = 128;

    /// <summary>The longest lifetime a user may give their own token (page and API).</summary>
    public const int MaxDaysForUsers = 365;

    /// <summary>The longest lifetime an operator may give a token from the command line.</summary>
    public const int MaxDaysForOperators = 3650;

    private const string Base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    private static readonly SearchValues<char> Base62Chars = SearchValues.Create(Base62);

    public static string Generate() => TokenPrefix + RandomNumberGenerator.GetString(Base62, RandomLength);

    /// <summary>Lower-case hex SHA-256. A fast hash is enough: the token is random, not a password.</summary>
    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    /// <summary>Whether a value has the token's shape (checked before any database lookup).</summary>
    public static bool HasTokenShape(string value) =>
        value.Length == TokenPrefix.Length + RandomLength
        && value.StartsWith(TokenPrefix, StringComparison.Ordinal)
        && !value.AsSpan(TokenPrefix.Length).ContainsAnyExcept(Base62Chars);

    /// <summary>Why a token name is refused, or null when it is fine.</summary>
    public static string? ValidateName(string? name) =>
        string.IsNullOrWhiteSpace(name) ? "Give the token a name."
        : name.Trim().Length > MaxNameLength ? $"The name may have at most {MaxNameLength} characters."
        : null;

    /// <summary>Why a lifetime is refused, or null when it is fine. Every token expires.</summary>
    public static string? ValidateLifetime(int days, int maxDays) =>
        days < 1 || days > maxDays ? $"The token must expire in 1 to {maxDays} days." : null;

    /// <summary>The portal account a signed-in user's tokens belong to (<c>portal_user_id</c>), or null when the sign-in has none.</summary>
    public static long? OwnerIdOf(ClaimsPrincipal user) =>
        long.TryParse(user.FindFirstValue(PortalClaimTypes.UserId), NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : null;

    public static string StatusOf(ApiToken token, DateTimeOffset now) =>
        token.RevokedAt is not null ? "revoked" : token.ExpiresAt <= now ? "expired" : "active";

    /// <summary>How a token appears in the audit log: never its value, only what tells it apart.</summary>
    public static string Describe(ApiToken token, string ownerUserName) =>
        $"token {token.Id} '{token.Name}' ({token.Prefix}…) of {ownerUserName}";

    /// <summary>Makes a token for <paramref name="owner"/>; the caller has validated the name and lifetime.</summary>
    public async Task<CreatedApiToken> CreateAsync(UserAccount owner, string name, int days, string actor, string method, CancellationToken cancellationToken)
    {
        var value = Generate();
        var now = time.GetUtcNow();
        var token = new ApiToken
        {
            UserAccountId = owner.Id,
            Name = name.Trim(),
            Prefix = value[..DisplayPrefixLength],
            TokenHash = Hash(value),
            CreatedAt = now,
            ExpiresAt = now.AddDays(days),
        };
        db.ApiTokens.Add(token);
        await db.SaveChangesAsync(cancellationToken);
        await audit.WriteAsync("apitoken.create", true, actor, method, Describe(token, owner.UserName),
            $"Expires {token.ExpiresAt.UtcDateTime:yyyy-MM-dd HH:mm} UTC", cancellationToken);
        return new CreatedApiToken(token, value);
    }

    /// <summary>
    /// Revokes a token that is not revoked yet. With <paramref name="ownerId"/>, only that user's token (a user revoking
    /// their own); without, any token (an operator). Null when there is no such token.
    /// </summary>
    public async Task<ApiToken?> RevokeAsync(long tokenId, long? ownerId, string actor, string method, CancellationToken cancellationToken)
    {
        var token = await db.ApiTokens.Include(t => t.UserAccount)
            .SingleOrDefaultAsync(t => t.Id == tokenId && (ownerId == null || t.UserAccountId == ownerId), cancellationToken);
        if (token is null)
        {
            return null;
        }

        if (token.RevokedAt is null)
        {
            token.RevokedAt = time.GetUtcNow();
            await db.SaveChangesAsync(cancellationToken);
            await audit.WriteAsync("apitoken.revoke", true, actor, method, Describe(token, token.UserAccount?.UserName ?? "?"), cancellationToken: cancellationToken);
        }

        return token;
    }
}
