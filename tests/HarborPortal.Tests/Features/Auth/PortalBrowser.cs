using System.Net;
using AngleSharp.Html.Parser;
using HarborPortal.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.WebUtilities;

namespace HarborPortal.Tests.Features.Auth;

/// <summary>A cookie-keeping client of the portal that walks the sign-in with <see cref="TestIdentityProvider"/> step by step.</summary>
public sealed class PortalBrowser(PortalApplication app) : IDisposable
{
    public HttpClient Client { get; } = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });

    /// <summary>Clicks "Log in via authentik": the portal's redirect to the provider's authorize endpoint.</summary>
    public async Task<Uri> StartLoginAsync(string returnUrl = "/")
    {
        var response = await Client.GetAsync($"/account/login/oidc?returnUrl={Uri.EscapeDataString(returnUrl)}");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return response.Headers.Location!;
    }

    /// <summary>The provider approves and sends the browser back to the callback with a code for these id_token claims.</summary>
    public async Task<HttpResponseMessage> CompleteLoginAsync(TestIdentityProvider idp, Uri authorize, Func<string, Dictionary<string, object>>? claimsForNonce = null)
    {
        var query = QueryHelpers.ParseQuery(authorize.Query);
        var claims = claimsForNonce?.Invoke(query["nonce"]!) ?? idp.IdTokenClaims(query["nonce"]!);
        var code = idp.IssueCode(query["code_challenge"]!, query["redirect_uri"]!, claims);
        return await Client.GetAsync($"/signin-oidc?code={Uri.EscapeDataString(code)}&state={Uri.EscapeDataString(query["state"]!)}");
    }

    public async Task SignInAsync(TestIdentityProvider idp, Func<string, Dictionary<string, object>>? claimsForNonce = null)
    {
        var response = await CompleteLoginAsync(idp, await StartLoginAsync(), claimsForNonce);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/", response.Headers.Location!.OriginalString);
    }

    /// <summary>The antiforgery token a page's forms carry.</summary>
    public async Task<string> AntiforgeryTokenAsync(string path = "/")
    {
        var html = await Client.GetStringAsync(path);
        var document = new HtmlParser().ParseDocument(html);
        return document.QuerySelector("input[name=__RequestVerificationToken]")?.GetAttribute("value")
            ?? throw new InvalidOperationException($"{path} has no form with an antiforgery token.");
    }

    public void Dispose() => Client.Dispose();
}
