using System.Net;
using AngleSharp;
using AngleSharp.Dom;
using AngleSharp.Html.Dom;
using AngleSharp.Html.Parser;
using HarborPortal.Features.Audit;
using HarborPortal.Tests.Infrastructure;
using Xunit.Abstractions;

namespace HarborPortal.Tests.Features.Audit;

public sealed class AuditPageTests(ITestOutputHelper output)
{
    private const string Password = "correct-horse-battery-staple";

    [Fact]
    public async Task An_Admin_Sees_Sign_Ins_And_Can_Filter_Them()
    {
        await using var app = new PortalApplication(new Dictionary<string, string?> { ["LocalAdmin:Password"] = Password }, output);
        using var attacker = app.CreateClientWithCookies();
        (await PortalApplication.SignInLocalAdminAsync(attacker, "admin", "guess")).Dispose();
        using var browser = app.CreateClientWithCookies();
        (await PortalApplication.SignInLocalAdminAsync(browser, "admin", Password)).Dispose();

        var all = await GetPageAsync(browser, "/admin/audit");
        var failed = await GetPageAsync(browser, "/admin/audit?action=signin&success=false");
        var tomorrow = DateTime.UtcNow.AddDays(1).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var future = await GetPageAsync(browser, $"/admin/audit?from={tomorrow}");
        var byActor = await GetPageAsync(browser, "/admin/audit?actor=nobody");

        var signIns = Rows(all).Where(r => r.GetAttribute("data-action") == "signin").ToList();
        Assert.Equal(2, signIns.Count);
        Assert.Contains("ok", signIns[0].TextContent, StringComparison.Ordinal);
        Assert.Contains("local", signIns[0].TextContent, StringComparison.Ordinal);
        Assert.Contains("failed", signIns[1].TextContent, StringComparison.Ordinal);
        var onlyFailure = Assert.Single(Rows(failed));
        Assert.Contains("Wrong password", onlyFailure.TextContent, StringComparison.Ordinal);
        Assert.Equal("false", failed.QuerySelector<IHtmlSelectElement>("#audit-success")?.Value);
        Assert.Empty(Rows(future));
        Assert.NotNull(byActor.QuerySelector("[data-testid=audit-empty]"));
        Assert.DoesNotContain(Password, all.ToHtml(), StringComparison.Ordinal);
        Assert.DoesNotContain("guess", all.ToHtml(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pages_Hold_Fifty_Events_Newest_First()
    {
        await using var app = new PortalApplication(new Dictionary<string, string?> { ["LocalAdmin:Password"] = Password }, output);
        using var browser = app.CreateClientWithCookies();
        (await PortalApplication.SignInLocalAdminAsync(browser, "admin", Password)).Dispose();
        await using (var db = app.CreateDbContext())
        {
            db.AuditEvents.AddRange(Enumerable.Range(1, 70).Select(i => new AuditEvent { At = DateTimeOffset.UtcNow, Action = "job.run", Succeeded = true, Target = $"job {i}" }));
            await db.SaveChangesAsync();
        }

        var first = await GetPageAsync(browser, "/admin/audit?action=job.run");
        var olderLink = first.QuerySelector("[data-testid=audit-older]")?.GetAttribute("href");
        var second = await GetPageAsync(browser, olderLink!);

        Assert.Equal(AuditQuery.PageSize, Rows(first).Count);
        Assert.Contains("job 70", Rows(first)[0].TextContent, StringComparison.Ordinal);
        Assert.Contains("action=job.run", olderLink, StringComparison.Ordinal);
        Assert.Equal(20, Rows(second).Count);
        Assert.Contains("job 20", Rows(second)[0].TextContent, StringComparison.Ordinal);
        Assert.Null(second.QuerySelector("[data-testid=audit-older]"));
        Assert.NotNull(second.QuerySelector("[data-testid=audit-newest]"));
    }

    [Fact]
    public async Task Someone_Without_The_Admin_Role_Gets_403()
    {
        await using var app = new PortalApplication(output: output);
        using var browser = app.CreateClientWithCookies();
        await app.SignInAsAsync(browser, "sam", "Security");

        using var response = await browser.GetAsync("/admin/audit");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task Anonymous_Visitors_Are_Sent_To_The_Login_Page()
    {
        await using var app = new PortalApplication(output: output);
        using var browser = app.CreateClientWithCookies();

        using var response = await browser.GetAsync("/admin/audit");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Contains("/account/login", response.Headers.Location?.ToString(), StringComparison.Ordinal);
    }

    private static async Task<IHtmlDocument> GetPageAsync(HttpClient browser, string path)
    {
        using var response = await browser.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return new HtmlParser().ParseDocument(await response.Content.ReadAsStringAsync());
    }

    private static List<AngleSharp.Dom.IElement> Rows(IHtmlDocument page) =>
        page.QuerySelectorAll("[data-testid=audit-table] tbody tr").ToList();
}
