using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using HarborPortal.Features.Api;
using HarborPortal.Features.Auth;
using HarborPortal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace HarborPortal.Tests.Features.Auth;

public sealed class ApiTokenTests(ITestOutputHelper output)
{
    private const string Password = "correct-horse-battery-staple";

    [Fact]
    public async Task A_Token_From_The_Admin_Command_Reads_Me_With_Its_Users_Roles()
    {
        await using var app = new PortalApplication(output: output);
        using var client = app.CreateClient();
        var token = await CreateTokenAsync(app, "ci-bot", "Security", "Viewer");

        var me = await GetMeAsync(client, token);

        Assert.Equal("ci-bot", me.UserName);
        Assert.Equal(["Security", "Viewer"], me.Roles);
        Assert.Equal("api-token", me.AuthMethod);
        await using var db = app.CreateDbContext();
        var stored = await db.ApiTokens.Include(t => t.UserAccount).SingleAsync();
        Assert.Equal(UserAccount.ApiIssuer, stored.UserAccount!.Issuer);
        Assert.Equal(ApiTokens.Hash(token), stored.TokenHash);
        Assert.Equal(token[..ApiTokens.DisplayPrefixLength], stored.Prefix);
        Assert.NotNull(stored.LastUsedAt);
    }

    [Fact]
    public async Task A_Token_Carries_Its_Owners_Current_Roles()
    {
        await using var app = new PortalApplication(output: output);
        using var client = app.CreateClient();
        var token = await CreateTokenAsync(app, "ci-bot", "Admin");

        await using (var db = app.CreateDbContext())
        {
            await db.UserAccounts.Where(u => u.UserName == "ci-bot").ExecuteUpdateAsync(s => s.SetProperty(u => u.Roles, "Viewer"));
        }

        Assert.Equal(["Viewer"], (await GetMeAsync(client, token)).Roles);
    }

    [Fact]
    public async Task An_Expired_Token_Gets_401_With_A_Bearer_Challenge()
    {
        var clock = new TestClock();
        await using var app = new PortalApplication(output: output, configureServices: s => s.AddSingleton<TimeProvider>(clock));
        using var client = app.CreateClient();
        var token = await CreateTokenAsync(app, "ci-bot", "Viewer", days: 1);
        DateTimeOffset expiresAt;
        await using (var db = app.CreateDbContext())
        {
            expiresAt = (await db.ApiTokens.SingleAsync()).ExpiresAt;
        }

        clock.Advance(expiresAt - clock.GetUtcNow() - TimeSpan.FromSeconds(1));
        using var lastSecond = await SendAsync(client, HttpMethod.Get, "/api/v1/me", token);
        clock.Advance(TimeSpan.FromSeconds(1));
        using var response = await SendAsync(client, HttpMethod.Get, "/api/v1/me", token);

        Assert.Equal(HttpStatusCode.OK, lastSecond.StatusCode);

        await AssertInvalidTokenAsync(response, "expired");
    }

    [Fact]
    public async Task A_Revoked_Token_Gets_401()
    {
        await using var app = new PortalApplication(output: output);
        using var client = app.CreateClient();
        var token = await CreateTokenAsync(app, "ci-bot", "Viewer");

        var revoke = await app.RunAdminCommandAsync("revoke-token", "--prefix", token[..ApiTokens.DisplayPrefixLength]);
        using var response = await SendAsync(client, HttpMethod.Get, "/api/v1/me", token);

        Assert.Equal(0, revoke.ExitCode);
        await AssertInvalidTokenAsync(response, "revoked");
    }

    [Theory]
    [InlineData("hp_0000000000000000000000000000000000000000")]
    [InlineData("not-a-token")]
    [InlineData("hp_short")]
    public async Task An_Unknown_Or_Malformed_Token_Gets_401(string token)
    {
        await using var app = new PortalApplication(output: output);
        using var client = app.CreateClient();

        using var response = await SendAsync(client, HttpMethod.Get, "/api/v1/me", token);

        await AssertInvalidTokenAsync(response, "not valid");
    }

