using System.Net;
using System.Text.RegularExpressions;
using AngleSharp.Html.Parser;
using HarborPortal.Features.Auth;
using HarborPortal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace HarborPortal.Tests.Features.Auth;

public sealed partial class LocalAdminTests(ITestOutputHelper output)
{
    private const string Password = "correct-horse-battery-staple";

    private PortalApplication CreateApp(Dictionary<string, string?>? settings = null, TestClock? clock = null)
    {
        settings ??= new() { ["LocalAdmin:Password"] = Password };
        return new PortalApplication(settings, output, clock is null ? null : services => services.AddSingleton<TimeProvider>(clock));
    }

    [Fact]
    public async Task Signs_In_With_The_Configured_Password_And_Lands_On_The_Dashboard_As_Admin()
    {
        await using var app = CreateApp();
        using var client = app.CreateClientWithCookies();

        using var response = await PortalApplication.SignInLocalAdminAsync(client, "admin", Password);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/", response.Headers.Location?.OriginalString);
        var dashboard = new HtmlParser().ParseDocument(await client.GetStringAsync("/"));
        Assert.NotNull(dashboard.QuerySelector("a[href='/admin/jobs']"));
        Assert.Equal("Admin", dashboard.QuerySelector("[data-testid=user-role]")?.TextContent);

        await using var db = app.CreateDbContext();
        var account = await db.UserAccounts.SingleAsync(u => u.Issuer == UserAccount.LocalIssuer);
        Assert.Equal(("admin", "Admin"), (account.Subject, account.Roles));
        var signIn = await db.AuditEvents.SingleAsync(e => e.Action == "signin");
        Assert.True(signIn.Succeeded);
        Assert.Equal(("admin", "local"), (signIn.Actor, signIn.Method));
        Assert.DoesNotContain(Password, app.AllLogText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wrong_Password_Is_Refused_Without_Saying_Which_Part_Was_Wrong()
    {
        await using var app = CreateApp();
        using var client = app.CreateClientWithCookies();

        using var wrongPassword = await PortalApplication.SignInLocalAdminAsync(client, "admin", "not-the-password");
        using var wrongUser = await PortalApplication.SignInLocalAdminAsync(client, "root", Password);

        Assert.Equal("/account/login?error=invalid_credentials", wrongPassword.Headers.Location?.OriginalString);
        Assert.Equal("/account/login?error=invalid_credentials", wrongUser.Headers.Location?.OriginalString);
        using var account = await client.GetAsync("/account");
        Assert.Equal(HttpStatusCode.Redirect, account.StatusCode);
        Assert.StartsWith("http://localhost/account/login", account.Headers.Location?.ToString(), StringComparison.Ordinal);

        await using var db = app.CreateDbContext();
        var failures = await db.AuditEvents.Where(e => e.Action == "signin").OrderBy(e => e.Id).ToListAsync();
        Assert.All(failures, e => Assert.False(e.Succeeded));
        Assert.Equal(["admin", null], failures.Select(e => e.Actor));
    }

    [Fact]
    public async Task A_Password_Typed_As_User_Name_Is_Not_Recorded()
    {
        await using var app = CreateApp();
        using var client = app.CreateClientWithCookies();

        using var response = await PortalApplication.SignInLocalAdminAsync(client, Password, Password);

        Assert.Equal("/account/login?error=invalid_credentials", response.Headers.Location?.OriginalString);
        await using var db = app.CreateDbContext();
        var events = await db.AuditEvents.ToListAsync();
        Assert.DoesNotContain(events, e => $"{e.Actor} {e.Target} {e.Details}".Contains(Password, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Five_Failures_Lock_The_Account_And_Even_The_Right_Password_Is_Refused()
    {
        await using var app = CreateApp();
        using var client = app.CreateClientWithCookies();

        for (var i = 1; i < LocalAdmin.MaxFailedAttempts; i++)
        {
            using var failure = await PortalApplication.SignInLocalAdminAsync(client, "admin", $"wrong-{i}");
            Assert.Equal("/account/login?error=invalid_credentials", failure.Headers.Location?.OriginalString);
        }

        using var fifth = await PortalApplication.SignInLocalAdminAsync(client, "admin", "wrong-5");
        using var right = await PortalApplication.SignInLocalAdminAsync(client, "admin", Password);

        Assert.Equal("/account/login?error=locked", fifth.Headers.Location?.OriginalString);
        Assert.Equal("/account/login?error=locked", right.Headers.Location?.OriginalString);
        var page = new HtmlParser().ParseDocument(await client.GetStringAsync(right.Headers.Location));
        Assert.Contains("locked", page.QuerySelector("[data-testid=login-error]")?.TextContent, StringComparison.Ordinal);

        await using var db = app.CreateDbContext();
        var lockout = await db.AuditEvents.SingleAsync(e => e.Action == "lockout");
        Assert.Equal("admin", lockout.Target);
        Assert.Equal(6, await db.AuditEvents.CountAsync(e => e.Action == "signin" && !e.Succeeded));
    }

    [Fact]
    public async Task Lock_Expires_After_Fifteen_Minutes()
    {
        var clock = new TestClock();
        await using var app = CreateApp(clock: clock);
        using var client = app.CreateClientWithCookies();
        for (var i = 0; i < LocalAdmin.MaxFailedAttempts; i++)
        {
            (await PortalApplication.SignInLocalAdminAsync(client, "admin", "wrong")).Dispose();
        }

        clock.Advance(TimeSpan.FromMinutes(14));
        using var stillLocked = await PortalApplication.SignInLocalAdminAsync(client, "admin", Password);
        clock.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));
        using var unlocked = await PortalApplication.SignInLocalAdminAsync(client, "admin", Password);

        Assert.Equal("/account/login?error=locked", stillLocked.Headers.Location?.OriginalString);
        Assert.Equal("/", unlocked.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task Success_Resets_The_Failure_Count()
    {
        await using var app = CreateApp();
        using var client = app.CreateClientWithCookies();
        for (var i = 0; i < LocalAdmin.MaxFailedAttempts - 1; i++)
        {
            (await PortalApplication.SignInLocalAdminAsync(client, "admin", "wrong")).Dispose();
        }

        (await PortalApplication.SignInLocalAdminAsync(client, "admin", Password)).Dispose();
        using var afterSuccess = await PortalApplication.SignInLocalAdminAsync(client, "admin", "wrong");

        Assert.Equal("/account/login?error=invalid_credentials", afterSuccess.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task Generated_Password_Is_Logged_Once_And_Works()
    {
        await using var app = CreateApp(settings: []);
        using var client = app.CreateClientWithCookies();

        var generated = Assert.Single(app.Logs, l => l.Message.StartsWith("Generated a password", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Warning, generated.Level);
        var password = GeneratedPassword().Match(generated.Message).Groups["password"].Value;
        using var response = await PortalApplication.SignInLocalAdminAsync(client, "admin", password);

        Assert.Equal("/", response.Headers.Location?.OriginalString);
        await app.Services.GetRequiredService<LocalAdmin>().EnsureAccountAsync(CancellationToken.None);
        Assert.Single(app.Logs, l => l.Message.Contains(password, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Password_From_Configuration_Replaces_A_Different_Stored_One()
    {
        await using var app = CreateApp();
        using var client = app.CreateClientWithCookies();
        var reset = await app.RunAdminCommandAsync("reset-local-admin", "--password", "an-operator-password");
        Assert.Equal(0, reset.ExitCode);
        Assert.Contains("LocalAdmin:Password is set", reset.Error, StringComparison.Ordinal);

        // What a restart does: the configured password wins over the one set by the command.
        await app.Services.GetRequiredService<LocalAdmin>().EnsureAccountAsync(CancellationToken.None);
        using var old = await PortalApplication.SignInLocalAdminAsync(client, "admin", "an-operator-password");
        using var configured = await PortalApplication.SignInLocalAdminAsync(client, "admin", Password);

        Assert.Equal("/account/login?error=invalid_credentials", old.Headers.Location?.OriginalString);
        Assert.Equal("/", configured.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task Is_Disabled_When_Oidc_Is_Configured_And_Enabled_Is_Not_Set()
    {
        await using var app = CreateApp(new()
        {
            ["Oidc:Authority"] = "https://idp.example/application/o/harbor-portal/",
            ["Oidc:ClientId"] = "harbor-portal",
            ["Oidc:ClientSecret"] = "a-client-secret-from-authentik",
            ["LocalAdmin:Password"] = Password,
        });
        using var client = app.CreateClientWithCookies();

        var login = new HtmlParser().ParseDocument(await client.GetStringAsync("/account/login"));
        using var response = await PortalApplication.SignInLocalAdminAsync(client, "admin", Password);

        Assert.Null(login.QuerySelector("[data-testid=local-login]"));
        Assert.Equal("/account/login?error=invalid_credentials", response.Headers.Location?.OriginalString);
        await using var db = app.CreateDbContext();
        Assert.Empty(await db.LocalAdminAccounts.ToListAsync());
    }

    [Fact]
    public async Task Can_Be_Enabled_Beside_Oidc()
    {
        await using var app = CreateApp(new()
        {
            ["Oidc:Authority"] = "https://idp.example/application/o/harbor-portal/",
            ["Oidc:ClientId"] = "harbor-portal",
            ["Oidc:ClientSecret"] = "a-client-secret-from-authentik",
            ["LocalAdmin:Enabled"] = "true",
            ["LocalAdmin:Password"] = Password,
        });
        using var client = app.CreateClientWithCookies();

        var login = new HtmlParser().ParseDocument(await client.GetStringAsync("/account/login"));
        using var response = await PortalApplication.SignInLocalAdminAsync(client, "admin", Password);

        Assert.NotNull(login.QuerySelector("[data-testid=local-login]"));
        Assert.Equal("/", response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task Form_Post_Without_Antiforgery_Token_Is_Rejected()
    {
        await using var app = CreateApp();
        using var client = app.CreateClientWithCookies();
        await PortalApplication.GetAntiforgeryTokenAsync(client, "/account/login");

        using var response = await client.PostAsync("/account/login/local", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["username"] = "admin",
            ["password"] = Password,
        }));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        await using var db = app.CreateDbContext();
        Assert.Empty(await db.AuditEvents.Where(e => e.Action == "signin").ToListAsync());
    }

    [Theory]
    [InlineData("/admin/jobs", "/admin/jobs")]
    [InlineData("https://evil.example/", "/")]
    [InlineData("//evil.example/", "/")]
    [InlineData("/\\evil.example/", "/")]
    public async Task Follows_Only_Local_Return_Urls(string returnUrl, string expected)
    {
        await using var app = CreateApp();
        using var client = app.CreateClientWithCookies();

        using var response = await PortalApplication.SignInLocalAdminAsync(client, "admin", Password, returnUrl);

        Assert.Equal(expected, response.Headers.Location?.OriginalString);
    }

    [GeneratedRegex("administrator '[^']+': (?<password>\\S+) —")]
    private static partial Regex GeneratedPassword();
}
