using Microsoft.Extensions.DependencyInjection;
using System.Net;
using Microsoft.EntityFrameworkCore;
using AngleSharp.Html.Parser;
using HarborPortal.Tests.Infrastructure;

namespace HarborPortal.Tests.Web;

public sealed class ShellTests : IAsyncLifetime
{
    private readonly PortalApplication _app = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Healthz_Says_The_Process_Is_Up_Without_Signing_In()
    {
        using var client = _app.CreateClientWithCookies();
        var response = await client.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Readyz_Names_The_Check_That_Fails()
    {
        using var client = _app.CreateClientWithCookies();
        var scheduler = await _app.Services.GetRequiredService<Quartz.ISchedulerFactory>().GetScheduler();
        // Once the host has started it (a moment on a busy machine), the scheduler is put on standby: jobs stop firing.
        for (var i = 0; i < 100 && !(await client.GetAsync("/readyz")).IsSuccessStatusCode; i++)
        {
            await Task.Delay(200);
        }

        await scheduler.Standby();

        var response = await client.GetAsync("/readyz");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        using var body = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("Unhealthy", body.RootElement.GetProperty("status").GetString());
        var checks = body.RootElement.GetProperty("checks");
        Assert.Equal("Healthy", checks.GetProperty("database").GetProperty("status").GetString());
        Assert.Equal("Unhealthy", checks.GetProperty("scheduler").GetProperty("status").GetString());
        Assert.Equal("The job scheduler is not running.", checks.GetProperty("scheduler").GetProperty("description").GetString());
    }

    [Fact]
    public async Task Readyz_Checks_The_Database_And_The_Scheduler()
    {
        using var client = _app.CreateClientWithCookies();
        HttpResponseMessage response;
        var deadline = DateTime.UtcNow.AddSeconds(20);
        do
        {
            // The scheduler starts with the host; give it a moment on a busy machine.
            response = await client.GetAsync("/readyz");
            if (response.StatusCode == HttpStatusCode.OK)
            {
                break;
            }

            await Task.Delay(200);
        }
        while (DateTime.UtcNow < deadline);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        if (_app.PostgresDatabase is null)
        {
            Assert.True(File.Exists(Path.Combine(_app.DataDirectory, "harborportal.db")), "the SQLite file is created in the data directory");
        }
        else
        {
            await using var db = _app.CreateDbContext();
            Assert.Empty(await db.Database.GetPendingMigrationsAsync());
            Assert.False(File.Exists(Path.Combine(_app.DataDirectory, "harborportal.db")), "on PostgreSQL no SQLite file is made");
        }
        using var body = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("Healthy", body.RootElement.GetProperty("status").GetString());
        Assert.Equal("Healthy", body.RootElement.GetProperty("checks").GetProperty("database").GetProperty("status").GetString());
        Assert.Equal("Healthy", body.RootElement.GetProperty("checks").GetProperty("scheduler").GetProperty("status").GetString());
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/admin/jobs")]
    [InlineData("/admin/audit")]
    public async Task Pages_Send_Anonymous_Users_To_The_Login_Page(string path)
    {
        using var client = _app.CreateClientWithCookies();
        var response = await client.GetAsync(path);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/account/login?returnUrl=", response.Headers.Location!.PathAndQuery);
    }

    [Fact]
    public async Task Every_Page_Carries_The_Security_Headers()
    {
        using var client = _app.CreateClientWithCookies();
        var response = await client.GetAsync("/account/login");
        var csp = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("script-src 'self'", csp);
        Assert.DoesNotContain("unsafe-inline", csp);
        Assert.Contains("frame-ancestors 'none'", csp);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("same-origin", response.Headers.GetValues("Referrer-Policy").Single());
    }

    [Fact]
    public async Task The_Login_Page_Has_No_Inline_Script_And_Protects_Its_Form()
    {
        using var client = _app.CreateClientWithCookies();
        var html = await client.GetStringAsync("/account/login");
        var document = new HtmlParser().ParseDocument(html);

        Assert.All(document.Scripts, script => Assert.False(string.IsNullOrEmpty(script.Source), "every script is a file: the CSP forbids inline script"));
        Assert.All(document.QuerySelectorAll("[onclick],[onload],[onsubmit]"), e => Assert.Fail($"inline handler on <{e.LocalName}>"));
        var form = Assert.Single(document.QuerySelectorAll("form[method=post]"));
        Assert.NotNull(form.QuerySelector("input[name=__RequestVerificationToken]"));
    }

    [Theory]
    [InlineData("/account/login?signedOut=1", "You have signed out.")]
    [InlineData("/account/login?error=locked", "Too many failed attempts")]
    [InlineData("/account/login?error=made-up", "Sign-in failed. Please try again.")]
    [InlineData("/account/login?returnUrl=https://evil.example/", "HarborPortal")]
    public async Task The_Login_Page_Explains_Every_Outcome(string path, string text)
    {
        using var client = _app.CreateClientWithCookies();
        var response = await client.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains(text, html);
        Assert.DoesNotContain("evil.example", html);
    }

    [Fact]
    public async Task Front_End_Assets_Are_Served_From_The_Portal_Itself()
    {
        using var client = _app.CreateClientWithCookies();
        foreach (var path in new[] { "/lib/htmx/htmx.min.js", "/lib/bootstrap/css/bootstrap.min.css", "/lib/bootstrap-icons/font/bootstrap-icons.min.css", "/js/site.js", "/css/site.css" })
        {
            var response = await client.GetAsync(path);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path} answered {(int)response.StatusCode}");
        }
    }

    [Fact]
    public async Task An_Unknown_Address_Tells_An_Anonymous_Visitor_Nothing_But_The_Way_To_Log_In()
    {
        using var client = _app.CreateClientWithCookies();
        var response = await client.GetAsync("/no/such/page");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/account/login", response.Headers.Location!.PathAndQuery);
    }

    [Fact]
    public async Task The_404_Page_Explains_Itself()
    {
        using var client = _app.CreateClientWithCookies();
        var response = await client.GetAsync("/error/404");
        Assert.Contains("Page not found", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_Error_Page_Says_What_Happened_But_Not_How()
    {
        using var client = _app.CreateClientWithCookies();
        var response = await client.GetAsync("/error/500");
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("Something went wrong", html);
        Assert.DoesNotContain("Exception", html);
        Assert.DoesNotContain(" at ", html.Replace(" at the", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }
}
