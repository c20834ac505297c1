using HarborPortal.Features.Auth;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace HarborPortal.Tests.Features.Auth;

/// <summary>The id_token checks, one rejection per test, against a provider on a loopback port (never a mocked HttpClient).</summary>
public sealed class OidcTokenValidatorTests : IAsyncLifetime
{
    private const string Nonce = "the-nonce-sent-with-this-sign-in";

    private TestIdentityProvider idp = default!;

    public async Task InitializeAsync() => idp = await TestIdentityProvider.StartAsync();

    public async Task DisposeAsync() => await idp.DisposeAsync();

    [Fact]
    public async Task Valid_Rs256_Id_Token_Is_Accepted()
    {
        var result = await Validator().ValidateIdTokenAsync(idp.Sign(idp.IdTokenClaims(Nonce)), Nonce, default);

        Assert.True(result.IsValid, result.Failure);
        Assert.Equal("hashed-user-1", result.Token!.Subject);
        Assert.Equal(idp.Issuer, result.Token.Issuer);
    }

    [Fact]
    public async Task Tampered_Signature_Is_Rejected()
    {
        var token = idp.Sign(idp.IdTokenClaims(Nonce));
        var signature = token[(token.LastIndexOf('.') + 1)..];
        var tampered = token[..(token.LastIndexOf('.') + 1)] + (signature[0] == 'A' ? 'B' : 'A') + signature[1..];

        await AssertRejectedAsync(tampered);
    }

    [Fact]
    public async Task Tampered_Payload_Is_Rejected()
    {
        var parts = idp.Sign(idp.IdTokenClaims(Nonce)).Split('.');
        var other = idp.Sign(idp.IdTokenClaims(Nonce, userName: "mallory")).Split('.');

        await AssertRejectedAsync($"{parts[0]}.{other[1]}.{parts[2]}");
    }

    [Fact]
    public async Task Wrong_Issuer_Is_Rejected()
    {
        var claims = idp.IdTokenClaims(Nonce);
        claims["iss"] = $"{idp.Origin}/application/o/another-app/";

        await AssertRejectedAsync(idp.Sign(claims));
    }

    [Fact]
    public async Task Issuer_Without_Its_Trailing_Slash_Is_Rejected()
    {
        var claims = idp.IdTokenClaims(Nonce);
        claims["iss"] = idp.Issuer.TrimEnd('/');

        await AssertRejectedAsync(idp.Sign(claims));
    }

    [Fact]
    public async Task Wrong_Audience_Is_Rejected()
    {
        var claims = idp.IdTokenClaims(Nonce);
        claims["aud"] = "another-client";

        await AssertRejectedAsync(idp.Sign(claims));
    }

    [Fact]
    public async Task Several_Audiences_Without_Our_Azp_Are_Rejected()
    {
        var claims = idp.IdTokenClaims(Nonce);
        claims["aud"] = new[] { TestIdentityProvider.ClientId, "another-client" };
        claims["azp"] = "another-client";

        await AssertRejectedAsync(idp.Sign(claims));
    }

    [Fact]
    public async Task Expired_Beyond_The_Clock_Skew_Is_Rejected()
    {
        var claims = idp.IdTokenClaims(Nonce);
        claims["iat"] = DateTimeOffset.UtcNow.AddMinutes(-10).ToUnixTimeSeconds();
        claims["exp"] = DateTimeOffset.UtcNow.AddMinutes(-3).ToUnixTimeSeconds();

        await AssertRejectedAsync(idp.Sign(claims));
    }

    [Fact]
    public async Task Expiry_Inside_The_Clock_Skew_Is_Accepted()
    {
        var claims = idp.IdTokenClaims(Nonce);
        claims["iat"] = DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeSeconds();
        claims["exp"] = DateTimeOffset.UtcNow.AddSeconds(-60).ToUnixTimeSeconds();

        var result = await Validator().ValidateIdTokenAsync(idp.Sign(claims), Nonce, default);

        Assert.True(result.IsValid, result.Failure);
    }

    [Fact]
    public async Task Token_Without_Expiry_Is_Rejected()
    {
        var claims = idp.IdTokenClaims(Nonce);
        claims.Remove("exp");

        await AssertRejectedAsync(idp.Sign(claims));
    }

    [Fact]
    public async Task Not_Before_In_The_Future_Is_Rejected()
    {
        var claims = idp.IdTokenClaims(Nonce);
        claims["nbf"] = DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeSeconds();
        claims["exp"] = DateTimeOffset.UtcNow.AddMinutes(10).ToUnixTimeSeconds();

        await AssertRejectedAsync(idp.Sign(claims));
    }

    [Fact]
    public async Task Wrong_Nonce_Is_Rejected()
    {
        await AssertRejectedAsync(idp.Sign(idp.IdTokenClaims("a-nonce-from-another-sign-in")));
    }

    [Fact]
    public async Task Missing_Nonce_Is_Rejected()
    {
        var claims = idp.IdTokenClaims(Nonce);
        claims.Remove("nonce");

        await AssertRejectedAsync(idp.Sign(claims));
    }

    [Fact]
    public async Task Unsigned_Token_With_Alg_None_Is_Rejected()
    {
        await AssertRejectedAsync(TestIdentityProvider.Unsigned(idp.IdTokenClaims(Nonce)));
    }

