using System.Security.Cryptography;
using System.Text;

namespace HarborPortal.Features.Webhooks;

/// <summary>
/// Webhook secrets: <c>hpwh_</c> and 40 random base62 characters (about 238 bits) from the CSPRNG. Harbor sends the
/// configured "Auth Header" verbatim as <c>Authorization</c>, so the whole header is the secret. Only its SHA-256 is
/// stored; a fast hash is enough because the secret is random, not a password.
/// </summary>
public static class WebhookSecrets
{
    public const string Prefix = "hpwh_";
    public const int RandomLength = 40;

    private const string Base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    // Longer headers are refused before hashing: no secret is that long.
    private const int MaxHeaderLength = 256;

    public static string Generate() => Prefix + RandomNumberGenerator.GetString(Base62, RandomLength);

    /// <summary>Lower-case hex SHA-256 of the secret, as stored.</summary>
    public static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    /// <summary>
    /// Whether the <c>Authorization</c> header carries the secret whose hash is stored. The comparison of the hashes
    /// takes the same time wherever they differ, so a caller learns nothing from how long a refusal takes.
    /// </summary>
    public static bool Matches(string? authorizationHeader, string? storedHash)
    {
        if (string.IsNullOrEmpty(storedHash) || string.IsNullOrWhiteSpace(authorizationHeader) || authorizationHeader.Length > MaxHeaderLength)
        {
            return false;
        }

        Span<byte> presented = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(authorizationHeader.Trim()), presented);
        Span<byte> stored = stackalloc byte[SHA256.HashSizeInBytes];
        return Convert.FromHexString(storedHash, stored, out _, out var written) == System.Buffers.OperationStatus.Done
            && written == SHA256.HashSizeInBytes
            && CryptographicOperations.FixedTimeEquals(presented, stored);
    }
}
