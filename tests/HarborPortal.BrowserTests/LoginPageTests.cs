using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using HarborPortal.BrowserTests.Infrastructure;
using HarborPortal.BrowserTests.Pages;
using Microsoft.AspNetCore.WebUtilities;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace HarborPortal.BrowserTests;

[Collection(PortalCollection.Name)]
public sealed class LoginPageTests(PortalServerFixture server, BrowserFixture browser, ITestOutputHelper output)
    : BrowserTest(server, browser, output)
{
    [Fact]
    public Task Login_Page_Offers_Authentik_And_Keeps_The_Break_Glass_Form_Folded_Away() => WithPageAsync(async page =>
    {
        var login = await LoginPage.OpenAsync(page);

        await Expect(login.AuthentikButton).ToHaveTextAsync("Log in via authentik");
        await Expect(login.LocalAdminForm).ToBeHiddenAsync();
        await page.GetByText("Break-glass local administrator").ClickAsync();
        await Expect(login.LocalAdminForm).ToBeVisibleAsync();

        // The portal's own stylesheet and script loaded under its CSP (the fixture checks nothing was refused).
        await Expect(login.AuthentikButton).ToHaveCSSAsync("background-color", "rgb(13, 110, 253)");
        Assert.True(await page.EvaluateAsync<bool>("() => typeof window.htmx === 'object'"), "htmx is loaded");
    });

    [Fact]
    public Task Anonymous_Visitor_Is_Sent_To_The_Login_Page_Which_Keeps_Where_They_Were_Going() => WithPageAsync(async page =>
    {
        await page.GotoAsync("/admin/jobs");

        var login = new LoginPage(page);
        await login.WaitUntilShownAsync();
        await Expect(page).ToHaveURLAsync(new Regex(@"/account/login\?returnUrl=%2Fadmin%2Fjobs$"));
        await Expect(login.AuthentikButton).ToHaveAttributeAsync("href", "/account/login/oidc?returnUrl=%2Fadmin%2Fjobs");
    });

    /// <summary>
    /// The provider in the real browser, without the portal's sign-in: authorize → password form → back to the
    /// registered redirect URI with a code (read from the request; what the portal does with it is not the point).
    /// </summary>
    [Fact]
    public Task Test_Provider_Shows_Its_Password_Form_And_Returns_A_Code_To_The_Portals_Callback() => WithPageAsync(async page =>
    {
        var provider = Server.IdentityProvider;
        var callback = new Uri(Server.BaseAddress, "signin-oidc").ToString();

        var verifier = Base64Url(RandomNumberGenerator.GetBytes(32));
        var authorize = QueryHelpers.AddQueryString(new Uri(new Uri(provider.Issuer), "/application/o/authorize/").ToString(), new Dictionary<string, string?>
        {
            ["response_type"] = "code",
            ["client_id"] = provider.ClientId,
            ["redirect_uri"] = callback,
            ["scope"] = "openid profile email",
            ["state"] = "browser-test-state",
            ["nonce"] = "browser-test-nonce",
            ["code_challenge"] = Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))),
            ["code_challenge_method"] = "S256",
        });
        await page.GotoAsync(authorize);

        var authentik = new AuthentikLoginPage(page);
        await authentik.WaitUntilShownAsync();
        await authentik.SubmitAsync("viewer", "not-the-password");
        await Expect(authentik.Error).ToHaveTextAsync("Invalid username or password");
        var callbackRequest = page.WaitForRequestAsync(request => request.Url.StartsWith(callback, StringComparison.Ordinal));
        await authentik.SubmitAsync("viewer", "viewer-pass");

        var query = QueryHelpers.ParseQuery(new Uri((await callbackRequest).Url).Query);
        Assert.Equal("browser-test-state", query["state"].ToString());
        Assert.False(string.IsNullOrEmpty(query["code"]), "the callback carries a code");
        Assert.Equal(provider.Issuer, query["iss"].ToString());
        await page.WaitForLoadStateAsync();
    });

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
