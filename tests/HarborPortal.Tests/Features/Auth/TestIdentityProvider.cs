using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using HarborPortal.Features.Auth;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace HarborPortal.Tests.Features.Auth;

/// <summary>
/// A small OpenID provider on a loopback port that looks like authentik from the outside: per-slug issuer with a
/// trailing slash, discovery, JWKS, the shared authorize/token/userinfo endpoints, end-session. Tests mint tokens with
/// its keys, rotate them, switch it to HS256 (no signing key) or ES256, or take it down.
/// </summary>
public sealed class TestIdentityProvider : IAsyncDisposable
{
    public const string ClientId = "harbor-portal";
    public const string ClientSecret = "test-client-secret-that-is-longer-than-thirty-two-bytes";
    public const string Slug = "harbor-portal";

    static TestIdentityProvider()
    {
        // In the app, HarborPortal.dll is the entry assembly and its module initializer sets IdentityModel's switches
        // before anything mints or reads a token; here the tests mint tokens first, so run it before they do.
        RuntimeHelpers.RunModuleConstructor(typeof(OidcConfigurationProvider).Module.ModuleHandle);
    }

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, IssuedCode> _codes = new();
    private readonly ConcurrentDictionary<string, Dictionary<string, object>> _accessTokens = new();

    private TestIdentityProvider(WebApplication app, string origin)
    {
        _app = app;
        Origin = origin;
        RsaKey = NewRsaKey();
        EcKey = new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP256)) { KeyId = "ec-" + Guid.NewGuid().ToString("N")[..8] };
    }

    public string Origin { get; }

    public string Issuer => $"{Origin}/application/o/{Slug}/";

    public string AuthorizeEndpoint => $"{Origin}/application/o/authorize/";

    public string EndSessionEndpoint => $"{Issuer}end-session/";

    /// <summary>What discovery advertises in <c>id_token_signing_alg_values_supported</c> (authentik: exactly one).</summary>
    public List<string> Algorithms { get; } = [SecurityAlgorithms.RsaSha256];

    public RsaSecurityKey RsaKey { get; private set; }

    public ECDsaSecurityKey EcKey { get; }

    /// <summary>When true, discovery and JWKS answer 503, as a provider that is not up yet.</summary>
    public bool Unavailable { get; set; }

    private int _discoveryRequests;

    /// <summary>How often discovery was read (a JWKS refresh reads it again).</summary>
    public int DiscoveryRequests => Volatile.Read(ref _discoveryRequests);

    /// <summary>Claims the userinfo endpoint returns (sub is added from the code's id_token when missing).</summary>
    public Dictionary<string, object>? UserInfo { get; set; }

    public static async Task<TestIdentityProvider> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        TestIdentityProvider? provider = null;
        app.Use((context, next) => provider!.Unavailable && context.Request.Path.StartsWithSegments($"/application/o/{Slug}")
            ? Results.StatusCode(503).ExecuteAsync(context)
            : next(context));
        app.MapGet($"/application/o/{Slug}/.well-known/openid-configuration", () => provider!.Discovery());
        app.MapGet($"/application/o/{Slug}/jwks/", () => Results.Text(provider!.Jwks(), "application/json"));
        app.MapPost("/application/o/token/", (HttpRequest request) => provider!.TokenAsync(request));
        app.MapGet("/application/o/userinfo/", (HttpRequest request) => provider!.UserInfoFor(request));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        provider = new TestIdentityProvider(app, address.TrimEnd('/'));
        return provider;
    }

    /// <summary>Replaces the published RSA key with a new one (new kid), as after a key rotation in authentik.</summary>
    public void RotateRsaKey() => RsaKey = NewRsaKey();

    /// <summary>The claims authentik puts in an id_token, valid now, for the given nonce.</summary>
    public Dictionary<string, object> IdTokenClaims(string nonce, string subject = "hashed-user-1", string userName = "alice", params string[] groups)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        return new Dictionary<string, object>
        {
            ["iss"] = Issuer,
            ["sub"] = subject,
            ["aud"] = ClientId,
            ["exp"] = now + 300,
            ["iat"] = now,
            ["auth_time"] = now,
            ["nonce"] = nonce,
            ["sid"] = "sid-" + subject,
            ["preferred_username"] = userName,
            ["email"] = userName + "@example.test",
            ["name"] = "User " + userName,
            ["groups"] = groups.Length > 0 ? groups : ["portal-admins"],
        };
    }

    /// <summary>A logout token as authentik sends it: iss, sub, aud, iat, jti, events, sid — no exp, no nonce.</summary>
    public Dictionary<string, object> LogoutTokenClaims(string? sid, string? subject = "hashed-user-1")
    {
        var claims = new Dictionary<string, object>
        {
            ["iss"] = Issuer,
            ["aud"] = ClientId,
            ["iat"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            ["jti"] = Guid.NewGuid().ToString("N"),
            ["events"] = new Dictionary<string, object> { ["http://schemas.openid.net/event/backchannel-logout"] = new Dictionary<string, object>() },
        };
        if (subject is not null)
        {
            claims["sub"] = subject;
        }

        if (sid is not null)
        {
            claims["sid"] = sid;
        }

        return claims;
    }

    /// <summary>Signs with the key for <paramref name="algorithm"/>: RSA for RS*/PS*, EC for ES*, the client secret for HS*.</summary>
    public string Sign(IDictionary<string, object> claims, string algorithm = SecurityAlgorithms.RsaSha256, string? secret = null)
    {
        SecurityKey key = algorithm switch
        {
            _ when algorithm.StartsWith("HS", StringComparison.Ordinal) => new SymmetricSecurityKey(Encoding.UTF8.GetBytes(secret ?? ClientSecret)),
            _ when algorithm.StartsWith("ES", StringComparison.Ordinal) => EcKey,
            _ => RsaKey,
        };
        return Sign(claims, new SigningCredentials(key, algorithm));
    }

    public static string Sign(IDictionary<string, object> claims, SigningCredentials credentials) =>
        new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Claims = claims,
            SigningCredentials = credentials,
        });

    /// <summary>An unsigned token (<c>alg: none</c>), as an attacker would send it.</summary>
    public static string Unsigned(IDictionary<string, object> claims) =>
        Base64UrlEncoder.Encode("""{"alg":"none","typ":"JWT"}""") + "." + Base64UrlEncoder.Encode(JsonSerializer.Serialize(claims)) + ".";

    /// <summary>
    /// What authentik does when the user approves: remembers the PKCE challenge and the id_token to hand out for the
    /// code. The id_token is signed when the portal redeems the code, with the algorithm discovery advertises.
    /// </summary>
    public string IssueCode(string codeChallenge, string redirectUri, Dictionary<string, object> idTokenClaims)
    {
        var code = WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(16));
        _codes[code] = new IssuedCode(codeChallenge, redirectUri, idTokenClaims);
        return code;
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    private IResult Discovery()
    {
        Interlocked.Increment(ref _discoveryRequests);
        return Results.Json(new Dictionary<string, object>
        {
            ["issuer"] = Issuer,
            ["authorization_endpoint"] = AuthorizeEndpoint,
            ["token_endpoint"] = $"{Origin}/application/o/token/",
            ["userinfo_endpoint"] = $"{Origin}/application/o/userinfo/",
            ["end_session_endpoint"] = EndSessionEndpoint,
            ["jwks_uri"] = $"{Issuer}jwks/",
            ["response_types_supported"] = new[] { "code" },
            ["subject_types_supported"] = new[] { "public" },
            ["id_token_signing_alg_values_supported"] = Algorithms,
            ["code_challenge_methods_supported"] = new[] { "plain", "S256" },
            ["token_endpoint_auth_methods_supported"] = new[] { "client_secret_post", "client_secret_basic" },
            ["scopes_supported"] = new[] { "openid", "profile", "email", "offline_access" },
        });
    }

    private string Jwks()
    {
        // authentik without a signing key publishes no keys at all.
        if (Algorithms.TrueForAll(a => a.StartsWith("HS", StringComparison.Ordinal)))
        {
            return "{}";
        }

        var rsa = RsaKey.Rsa.ExportParameters(false);
        var ec = EcKey.ECDsa.ExportParameters(false);
        var keys = new object[]
        {
            new { kty = "RSA", use = "sig", alg = "RS256", kid = RsaKey.KeyId, n = Base64UrlEncoder.Encode(rsa.Modulus), e = Base64UrlEncoder.Encode(rsa.Exponent) },
            new { kty = "EC", use = "sig", alg = "ES256", kid = EcKey.KeyId, crv = "P-256", x = Base64UrlEncoder.Encode(ec.Q.X), y = Base64UrlEncoder.Encode(ec.Q.Y) },
        };
        return JsonSerializer.Serialize(new { keys });
    }

    private async Task<IResult> TokenAsync(HttpRequest request)
    {
        var form = await request.ReadFormAsync();
        if (form["client_id"] != ClientId || form["client_secret"] != ClientSecret)
        {
            return Results.Json(new { error = "invalid_client" }, statusCode: 401);
        }

        if (form["grant_type"] != "authorization_code" || !_codes.TryRemove(form["code"].ToString(), out var issued))
        {
            return Results.Json(new { error = "invalid_grant" }, statusCode: 400);
        }

        var verifier = form["code_verifier"].ToString();
        var challenge = WebEncoders.Base64UrlEncode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        if (verifier.Length == 0 || challenge != issued.CodeChallenge || form["redirect_uri"] != issued.RedirectUri)
        {
            return Results.Json(new { error = "invalid_grant", error_description = "PKCE or redirect_uri mismatch" }, statusCode: 400);
        }

        var accessToken = "at-" + Guid.NewGuid().ToString("N");
        _accessTokens[accessToken] = issued.IdTokenClaims;
        return Results.Json(new
        {
            access_token = accessToken,
            token_type = "Bearer",
            expires_in = 300,
            id_token = Sign(issued.IdTokenClaims, Algorithms[0]),
        });
    }

    private IResult UserInfoFor(HttpRequest request)
    {
        var token = request.Headers.Authorization.ToString().Replace("Bearer ", "", StringComparison.Ordinal);
        if (!_accessTokens.TryGetValue(token, out var idToken))
        {
            return Results.StatusCode(401);
        }

        var info = new Dictionary<string, object>(UserInfo ?? []);
        info.TryAdd("sub", idToken["sub"]);
        return Results.Json(info);
    }

    private static RsaSecurityKey NewRsaKey() => new(RSA.Create(2048)) { KeyId = "rsa-" + Guid.NewGuid().ToString("N")[..8] };

    private sealed record IssuedCode(string CodeChallenge, string RedirectUri, Dictionary<string, object> IdTokenClaims);
}
