using System.Net;
using AngleSharp.Html.Parser;
using HarborPortal.Tests.Features.Auth;
using HarborPortal.Tests.Infrastructure;

namespace HarborPortal.Tests.Features.Jobs;

public sealed class JobsPageTests : IAsyncLifetime
{
    private TestIdentityProvider _idp = null!;
    private PortalApplication _app = null!;

    public async Task InitializeAsync()
    {
        _idp = await TestIdentityProvider.StartAsync();
        _app = new PortalApplication(new Dictionary<string, string?>
        {
            ["Oidc:Authority"] = _idp.Issuer,
            ["Oidc:ClientId"] = TestIdentityProvider.ClientId,
            ["Oidc:ClientSecret"] = TestIdentityProvider.ClientSecret,
            ["Oidc:RequireHttpsMetadata"] = "false",
            ["Oidc:RoleMappings:portal-admins"] = "Admin",
            ["Oidc:RoleMappings:portal-developers"] = "Developer",
        });
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _idp.DisposeAsync();
    }

    [Fact]
    public async Task An_Admin_Sees_Each_Job_With_Its_Trigger_And_Next_Fire_Time()
    {
        using var browser = new PortalBrowser(_app);
        await browser.SignInAsync(_idp);

        var page = new HtmlParser().ParseDocument(await browser.Client.GetStringAsync("/admin/jobs"));

        var row = page.QuerySelector("tr[data-job='system.housekeeping']");
        Assert.NotNull(row);
        Assert.Contains("Every hour", row.TextContent);
        Assert.Matches(@"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", row.TextContent);
        Assert.Contains("running", page.QuerySelector("[data-testid=scheduler-state]")!.TextContent);
    }

    [Fact]
    public async Task Run_Now_Fires_The_Job_And_The_Page_Shows_Its_Last_Run()
    {
        using var browser = new PortalBrowser(_app);
        await browser.SignInAsync(_idp);
        var token = await browser.AntiforgeryTokenAsync("/admin/jobs");

        var response = await browser.Client.PostAsync("/admin/jobs/run", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token,
            ["group"] = "system",
            ["name"] = "housekeeping",
        }));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/admin/jobs?triggered=system.housekeeping", response.Headers.Location!.OriginalString);

        // The job runs on the scheduler's thread: wait for its last run to appear.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        string lastRun;
        do
        {
            var page = new HtmlParser().ParseDocument(await browser.Client.GetStringAsync("/admin/jobs"));
            lastRun = page.QuerySelector("tr[data-job='system.housekeeping'] [data-testid=last-run]")!.TextContent;
            if (!lastRun.Contains("never", StringComparison.Ordinal) || DateTime.UtcNow > deadline)
            {
                break;
            }

            await Task.Delay(250);
        }
        while (true);

        Assert.Contains("Succeeded", lastRun);
        Assert.Contains("1 runs", lastRun);
    }

    [Fact]
    public async Task Run_Now_Without_The_Antiforgery_Token_Is_Refused()
    {
        using var browser = new PortalBrowser(_app);
        await browser.SignInAsync(_idp);

        var response = await browser.Client.PostAsync("/admin/jobs/run", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["group"] = "system",
            ["name"] = "housekeeping",
        }));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task A_Developer_Gets_403_And_The_403_Page()
    {
        using var browser = new PortalBrowser(_app);
        await browser.SignInAsync(_idp, nonce => _idp.IdTokenClaims(nonce, "hashed-dev", "dana", "portal-developers"));

        foreach (var path in new[] { "/admin/jobs", "/admin/connections", "/admin/anything" })
        {
            var response = await browser.Client.GetAsync(path);

            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            var page = new HtmlParser().ParseDocument(await response.Content.ReadAsStringAsync());
            Assert.Contains("Access denied", page.QuerySelector("[data-testid=status-page]")?.TextContent);
        }

        var post = await browser.Client.PostAsync("/admin/jobs/run", new FormUrlEncodedContent(new Dictionary<string, string> { ["group"] = "system", ["name"] = "housekeeping" }));
        Assert.Equal(HttpStatusCode.Forbidden, post.StatusCode);
    }

    [Fact]
    public async Task A_Signed_In_User_Gets_404_And_The_404_Page_For_An_Unknown_Address()
    {
        using var browser = new PortalBrowser(_app);
        await browser.SignInAsync(_idp, nonce => _idp.IdTokenClaims(nonce, "hashed-dev", "dana", "portal-developers"));

        var response = await browser.Client.GetAsync("/no/such/page");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("Page not found", await response.Content.ReadAsStringAsync());
    }
}
