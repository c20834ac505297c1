using System.Net;
using HarborPortal.Data;
using HarborPortal.Features.Account;
using HarborPortal.Features.Auth;
using HarborPortal.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace HarborPortal.Tests.Features.Auth;

/// <summary>The sign-in through the real app, against <see cref="TestIdentityProvider"/> on a loopback port.</summary>
public sealed class OidcSignInTests : IAsyncLifetime
{
    private TestIdentityProvider idp = default!;
    private PortalApplication? app;

    public async Task InitializeAsync() => idp = await TestIdentityProvider.StartAsync();

    public async Task DisposeAsync()
    {
        if (app is not null)
        {
            await app.DisposeAsync();
        }

        await idp.DisposeAsync();
    }

    [Fact]
    public async Task Login_Redirects_To_The_Authorize_Endpoint_With_Pkce_State_And_Nonce()
    {
        using var browser = new PortalBrowser(Portal());

        var authorize = await browser.StartLoginAsync("/findings");

        Assert.StartsWith(idp.AuthorizeEndpoint + "?", authorize.AbsoluteUri, StringComparison.Ordinal);
        var query = QueryHelpers.ParseQuery(authorize.Query);
        Assert.Equal("code", query["response_type"]);
        Assert.Equal(TestIdentityProvider.ClientId, query["client_id"]);
        Assert.Equal("http://localhost/signin-oidc", query["redirect_uri"]);
        Assert.Equal("openid profile email", query["scope"]);
        Assert.Equal("S256", query["code_challenge_method"]);
        Assert.Equal(43, query["code_challenge"].ToString().Length);
        Assert.False(string.IsNullOrEmpty(query["state"]));
        Assert.True(query["nonce"].ToString().Length >= 32);
    }

    [Fact]
    public async Task Every_Challenge_Gets_A_Fresh_Nonce()
    {
        using var browser = new PortalBrowser(Portal());

        var first = QueryHelpers.ParseQuery((await browser.StartLoginAsync()).Query);
        var second = QueryHelpers.ParseQuery((await browser.StartLoginAsync()).Query);

        Assert.NotEqual(first["nonce"], second["nonce"]);
    }

