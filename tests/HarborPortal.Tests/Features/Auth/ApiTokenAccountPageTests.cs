using System.Net;
using AngleSharp;
using AngleSharp.Dom;
using AngleSharp.Html.Dom;
using AngleSharp.Html.Parser;
using HarborPortal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Xunit.Abstractions;

namespace HarborPortal.Tests.Features.Auth;

public sealed class ApiTokenAccountPageTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_User_Creates_A_Token_On_Their_Page_Sees_It_Once_And_Can_Use_It()
    {
        await using var app = new PortalApplication(output: output);
        using var browser = app.CreateClientWithCookies();
        await app.SignInAsAsync(browser, "dana", "Developer");

        var page = await GetPageAsync(browser);
        Assert.Equal("dana", page.QuerySelector("[data-testid=account-user-name]")?.TextContent);
        Assert.Contains("Developer", page.QuerySelector("[data-testid=account-roles]")?.TextContent, StringComparison.Ordinal);
        using var create = await PostFormAsync(browser, page, "[data-testid=create-token]", new() { ["name"] = "laptop", ["expiresInDays"] = "14" });
        Assert.Equal(HttpStatusCode.Redirect, create.StatusCode);
        Assert.DoesNotContain("hp_", create.Headers.Location?.OriginalString, StringComparison.Ordinal);

        using var shown = await browser.GetAsync(create.Headers.Location);
        var once = new HtmlParser().ParseDocument(await shown.Content.ReadAsStringAsync());
        var token = once.QuerySelector("[data-testid=new-token]")?.GetAttribute("value");
        var again = await GetPageAsync(browser);

        Assert.Matches("^hp_[0-9A-Za-z]{40}$", token);
        Assert.True(shown.Headers.CacheControl?.NoStore);
        Assert.Null(again.QuerySelector("[data-testid=new-token]"));
        Assert.Contains("laptop", again.QuerySelector("[data-testid=tokens-table]")?.TextContent, StringComparison.Ordinal);
        Assert.DoesNotContain(token!, again.ToHtml(), StringComparison.Ordinal);
        using var api = await ApiTokenTests.SendAsync(app.CreateClient(), HttpMethod.Get, "/api/v1/me", token!);
        Assert.Equal(HttpStatusCode.OK, api.StatusCode);
    }

    [Fact]
    public async Task A_User_Revokes_Their_Token_On_Their_Page()
    {
        await using var app = new PortalApplication(output: output);
        using var browser = app.CreateClientWithCookies();
        await app.SignInAsAsync(browser, "dana", "Viewer");
        var page = await GetPageAsync(browser);
        (await PostFormAsync(browser, page, "[data-testid=create-token]", new() { ["name"] = "laptop", ["expiresInDays"] = "30" })).Dispose();
        var token = (await GetPageAsync(browser)).QuerySelector("[data-testid=new-token]")?.GetAttribute("value");

        var withToken = await GetPageAsync(browser);
        var revokeForm = withToken.QuerySelector("[data-testid=revoke-token]")!.Closest("form")!;
        using var revoke = await PostFormAsync(browser, revokeForm, []);
        var after = await GetPageAsync(browser);
        using var api = await ApiTokenTests.SendAsync(app.CreateClient(), HttpMethod.Get, "/api/v1/me", token!);

        Assert.StartsWith("/account?revoked=", revoke.Headers.Location?.OriginalString, StringComparison.Ordinal);
        Assert.Equal("revoked", after.QuerySelector("[data-testid=token-status]")?.TextContent);
        Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
    }

    [Fact]
    public async Task Token_Lifetime_Must_Be_One_To_365_Days()
    {
        await using var app = new PortalApplication(output: output);
        using var browser = app.CreateClientWithCookies();
        await app.SignInAsAsync(browser, "dana", "Viewer");
        var page = await GetPageAsync(browser);

        using var tooLong = await PostFormAsync(browser, page, "[data-testid=create-token]", new() { ["name"] = "x", ["expiresInDays"] = "366" });
        using var none = await PostFormAsync(browser, page, "[data-testid=create-token]", new() { ["name"] = "x", ["expiresInDays"] = "" });

        Assert.Equal("/account?error=lifetime", tooLong.Headers.Location?.OriginalString);
        Assert.Equal("/account?error=lifetime", none.Headers.Location?.OriginalString);
        await using var db = app.CreateDbContext();
        Assert.Empty(await db.ApiTokens.ToListAsync());
    }

    [Fact]
    public async Task A_User_Cannot_Revoke_Someone_Elses_Token()
    {
        await using var app = new PortalApplication(output: output);
        await ApiTokenTests.CreateTokenAsync(app, "other-bot", "Viewer");
        using var browser = app.CreateClientWithCookies();
        await app.SignInAsAsync(browser, "dana", "Viewer");
        var page = await GetPageAsync(browser);
        long othersId;
        await using (var db = app.CreateDbContext())
        {
            othersId = await db.ApiTokens.Select(t => t.Id).SingleAsync();
        }

        var antiforgery = page.QuerySelector("input[name=__RequestVerificationToken]")!.GetAttribute("value")!;
        using var revoke = await browser.PostAsync("/account/tokens/revoke", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = antiforgery,
            ["id"] = othersId.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }));

        Assert.Equal("/account?error=not_found", revoke.Headers.Location?.OriginalString);
        await using var check = app.CreateDbContext();
        Assert.Null((await check.ApiTokens.SingleAsync()).RevokedAt);
    }

    [Fact]
    public async Task Token_Forms_Need_The_Antiforgery_Token()
    {
        await using var app = new PortalApplication(output: output);
        using var browser = app.CreateClientWithCookies();
        await app.SignInAsAsync(browser, "dana", "Viewer");
        await GetPageAsync(browser);

        using var create = await browser.PostAsync("/account/tokens", new FormUrlEncodedContent(new Dictionary<string, string> { ["name"] = "x", ["expiresInDays"] = "7" }));

        Assert.Equal(HttpStatusCode.BadRequest, create.StatusCode);
    }

    private static async Task<IHtmlDocument> GetPageAsync(HttpClient browser)
    {
        using var response = await browser.GetAsync("/account");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return new HtmlParser().ParseDocument(await response.Content.ReadAsStringAsync());
    }

    private static Task<HttpResponseMessage> PostFormAsync(HttpClient browser, IHtmlDocument page, string formSelector, Dictionary<string, string> fields) =>
        PostFormAsync(browser, page.QuerySelector(formSelector)!, fields);

    /// <summary>Submits a form as a browser would: its hidden inputs (antiforgery token included) plus the typed fields.</summary>
    private static async Task<HttpResponseMessage> PostFormAsync(HttpClient browser, AngleSharp.Dom.IElement form, Dictionary<string, string> fields)
    {
        var values = form.QuerySelectorAll("input[type=hidden]").ToDictionary(i => i.GetAttribute("name")!, i => i.GetAttribute("value") ?? "");
        foreach (var (name, value) in fields)
        {
            values[name] = value;
        }

        return await browser.PostAsync(form.GetAttribute("action"), new FormUrlEncodedContent(values));
    }
}