    [Fact]
    public async Task Algorithm_That_Discovery_Does_Not_Advertise_Is_Rejected()
    {
        // The EC key is in the JWKS, but discovery says the provider signs with RS256 only.
        await AssertRejectedAsync(idp.Sign(idp.IdTokenClaims(Nonce), SecurityAlgorithms.EcdsaSha256));
    }

    [Fact]
    public async Task Hs256_With_The_Client_Secret_Is_Rejected_When_Discovery_Advertises_Rs256()
    {
        await AssertRejectedAsync(idp.Sign(idp.IdTokenClaims(Nonce), SecurityAlgorithms.HmacSha256));
    }

    [Fact]
    public async Task Algorithm_Outside_The_Allow_List_Is_Rejected_Even_When_Advertised()
    {
        idp.Algorithms.Add(SecurityAlgorithms.HmacSha512);

        await AssertRejectedAsync(idp.Sign(idp.IdTokenClaims(Nonce), SecurityAlgorithms.HmacSha512, secret: TestIdentityProvider.ClientSecret + TestIdentityProvider.ClientSecret));
    }

    [Fact]
    public async Task Unknown_Key_Id_Refreshes_The_Jwks_And_Is_Accepted_After_The_Provider_Rotates_Its_Keys()
    {
        // Arrange: the portal has read discovery and the JWKS with the old key.
        var validator = Validator();
        Assert.True((await validator.ValidateIdTokenAsync(idp.Sign(idp.IdTokenClaims(Nonce)), Nonce, default)).IsValid);
        var fetchesBefore = idp.DiscoveryRequests;

        // Act: authentik rotates its key and signs with the new one.
        idp.RotateRsaKey();
        var result = await validator.ValidateIdTokenAsync(idp.Sign(idp.IdTokenClaims(Nonce)), Nonce, default);

        // Assert
        Assert.True(result.IsValid, result.Failure);
        Assert.Equal(fetchesBefore + 1, idp.DiscoveryRequests);
    }

    [Fact]
    public async Task Key_Id_Unknown_Even_After_A_Refresh_Is_Rejected()
    {
        var stranger = new RsaSecurityKey(System.Security.Cryptography.RSA.Create(2048)) { KeyId = "not-published" };

        await AssertRejectedAsync(TestIdentityProvider.Sign(idp.IdTokenClaims(Nonce), new SigningCredentials(stranger, SecurityAlgorithms.RsaSha256)));
    }

    [Fact]
    public async Task Hs256_Signed_With_The_Client_Secret_Is_Accepted_When_Authentik_Has_No_Signing_Key()
    {
        idp.Algorithms.Clear();
        idp.Algorithms.Add(SecurityAlgorithms.HmacSha256);

        var result = await Validator().ValidateIdTokenAsync(idp.Sign(idp.IdTokenClaims(Nonce), SecurityAlgorithms.HmacSha256), Nonce, default);

        Assert.True(result.IsValid, result.Failure);
    }

    [Fact]
    public async Task Hs256_Signed_With_A_Wrong_Secret_Is_Rejected()
    {
        idp.Algorithms.Clear();
        idp.Algorithms.Add(SecurityAlgorithms.HmacSha256);

        await AssertRejectedAsync(idp.Sign(idp.IdTokenClaims(Nonce), SecurityAlgorithms.HmacSha256, secret: "another-secret-that-is-also-longer-than-32-bytes"));
    }

    [Fact]
    public async Task Es256_Id_Token_Is_Accepted()
    {
        idp.Algorithms.Clear();
        idp.Algorithms.Add(SecurityAlgorithms.EcdsaSha256);

        var result = await Validator().ValidateIdTokenAsync(idp.Sign(idp.IdTokenClaims(Nonce), SecurityAlgorithms.EcdsaSha256), Nonce, default);

        Assert.True(result.IsValid, result.Failure);
    }

    [Fact]
    public async Task Rs256_Token_Is_Rejected_When_Discovery_Advertises_Only_Es256()
    {
        idp.Algorithms.Clear();
        idp.Algorithms.Add(SecurityAlgorithms.EcdsaSha256);

        await AssertRejectedAsync(idp.Sign(idp.IdTokenClaims(Nonce)));
    }

    [Fact]
    public async Task Garbage_Is_Rejected()
    {
        await AssertRejectedAsync("not-a-jwt");
    }

    private async Task AssertRejectedAsync(string token)
    {
        var result = await Validator().ValidateIdTokenAsync(token, Nonce, default);

        Assert.False(result.IsValid);
        Assert.False(string.IsNullOrEmpty(result.Failure));
    }

    private OidcTokenValidator Validator() => CreateValidator(idp);

    internal static OidcTokenValidator CreateValidator(TestIdentityProvider idp)
    {
        var options = Options.Create(new OidcOptions
        {
            Authority = idp.Issuer,
            ClientId = TestIdentityProvider.ClientId,
            ClientSecret = TestIdentityProvider.ClientSecret,
            RequireHttpsMetadata = false,
        });
        return new OidcTokenValidator(new OidcConfigurationProvider(options), options, TimeProvider.System, NullLogger<OidcTokenValidator>.Instance);
    }
}