    [Fact]
    public async Task A_Page_That_Needs_Sign_In_Sends_The_Browser_To_The_Login_Page()
    {
        using var browser = new PortalBrowser(Portal());

        var response = await browser.Client.GetAsync("/admin/sessions");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("http://localhost/account/login?returnUrl=", response.Headers.Location!.AbsoluteUri, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Login_Never_Redirects_Back_Outside_The_Portal()
    {
        using var browser = new PortalBrowser(Portal());

        var response = await browser.CompleteLoginAsync(idp, await browser.StartLoginAsync("https://evil.example/"));

        Assert.Equal("/", response.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task Sign_In_Creates_The_Account_And_A_Server_Side_Session()
    {
        using var browser = new PortalBrowser(Portal());

        var response = await browser.CompleteLoginAsync(idp, await browser.StartLoginAsync("/admin/sessions"), nonce =>
            idp.IdTokenClaims(nonce, subject: "sub-admin", userName: "admin.alice", "portal-admins", "staff"));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/admin/sessions", response.Headers.Location!.OriginalString);
        var page = await browser.Client.GetAsync("/admin/sessions");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("admin.alice", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        await using var db = app!.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContext();
        var account = await db.UserAccounts.SingleAsync(a => a.Subject == "sub-admin");
        Assert.Equal(idp.Issuer, account.Issuer);
        Assert.Equal("admin.alice", account.UserName);
        Assert.Equal("admin.alice@example.test", account.Email);
        Assert.Equal("User admin.alice", account.DisplayName);
        Assert.Equal(["portal-admins", "staff"], account.GroupList);
        Assert.Equal(["Admin"], account.RoleList);
        Assert.NotNull(account.LastSignInAt);

        var session = await db.UserSessions.SingleAsync();
        Assert.Equal("oidc", session.Method);
        Assert.Equal("sid-sub-admin", session.ProviderSessionId);
        Assert.Equal(account.Id, session.UserAccountId);
        Assert.Null(session.EndedAt);

        Assert.Contains(await db.AuditEvents.ToListAsync(), e => e is { Action: "signin", Succeeded: true, Actor: "admin.alice", Method: "oidc" });
    }

    [Fact]
    public async Task Cookie_Carries_Only_A_Session_Key()
    {
        using var browser = new PortalBrowser(Portal());
        var authorize = await browser.StartLoginAsync();

        var response = await browser.CompleteLoginAsync(idp, authorize);

        var cookie = Assert.Single(response.Headers.GetValues("Set-Cookie"), c => c.StartsWith("__harborportal=", StringComparison.Ordinal));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=lax", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.True(cookie.IndexOf(';', StringComparison.Ordinal) < 1000, "a session-key cookie is small; a whole ticket with an id_token is not");
    }

    [Fact]
    public async Task Second_Sign_In_Updates_The_Same_Account()
    {
        using var browser = new PortalBrowser(Portal());
        await browser.SignInAsync(idp, nonce => idp.IdTokenClaims(nonce, subject: "sub-1", userName: "old-name"));

        using var other = new PortalBrowser(app!);
        await other.SignInAsync(idp, nonce => idp.IdTokenClaims(nonce, subject: "sub-1", userName: "new-name"));

        await using var db = app!.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContext();
        var account = await db.UserAccounts.SingleAsync();
        Assert.Equal("new-name", account.UserName);
    }

    [Fact]
    public async Task Userinfo_Fills_Claims_The_Id_Token_Lacks()
    {
        idp.UserInfo = new() { ["email"] = "from-userinfo@example.test", ["groups"] = new[] { "portal-admins" } };
        using var browser = new PortalBrowser(Portal());

        await browser.SignInAsync(idp, nonce =>
        {
            var claims = idp.IdTokenClaims(nonce, subject: "sub-2", userName: "bob");
            claims.Remove("email");
            claims.Remove("groups");
            return claims;
        });

        await using var db = app!.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContext();
        var account = await db.UserAccounts.SingleAsync();
        Assert.Equal("from-userinfo@example.test", account.Email);
        Assert.Equal(["Admin"], account.RoleList);
    }

    [Fact]
    public async Task Userinfo_About_Another_Subject_Fails_The_Sign_In()
    {
        idp.UserInfo = new() { ["sub"] = "someone-else", ["email"] = "x@example.test" };
        using var browser = new PortalBrowser(Portal());

        var response = await browser.CompleteLoginAsync(idp, await browser.StartLoginAsync(), nonce =>
        {
            var claims = idp.IdTokenClaims(nonce);
            claims.Remove("email");
            return claims;
        });

        AssertLoginError(response, LoginErrors.InvalidToken);
    }

    [Fact]
    public async Task Provider_Refusal_Ends_On_The_Login_Page_With_Access_Denied()
    {
        using var browser = new PortalBrowser(Portal());
        var state = QueryHelpers.ParseQuery((await browser.StartLoginAsync()).Query)["state"];

        var response = await browser.Client.GetAsync($"/signin-oidc?error=access_denied&state={Uri.EscapeDataString(state!)}");

        AssertLoginError(response, LoginErrors.AccessDenied);
    }

    [Fact]
    public async Task Forged_State_Ends_On_The_Login_Page()
    {
        using var browser = new PortalBrowser(Portal());
        await browser.StartLoginAsync();

        var response = await browser.Client.GetAsync("/signin-oidc?code=abc&state=forged");

        AssertLoginError(response, LoginErrors.InvalidState);
    }

    [Fact]
    public async Task Callback_From_Another_Browser_Ends_On_The_Login_Page()
    {
        using var browser = new PortalBrowser(Portal());
        var authorize = await browser.StartLoginAsync();

        // A state that is genuine but was started in another browser (no correlation cookie here).
        using var attacker = new PortalBrowser(app!);
        var response = await attacker.CompleteLoginAsync(idp, authorize);

        AssertLoginError(response, LoginErrors.InvalidState);
    }

    [Fact]
    public async Task Id_Token_With_Another_Nonce_Ends_On_The_Login_Page()
    {
        using var browser = new PortalBrowser(Portal());

        var response = await browser.CompleteLoginAsync(idp, await browser.StartLoginAsync(), _ => idp.IdTokenClaims("replayed-nonce"));

        AssertLoginError(response, LoginErrors.InvalidToken);
        await using var db = app!.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContext();
        Assert.Empty(await db.UserSessions.ToListAsync());
        Assert.Contains(await db.AuditEvents.ToListAsync(), e => e is { Action: "signin", Succeeded: false, Method: "oidc" });
    }

    [Fact]
    public async Task Token_Endpoint_Refusal_Ends_On_The_Login_Page()
    {
        using var browser = new PortalBrowser(Portal());
        var state = QueryHelpers.ParseQuery((await browser.StartLoginAsync()).Query)["state"];

        var response = await browser.Client.GetAsync($"/signin-oidc?code=never-issued&state={Uri.EscapeDataString(state!)}");

        AssertLoginError(response, LoginErrors.InvalidToken);
    }

    [Fact]
    public async Task User_In_No_Mapped_Group_Is_Refused_When_A_Mapped_Group_Is_Required()
    {
        using var browser = new PortalBrowser(Portal(new() { ["Oidc:RequireMappedGroup"] = "true" }));

        var response = await browser.CompleteLoginAsync(idp, await browser.StartLoginAsync(), nonce => idp.IdTokenClaims(nonce, "sub-3", "carol", "staff"));

        AssertLoginError(response, LoginErrors.NoMappedGroup);
    }

    [Fact]
    public async Task Provider_Down_At_Login_Ends_On_The_Login_Page()
    {
        idp.Unavailable = true;
        using var browser = new PortalBrowser(Portal());

        var response = await browser.Client.GetAsync("/account/login/oidc?returnUrl=/");

        AssertLoginError(response, LoginErrors.ProviderUnavailable);
    }

    [Fact]
    public async Task Logout_Ends_The_Session_And_Sends_The_Browser_To_End_Session_With_Id_Token_Hint()
    {
        using var browser = new PortalBrowser(Portal());
        await browser.SignInAsync(idp);
        var token = await browser.AntiforgeryTokenAsync();

        var response = await browser.Client.PostAsync("/account/logout", new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = token }));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var location = response.Headers.Location!;
        Assert.StartsWith(idp.EndSessionEndpoint + "?", location.AbsoluteUri, StringComparison.Ordinal);
        var query = QueryHelpers.ParseQuery(location.Query);
        Assert.Equal("http://localhost/signout-callback-oidc", query["post_logout_redirect_uri"]);
        Assert.False(string.IsNullOrEmpty(query["state"]));
        var hint = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(query["id_token_hint"]!);
        Assert.Equal("hashed-user-1", hint.Subject);

        await using var db = app!.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContext();
        Assert.Equal("signout", (await db.UserSessions.SingleAsync()).EndedReason);
        var after = await browser.Client.GetAsync("/admin/sessions");
        Assert.Equal(HttpStatusCode.Redirect, after.StatusCode);

        var callback = await browser.Client.GetAsync("/signout-callback-oidc?state=" + query["state"]);
        Assert.Equal("/account/login?signedOut=1", callback.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task Logout_Without_An_Antiforgery_Token_Is_Refused()
    {
        using var browser = new PortalBrowser(Portal());
        await browser.SignInAsync(idp);

        var response = await browser.Client.PostAsync("/account/logout", new FormUrlEncodedContent(new Dictionary<string, string>()));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        await using var db = app!.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContext();
        Assert.Null((await db.UserSessions.SingleAsync()).EndedAt);
    }

    [Fact]
    public async Task Admin_Can_Revoke_A_Session()
    {
        using var admin = new PortalBrowser(Portal());
        await admin.SignInAsync(idp, nonce => idp.IdTokenClaims(nonce, "sub-admin", "root", "portal-admins"));
        using var viewer = new PortalBrowser(app!);
        await viewer.SignInAsync(idp, nonce => idp.IdTokenClaims(nonce, "sub-viewer", "victor", "staff"));
        Assert.Equal(HttpStatusCode.OK, (await viewer.Client.GetAsync("/")).StatusCode);

        string victorsSession;
        await using (var db = app!.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContext())
        {
            victorsSession = (await db.UserSessions.SingleAsync(s => s.UserName == "victor")).Id;
        }

        var token = await admin.AntiforgeryTokenAsync("/admin/sessions");
        var response = await admin.Client.PostAsync("/admin/sessions/revoke", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token,
            ["sessionId"] = victorsSession,
        }));

        Assert.Equal("/admin/sessions?revoked=1", response.Headers.Location!.OriginalString);
        var after = await viewer.Client.GetAsync("/");
        Assert.Equal(HttpStatusCode.Redirect, after.StatusCode);
        Assert.Contains("error=session_ended", after.Headers.Location!.Query, StringComparison.Ordinal);
        await using (var db = app!.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContext())
        {
            Assert.Equal("revoked", (await db.UserSessions.SingleAsync(s => s.Id == victorsSession)).EndedReason);
        }
    }

    [Fact]
    public async Task Groups_Claim_As_A_Single_String_Is_One_Group()
    {
        using var browser = new PortalBrowser(Portal());

        await browser.SignInAsync(idp, nonce =>
        {
            var claims = idp.IdTokenClaims(nonce, "sub-4", "dave");
            claims["groups"] = "portal-admins";
            return claims;
        });

        Assert.Equal(HttpStatusCode.OK, (await browser.Client.GetAsync("/admin/sessions")).StatusCode);
    }

    [Fact]
    public async Task Hs256_Provider_Signs_In_And_Admins_See_The_Signing_Key_Warning()
    {
        // authentik with no signing key selected: HS256 keyed with the client secret, an empty JWKS.
        idp.Algorithms.Clear();
        idp.Algorithms.Add("HS256");
        using var browser = new PortalBrowser(Portal());

        await browser.SignInAsync(idp);

        var health = app!.Services.GetRequiredService<OidcHealth>();
        for (var i = 0; i < 50 && health.CheckedAt is null; i++)
        {
            await Task.Delay(100);
        }

        foreach (var path in new[] { "/admin/sessions", "/admin/jobs", "/" })
        {
            var page = await browser.Client.GetStringAsync(path);
            Assert.Contains("authentik has no signing key selected", page, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Viewer_Cannot_See_Sessions()
    {
        using var browser = new PortalBrowser(Portal());
        await browser.SignInAsync(idp, nonce => idp.IdTokenClaims(nonce, "sub-viewer", "victor", "staff"));

        Assert.Equal(HttpStatusCode.Forbidden, (await browser.Client.GetAsync("/admin/sessions")).StatusCode);
    }

    private static void AssertLoginError(HttpResponseMessage response, string code)
    {
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal($"/account/login?error={code}", response.Headers.Location!.OriginalString);
    }

    private PortalApplication Portal(Dictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Oidc:Authority"] = idp.Issuer,
            ["Oidc:ClientId"] = TestIdentityProvider.ClientId,
            ["Oidc:ClientSecret"] = TestIdentityProvider.ClientSecret,
            ["Oidc:RequireHttpsMetadata"] = "false",
            ["Oidc:RoleMappings:portal-admins"] = "Admin",
        };
        foreach (var (key, value) in extra ?? [])
        {
            settings[key] = value;
        }

        app = new PortalApplication(settings);
        return app;
    }
}
