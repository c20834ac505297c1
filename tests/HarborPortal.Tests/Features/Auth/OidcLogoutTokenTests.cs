using HarborPortal.Features.Auth;

namespace HarborPortal.Tests.Features.Auth;

/// <summary>Back-channel logout tokens: validated like id_tokens, plus the logout-token rules.</summary>
public sealed class OidcLogoutTokenTests : IAsyncLifetime
{
    private TestIdentityProvider idp = default!;

    public async Task InitializeAsync() => idp = await TestIdentityProvider.StartAsync();

    public async Task DisposeAsync() => await idp.DisposeAsync();

    [Fact]
    public async Task Valid_Logout_Token_Is_Accepted()
    {
        var result = await Validate(idp.Sign(idp.LogoutTokenClaims("sid-1")));

        Assert.True(result.IsValid, result.Failure);
    }

    [Fact]
    public async Task Logout_Token_With_Only_A_Sub_Is_Accepted()
    {
        var result = await Validate(idp.Sign(idp.LogoutTokenClaims(sid: null)));

        Assert.True(result.IsValid, result.Failure);
    }

    [Fact]
    public async Task Logout_Token_With_A_Nonce_Is_Rejected()
    {
        var claims = idp.LogoutTokenClaims("sid-1");
        claims["nonce"] = "n";

        Assert.False((await Validate(idp.Sign(claims))).IsValid);
    }

    [Fact]
    public async Task Logout_Token_Without_Events_Is_Rejected()
    {
        var claims = idp.LogoutTokenClaims("sid-1");
        claims.Remove("events");

        Assert.False((await Validate(idp.Sign(claims))).IsValid);
    }

    [Fact]
    public async Task Logout_Token_With_Another_Event_Is_Rejected()
    {
        var claims = idp.LogoutTokenClaims("sid-1");
        claims["events"] = new Dictionary<string, object> { ["http://schemas.openid.net/event/something-else"] = new Dictionary<string, object>() };

        Assert.False((await Validate(idp.Sign(claims))).IsValid);
    }

    [Fact]
    public async Task Logout_Token_Without_Sid_And_Sub_Is_Rejected()
    {
        Assert.False((await Validate(idp.Sign(idp.LogoutTokenClaims(sid: null, subject: null)))).IsValid);
    }

    [Fact]
    public async Task Logout_Token_For_Another_Audience_Is_Rejected()
    {
        var claims = idp.LogoutTokenClaims("sid-1");
        claims["aud"] = "another-client";

        Assert.False((await Validate(idp.Sign(claims))).IsValid);
    }

    [Fact]
    public async Task Logout_Token_Issued_In_The_Future_Is_Rejected()
    {
        var claims = idp.LogoutTokenClaims("sid-1");
        claims["iat"] = DateTimeOffset.UtcNow.AddMinutes(10).ToUnixTimeSeconds();

        Assert.False((await Validate(idp.Sign(claims))).IsValid);
    }

    [Fact]
    public async Task Stale_Logout_Token_Is_Rejected()
    {
        var claims = idp.LogoutTokenClaims("sid-1");
        claims["iat"] = DateTimeOffset.UtcNow.AddHours(-1).ToUnixTimeSeconds();

        Assert.False((await Validate(idp.Sign(claims))).IsValid);
    }

    [Fact]
    public async Task Unsigned_Logout_Token_Is_Rejected()
    {
        Assert.False((await Validate(TestIdentityProvider.Unsigned(idp.LogoutTokenClaims("sid-1")))).IsValid);
    }

    [Fact]
    public async Task Id_Token_Is_Not_A_Logout_Token()
    {
        Assert.False((await Validate(idp.Sign(idp.IdTokenClaims("nonce")))).IsValid);
    }

    private Task<OidcTokenValidation> Validate(string token) =>
        OidcTokenValidatorTests.CreateValidator(idp).ValidateLogoutTokenAsync(token, default);
}
