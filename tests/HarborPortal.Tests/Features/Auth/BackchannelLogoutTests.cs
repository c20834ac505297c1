using System.Net;
using HarborPortal.Data;
using HarborPortal.Features.Auth;
using HarborPortal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace HarborPortal.Tests.Features.Auth;

/// <summary>authentik's back-channel logout, posted to the real app.</summary>
public sealed class BackchannelLogoutTests : IAsyncLifetime
{
    private TestIdentityProvider idp = default!;
    private PortalApplication app = default!;

    public async Task InitializeAsync()
    {
        idp = await TestIdentityProvider.StartAsync();
        app = new PortalApplication(new Dictionary<string, string?>
        {
            ["Oidc:Authority"] = idp.Issuer,
            ["Oidc:ClientId"] = TestIdentityProvider.ClientId,
            ["Oidc:ClientSecret"] = TestIdentityProvider.ClientSecret,
            ["Oidc:RequireHttpsMetadata"] = "false",
        });
    }

    public async Task DisposeAsync()
    {
        await app.DisposeAsync();
        await idp.DisposeAsync();
    }

    [Fact]
    public async Task Garbage_Is_Answered_400_Without_Caching()
    {
        using var client = app.CreateClient();

        var response = await client.PostAsync(PortalAuthentication.BackchannelLogoutPath, Form("logout_token", "garbage"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(response.Headers.CacheControl?.NoStore);
    }

    [Fact]
    public async Task Request_Without_A_Logout_Token_Is_Answered_400()
    {
        using var client = app.CreateClient();

        var response = await client.PostAsync(PortalAuthentication.BackchannelLogoutPath, Form("something", "else"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Logout_Token_Signed_By_Someone_Else_Is_Answered_400()
    {
        using var client = app.CreateClient();
        var stranger = new Microsoft.IdentityModel.Tokens.RsaSecurityKey(System.Security.Cryptography.RSA.Create(2048)) { KeyId = idp.RsaKey.KeyId };
        var forged = TestIdentityProvider.Sign(idp.LogoutTokenClaims("sid-hashed-user-1"), new(stranger, "RS256"));

        var response = await client.PostAsync(PortalAuthentication.BackchannelLogoutPath, Form("logout_token", forged));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Valid_Logout_Token_Ends_The_Sessions_With_Its_Sid_Only()
    {
        // Arrange: two browsers of one user in two authentik sessions.
        using var first = new PortalBrowser(app);
        await first.SignInAsync(idp, nonce => WithSid(idp.IdTokenClaims(nonce), "sid-a"));
        using var second = new PortalBrowser(app);
        await second.SignInAsync(idp, nonce => WithSid(idp.IdTokenClaims(nonce), "sid-b"));
        Assert.Equal(HttpStatusCode.OK, (await first.Client.GetAsync("/")).StatusCode);

        // Act
        using var client = app.CreateClient();
        var response = await client.PostAsync(PortalAuthentication.BackchannelLogoutPath, Form("logout_token", idp.Sign(idp.LogoutTokenClaims("sid-a"))));

        // Assert
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(response.Headers.CacheControl?.NoStore);
        Assert.Equal(HttpStatusCode.Redirect, (await first.Client.GetAsync("/")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await second.Client.GetAsync("/")).StatusCode);

        await using var db = app.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContext();
        var ended = await db.UserSessions.SingleAsync(s => s.ProviderSessionId == "sid-a");
        Assert.Equal("backchannel", ended.EndedReason);
        Assert.Null((await db.UserSessions.SingleAsync(s => s.ProviderSessionId == "sid-b")).EndedAt);
        Assert.Contains(await db.AuditEvents.ToListAsync(), e => e is { Action: "signout", Method: "backchannel", Succeeded: true });
    }

    [Fact]
    public async Task Logout_Token_Without_Sid_Ends_Every_Session_Of_The_Subject()
    {
        using var first = new PortalBrowser(app);
        await first.SignInAsync(idp, nonce => WithSid(idp.IdTokenClaims(nonce), "sid-a"));
        using var second = new PortalBrowser(app);
        await second.SignInAsync(idp, nonce => WithSid(idp.IdTokenClaims(nonce), "sid-b"));

        using var client = app.CreateClient();
        var response = await client.PostAsync(PortalAuthentication.BackchannelLogoutPath, Form("logout_token", idp.Sign(idp.LogoutTokenClaims(sid: null))));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await first.Client.GetAsync("/")).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await second.Client.GetAsync("/")).StatusCode);
    }

    [Fact]
    public async Task Logout_Token_For_An_Unknown_Session_Is_Still_Answered_200()
    {
        using var client = app.CreateClient();

        var response = await client.PostAsync(PortalAuthentication.BackchannelLogoutPath, Form("logout_token", idp.Sign(idp.LogoutTokenClaims("sid-nobody"))));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static Dictionary<string, object> WithSid(Dictionary<string, object> claims, string sid)
    {
        claims["sid"] = sid;
        return claims;
    }

    private static FormUrlEncodedContent Form(string name, string value) => new(new Dictionary<string, string> { [name] = value });
}
