using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace HarborPortal.Features.Auth;

/// <summary>The outcome of checking a token: the validated token, or why it was refused (for the log, never the page).</summary>
public sealed record OidcTokenValidation(JsonWebToken? Token, string? Failure)
{
    public bool IsValid => Token is not null;

    public static OidcTokenValidation Valid(JsonWebToken token) => new(token, null);

    public static OidcTokenValidation Invalid(string failure) => new(null, failure);
}

/// <summary>
/// Checks the provider's id_tokens and back-channel logout tokens: signature with a key from the JWKS (or the client
/// secret for HS256, which authentik uses when no signing key is selected), an algorithm that discovery advertises
/// and we allow, the issuer exactly as discovery spells it, our client id in <c>aud</c>, lifetime within the clock
/// skew, and the nonce (id_token) or the logout event (logout token).
/// </summary>
public sealed partial class OidcTokenValidator(
    OidcConfigurationProvider configuration,
    IOptions<OidcOptions> options,
    TimeProvider time,
    ILogger<OidcTokenValidator> logger)
{
    /// <summary>The algorithms we accept at all; discovery narrows them further. Never <c>none</c>.</summary>
    public static readonly IReadOnlyList<string> AllowedAlgorithms =
    [
        SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSha384, SecurityAlgorithms.RsaSha512,
        SecurityAlgorithms.RsaSsaPssSha256, SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.EcdsaSha384,
        SecurityAlgorithms.HmacSha256,
    ];

    public const string BackchannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout";

    /// <summary>How old a logout token without <c>exp</c> may be (authentik's carry only <c>iat</c>).</summary>
    public static readonly TimeSpan LogoutTokenMaxAge = TimeSpan.FromMinutes(10);

    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };

    public async Task<OidcTokenValidation> ValidateIdTokenAsync(string token, string expectedNonce, CancellationToken cancellationToken)
    {
        var result = await ValidateAsync(token, requireExpiry: true, cancellationToken);
        if (!result.IsValid)
        {
            return result;
        }

        var jwt = result.Token!;
        if (!jwt.TryGetPayloadValue<string>("nonce", out var nonce) || !FixedTimeEquals(nonce, expectedNonce))
        {
            return Invalid("the nonce does not match the one sent with this sign-in");
        }

        if (string.IsNullOrEmpty(jwt.Subject))
        {
            return Invalid("the token has no sub");
        }

        return result;
    }

    /// <summary>A logout token is validated like an id_token, plus the rules of OpenID Connect Back-Channel Logout 1.0 §2.6.</summary>
    public async Task<OidcTokenValidation> ValidateLogoutTokenAsync(string token, CancellationToken cancellationToken)
    {
        var result = await ValidateAsync(token, requireExpiry: false, cancellationToken);
        if (!result.IsValid)
        {
            return result;
        }

        var jwt = result.Token!;
        if (!HasLogoutEvent(jwt))
        {
            return Invalid("the logout token has no back-channel logout event");
        }

        // A nonce would let an id_token pass as a logout token (or the reverse); the spec forbids it here.
        if (jwt.TryGetPayloadValue<object>("nonce", out _))
        {
            return Invalid("the logout token carries a nonce");
        }

        jwt.TryGetPayloadValue<string>(PortalClaimTypes.ProviderSessionId, out var sid);
        if (string.IsNullOrEmpty(sid) && string.IsNullOrEmpty(jwt.Subject))
        {
            return Invalid("the logout token names neither a sid nor a sub");
        }

        var now = time.GetUtcNow().UtcDateTime;
        var skew = options.Value.ClockSkew;
        if (!jwt.TryGetPayloadValue<long>("iat", out _))
        {
            return Invalid("the logout token has no iat");
        }

        if (jwt.IssuedAt > now + skew)
        {
            return Invalid("the logout token was issued in the future");
        }

        if (!jwt.TryGetPayloadValue<long>("exp", out _) && jwt.IssuedAt < now - LogoutTokenMaxAge - skew)
        {
            return Invalid("the logout token is too old");
        }

        return result;
    }

    private async Task<OidcTokenValidation> ValidateAsync(string token, bool requireExpiry, CancellationToken cancellationToken)
    {
        JsonWebToken jwt;
        try
        {
            jwt = new JsonWebToken(token);
        }
        catch (Exception ex) when (ex is ArgumentException or SecurityTokenException)
        {
            return Invalid("not a JWT");
        }

        var oidc = options.Value;
        var config = await configuration.GetAsync(cancellationToken);
        var algorithms = AcceptedAlgorithms(config);
        if (!algorithms.Contains(jwt.Alg, StringComparer.Ordinal))
        {
            // Checked before the signature: alg "none" and algorithms discovery does not advertise never get further.
            return Invalid($"algorithm '{jwt.Alg}' is not accepted (accepted: {string.Join(", ", algorithms)})");
        }

        if (!IsSymmetric(jwt.Alg) && !string.IsNullOrEmpty(jwt.Kid) && !config.SigningKeys.Any(k => k.KeyId == jwt.Kid))
        {
            Log.UnknownKeyId(logger, jwt.Kid);
            config = await configuration.RefreshAsync(cancellationToken);
        }

        var parameters = new TokenValidationParameters
        {
            ValidIssuer = config.Issuer,
            ValidateIssuer = true,
            ValidAudience = oidc.ClientId,
            ValidateAudience = true,
            ValidateLifetime = true,
            RequireExpirationTime = requireExpiry,
            ClockSkew = oidc.ClockSkew,
            RequireSignedTokens = true,
            ValidAlgorithms = algorithms,
            IssuerSigningKeys = SigningKeys(config, jwt.Alg, oidc.ClientSecret),
            ValidateIssuerSigningKey = false,
            TryAllIssuerSigningKeys = true,
            ValidateTokenReplay = false,
            NameClaimType = PortalClaimTypes.Name,
            RoleClaimType = PortalClaimTypes.Role,
        };

        var result = await _handler.ValidateTokenAsync(jwt, parameters);
        if (!result.IsValid)
        {
            return Invalid(result.Exception?.Message ?? "the token is invalid");
        }

        if (jwt.Audiences.Count() > 1 && (!jwt.TryGetPayloadValue<string>("azp", out var azp) || azp != oidc.ClientId))
        {
            return Invalid("the token has several audiences and azp is not this client");
        }

        return OidcTokenValidation.Valid(jwt);
    }

    /// <summary>What discovery advertises, narrowed to <see cref="AllowedAlgorithms"/>; RS256 when it advertises nothing (the spec's default).</summary>
    private static List<string> AcceptedAlgorithms(OpenIdConnectConfiguration config)
    {
        var advertised = config.IdTokenSigningAlgValuesSupported.Count > 0 ? config.IdTokenSigningAlgValuesSupported : [SecurityAlgorithms.RsaSha256];
        return advertised.Where(a => AllowedAlgorithms.Contains(a, StringComparer.Ordinal)).ToList();
    }

    private static List<SecurityKey> SigningKeys(OpenIdConnectConfiguration config, string alg, string clientSecret)
    {
        if (IsSymmetric(alg))
        {
            // authentik without a signing key: HS256 keyed with the client secret. Never mixed with the JWKS keys.
            return string.IsNullOrEmpty(clientSecret) ? [] : [new SymmetricSecurityKey(Encoding.UTF8.GetBytes(clientSecret))];
        }

        return [.. config.SigningKeys];
    }

    /// <summary><c>events</c> must be a JSON object with the back-channel logout member (its value is an empty object).</summary>
    private static bool HasLogoutEvent(JsonWebToken jwt)
    {
        if (!jwt.TryGetClaim("events", out var claim))
        {
            return false;
        }

        try
        {
            using var events = JsonDocument.Parse(claim.Value);
            return events.RootElement.ValueKind == JsonValueKind.Object && events.RootElement.TryGetProperty(BackchannelLogoutEvent, out _);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static bool IsSymmetric(string alg) => alg.StartsWith("HS", StringComparison.Ordinal);

    private static bool FixedTimeEquals(string? actual, string expected) =>
        actual is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(actual), Encoding.UTF8.GetBytes(expected));

    private static OidcTokenValidation Invalid(string failure) => OidcTokenValidation.Invalid(failure);

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "A token names the unknown signing key {KeyId}: fetching the provider's keys again")]
        public static partial void UnknownKeyId(ILogger logger, string keyId);
    }
}