    [Fact]
    public async Task No_Credentials_Get_A_Plain_Bearer_Challenge_Not_A_Login_Redirect()
    {
        await using var app = new PortalApplication(output: output);
        using var client = app.CreateClientWithCookies();

        using var response = await client.GetAsync("/api/v1/me");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.ToString());
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_Cookie_Session_May_Read_But_Not_Write_The_Api()
    {
        await using var app = new PortalApplication(new Dictionary<string, string?> { ["LocalAdmin:Password"] = Password }, output);
        using var browser = app.CreateClientWithCookies();
        (await PortalApplication.SignInLocalAdminAsync(browser, "admin", Password)).Dispose();

        var me = await browser.GetFromJsonAsync<MeResponse>("/api/v1/me");
        using var write = await browser.PostAsJsonAsync("/api/v1/me/tokens", new CreateTokenRequest("from a page", 7));

        Assert.Equal(("admin", "local"), (me!.UserName, me.AuthMethod));
        Assert.Equal(HttpStatusCode.Forbidden, write.StatusCode);
        Assert.Equal("application/problem+json", write.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Use an API token for writes", await write.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await using var db = app.CreateDbContext();
        Assert.Empty(await db.ApiTokens.ToListAsync());
    }

    [Fact]
    public async Task A_Token_Can_Create_And_Revoke_Its_Owners_Tokens()
    {
        await using var app = new PortalApplication(output: output);
        using var client = app.CreateClient();
        var token = await CreateTokenAsync(app, "ci-bot", "Developer");

        using var create = await SendAsync(client, HttpMethod.Post, "/api/v1/me/tokens", token, new CreateTokenRequest("nightly", 30));
        Assert.Equal(HttpStatusCode.Created, create.StatusCode);
        var created = (await create.Content.ReadFromJsonAsync<CreatedTokenResponse>())!;
        Assert.Equal(("nightly", "active"), (created.Details.Name, created.Details.Status));
        Assert.Equal("ci-bot", (await GetMeAsync(client, created.Token)).UserName);

        using var list = await SendAsync(client, HttpMethod.Get, "/api/v1/me/tokens", token);
        var listed = (await list.Content.ReadFromJsonAsync<List<ApiTokenResponse>>())!;
        Assert.Equal(2, listed.Count);
        Assert.DoesNotContain(created.Token, await list.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var revoke = await SendAsync(client, HttpMethod.Delete, $"/api/v1/me/tokens/{created.Details.Id}", token);
        using var afterRevoke = await SendAsync(client, HttpMethod.Get, "/api/v1/me", created.Token);

        Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, afterRevoke.StatusCode);
    }

    [Fact]
    public async Task A_Token_Cannot_Touch_Another_Users_Tokens_Or_Outlive_A_Year()
    {
        await using var app = new PortalApplication(output: output);
        using var client = app.CreateClient();
        var mine = await CreateTokenAsync(app, "ci-bot", "Viewer");
        await CreateTokenAsync(app, "other-bot", "Viewer");
        long othersId;
        await using (var db = app.CreateDbContext())
        {
            othersId = await db.ApiTokens.Where(t => t.UserAccount!.UserName == "other-bot").Select(t => t.Id).SingleAsync();
        }

        using var revokeOthers = await SendAsync(client, HttpMethod.Delete, $"/api/v1/me/tokens/{othersId}", mine);
        using var tooLong = await SendAsync(client, HttpMethod.Post, "/api/v1/me/tokens", mine, new CreateTokenRequest("forever", 366));
        using var noName = await SendAsync(client, HttpMethod.Post, "/api/v1/me/tokens", mine, new CreateTokenRequest(" ", 30));

        Assert.Equal(HttpStatusCode.NotFound, revokeOthers.StatusCode);
        Assert.Equal("application/problem+json", revokeOthers.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
        Assert.Contains("expiresInDays", await tooLong.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, noName.StatusCode);
        Assert.Contains("\"name\"", await noName.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_Viewer_Token_Gets_403_On_The_Audit_Api()
    {
        await using var app = new PortalApplication(output: output);
        using var client = app.CreateClient();
        var viewer = await CreateTokenAsync(app, "viewer-bot", "Viewer");
        var admin = await CreateTokenAsync(app, "admin-bot", "Admin");

        using var refused = await SendAsync(client, HttpMethod.Get, "/api/v1/audit", viewer);
        using var allowed = await SendAsync(client, HttpMethod.Get, "/api/v1/audit", admin);

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
    }

    [Fact]
    public async Task A_Token_Never_Appears_In_The_Audit_Log_Or_The_Logs()
    {
        await using var app = new PortalApplication(output: output);
        using var client = app.CreateClient();
        var token = await CreateTokenAsync(app, "ci-bot", "Admin");
        using var create = await SendAsync(client, HttpMethod.Post, "/api/v1/me/tokens", token, new CreateTokenRequest("second", 7));
        var second = (await create.Content.ReadFromJsonAsync<CreatedTokenResponse>())!;
        (await SendAsync(client, HttpMethod.Get, "/api/v1/audit", second.Token)).Dispose();
        (await SendAsync(client, HttpMethod.Delete, $"/api/v1/me/tokens/{second.Details.Id}", token)).Dispose();
        (await SendAsync(client, HttpMethod.Get, "/api/v1/me", second.Token)).Dispose();
        Assert.Equal(0, (await app.RunAdminCommandAsync("list-tokens")).ExitCode);

        await using var db = app.CreateDbContext();
        var audit = string.Join('\n', await db.AuditEvents.Select(e => $"{e.Action} {e.Actor} {e.Method} {e.Target} {e.Details}").ToListAsync());
        Assert.Contains("apitoken.create", audit, StringComparison.Ordinal);
        Assert.Contains("apitoken.revoke", audit, StringComparison.Ordinal);
        Assert.Contains("API token refused", app.AllLogText(), StringComparison.Ordinal);
        foreach (var value in new[] { token, second.Token })
        {
            Assert.DoesNotContain(value, audit, StringComparison.Ordinal);
            Assert.DoesNotContain(value, app.AllLogText(), StringComparison.Ordinal);
            Assert.DoesNotContain(value[ApiTokens.DisplayPrefixLength..], app.AllLogText(), StringComparison.Ordinal);
        }
    }

    internal static async Task<string> CreateTokenAsync(PortalApplication app, string user, string role, string? role2 = null, int days = 30)
    {
        string[] args = ["create-token", "--user", user, "--role", role, "--expires-days", days.ToString(System.Globalization.CultureInfo.InvariantCulture)];
        var result = await app.RunAdminCommandAsync(role2 is null ? args : [.. args, "--role", role2]);
        Assert.Equal(0, result.ExitCode);
        return result.Output.Trim();
    }

    internal static Task<HttpResponseMessage> SendAsync(HttpClient client, HttpMethod method, string path, string token, object? body = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client.SendAsync(request);
    }

    private static async Task<MeResponse> GetMeAsync(HttpClient client, string token)
    {
        using var response = await SendAsync(client, HttpMethod.Get, "/api/v1/me", token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<MeResponse>())!;
    }

    private static async Task AssertInvalidTokenAsync(HttpResponseMessage response, string reason)
    {
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var challenge = response.Headers.WwwAuthenticate.ToString();
        Assert.StartsWith("Bearer error=\"invalid_token\"", challenge, StringComparison.Ordinal);
        Assert.Contains(reason, challenge, StringComparison.Ordinal);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(reason, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
