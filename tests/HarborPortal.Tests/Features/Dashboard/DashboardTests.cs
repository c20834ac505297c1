using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AngleSharp.Dom;
using AngleSharp.Html.Dom;
using AngleSharp.Html.Parser;
using HarborPortal.Features.Auth;
using HarborPortal.Features.Dashboard;
using HarborPortal.Features.Findings;
using HarborPortal.Tests.Features.Findings;
using Microsoft.Extensions.DependencyInjection;

namespace HarborPortal.Tests.Features.Dashboard;

public sealed class DashboardTests(DashboardSeed seed) : IClassFixture<DashboardSeed>
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    [Fact]
    public async Task Counts_Open_Findings_By_Severity_And_Tool_With_Unique_Vulnerabilities()
    {
        var figures = await FiguresAsync("vera", PortalRoles.Viewer);

        Assert.Equal(7, figures.OpenFindings);
        Assert.Equal(4, figures.UniqueVulnerabilities);
        Assert.Equal(
            [("Critical", 3L), ("High", 2L), ("Medium", 1L), ("Low", 1L), ("None", 0L), ("Unknown", 0L)],
            figures.OpenBySeverity.Select(f => (f.Label, f.Count)));
        Assert.Equal([(Finding.HarborSource, 6L), (DashboardSeed.Import, 1L)], figures.OpenBySourceTool.Select(f => (f.Label, f.Count)));
    }

    [Fact]
    public async Task The_Trend_Reads_Snapshots_Shows_Missing_Days_As_Gaps_And_Today_Live()
    {
        var figures = await FiguresAsync("vera", PortalRoles.Viewer);

        Assert.Equal(DashboardQuery.TrendDays, figures.Trend.Count);
        Assert.Equal(seed.Today, figures.Trend[^1].Day);
        Assert.Equal(7, figures.Trend[^1].Open);
        Assert.Equal(9, figures.Trend[^2].Open);
        Assert.Null(figures.Trend[^3].Open);
        Assert.Equal(0, figures.Trend[^4].Open);
        Assert.All(figures.Trend.SkipLast(4), p => Assert.Null(p.Open));
    }

    [Fact]
    public async Task New_Versus_Resolved_Per_Week_Counts_First_Seen_And_Resolved_Dates()
    {
        var figures = await FiguresAsync("vera", PortalRoles.Viewer);

        Assert.Equal(DashboardQuery.Weeks, figures.NewVersusResolved.Count);
        Assert.Equal(DayOfWeek.Monday, figures.NewVersusResolved[0].WeekStart.DayOfWeek);
        Assert.True(figures.NewVersusResolved[^1].WeekStart <= seed.Today && seed.Today < figures.NewVersusResolved[^1].WeekStart.AddDays(7));
        foreach (var week in figures.NewVersusResolved)
        {
            bool InWeek(DateTimeOffset? at) => at is { } value && DateOnly.FromDateTime(value.UtcDateTime) is var day && day >= week.WeekStart && day < week.WeekStart.AddDays(7);
            Assert.Equal(seed.Findings.Count(f => InWeek(f.FirstSeenAt)), week.New);
            Assert.Equal(seed.Findings.Count(f => InWeek(f.ResolvedAt)), week.Resolved);
        }

        // Everything first seen in the last 12 weeks, and every resolution but the one 100 days ago, falls in some week.
        Assert.Equal(seed.Findings.Count(f => DateOnly.FromDateTime(f.FirstSeenAt.UtcDateTime) >= figures.NewVersusResolved[0].WeekStart), figures.NewVersusResolved.Sum(w => w.New));
        Assert.Equal(3, figures.NewVersusResolved.Sum(w => w.Resolved));
    }

    [Fact]
    public async Task Top_Tens_Rank_Vulnerabilities_By_Images_And_Images_By_Critical_And_High()
    {
        var figures = await FiguresAsync("vera", PortalRoles.Viewer);

        Assert.Equal(
            [("CVE-2025-0001", 3L, 3L, Severity.Critical), ("CVE-2025-0002", 2L, 2L, Severity.High), ("CVE-2025-0003", 1L, 1L, Severity.High), ("CVE-2025-0004", 1L, 1L, Severity.Low)],
            figures.TopVulnerabilities.Select(v => (v.VulnerabilityId, v.Images, v.Occurrences, v.Severity)));
        Assert.Equal(
            [("team-a/api", "sha256:d1", 1L, 1L), ("team-b/web", "sha256:d3", 1L, 1L), ("team-a/api", "sha256:d2", 1L, 0L)],
            figures.TopImages.Select(i => (i.RepositoryName, i.Digest, i.Critical, i.High)));
    }

    [Fact]
    public async Task Mean_Time_To_Resolve_And_Sla_Breaches_Per_Severity()
    {
        var figures = await FiguresAsync("vera", PortalRoles.Viewer);

        // Critical: 4 days (the one resolved 100 days ago is outside the window); High: 10 and 20 days.
        Assert.Equal(
            [(Severity.Critical, 1L, (double?)4.0), (Severity.High, 2L, 15.0), (Severity.Medium, 0L, null), (Severity.Low, 0L, null)],
            figures.MeanTimeToResolve.Select(r => (r.Severity, r.Resolved, r.MeanDays)));
        // Critical 7 days: first seen 10 and 40 days ago; High 30: 31 days ago; Medium 90: 100 days ago; Low 180: none.
        Assert.Equal(
            [(Severity.Critical, 7, 2L), (Severity.High, 30, 1L), (Severity.Medium, 90, 1L), (Severity.Low, 180, 0L)],
            figures.SlaBreaches.Select(b => (b.Severity, b.AllowedDays, b.Count)));
        Assert.Equal(seed.Today.AddDays(-8), figures.SlaBreaches[0].FirstSeenOnOrBefore);
    }

    [Fact]
    public async Task Coverage_And_Last_Syncs_Per_Connection()
    {
        var figures = await FiguresAsync("vera", PortalRoles.Viewer);

        Assert.Equal(
            [("harbor-prod", 4L, 1L, 1L, 1L), ("harbor-stage", 2L, 1L, 0L, 0L)],
            figures.Coverage.Select(c => (c.ConnectionName, c.Artifacts, c.Unscanned, c.Failed, c.Stale)));
        var prod = figures.LastSyncs.Single(s => s.ConnectionName == "harbor-prod");
        Assert.Equal((seed.RunId, (HarborPortal.Features.Scanning.SyncRunStatus?)HarborPortal.Features.Scanning.SyncRunStatus.Succeeded), (prod.RunId!.Value, prod.Status));
        Assert.Equal($"/admin/connections/{seed.ProdId}/syncs/{seed.RunId}", prod.Link);
        Assert.Null(figures.LastSyncs.Single(s => s.ConnectionName == "harbor-stage").RunId);
    }

    [Fact]
    public async Task Every_Number_On_The_Page_Opens_The_Queue_Showing_That_Many_Rows()
    {
        using var browser = await SignInAsync("sam", [], PortalRoles.Security);
        var page = await FindingsPageTests.GetPageAsync(browser, "/");

        var links = page.QuerySelectorAll("main a[href^='/findings?']").Cast<IHtmlAnchorElement>().ToList();
        Assert.True(links.Count >= 40, $"only {links.Count} links to the queue");
        foreach (var link in links)
        {
            var href = link.GetAttribute("href")!;
            var expected = long.Parse(link.TextContent, NumberStyles.AllowThousands, CultureInfo.InvariantCulture);
            var queue = await FindingsPageTests.GetPageAsync(browser, href);
            if (href.Contains("group=vulnerability", StringComparison.Ordinal))
            {
                Assert.Equal(expected.ToString(CultureInfo.InvariantCulture), queue.QuerySelector("[data-testid=unique-vulnerabilities]")!.TextContent);
            }
            else if (href.Contains("group=image", StringComparison.Ordinal))
            {
                Assert.True(expected == queue.QuerySelectorAll("tr[data-image]").Length, $"{href}: {expected} images on the dashboard");
            }
            else
            {
                Assert.True(expected == FindingsPageTests.Rows(queue).Count, $"{href}: {expected} on the dashboard, {FindingsPageTests.Rows(queue).Count} rows in the queue");
                Assert.Equal(expected.ToString(CultureInfo.InvariantCulture), queue.QuerySelector("[data-testid=occurrences]")!.TextContent);
            }
        }

        // The links carry the filters the figures mean.
        Assert.Equal("/findings?severity=Critical&status=Open&status=InProgress", page.QuerySelector("[data-testid=open-severity-Critical]")!.GetAttribute("href"));
        Assert.Equal($"/findings?severity=Critical&status=Open&status=InProgress&to={seed.Today.AddDays(-8):yyyy-MM-dd}", page.QuerySelector("[data-testid=sla-Critical]")!.GetAttribute("href"));
        Assert.Equal($"/findings?severity=High&status=Resolved&resolved-from={seed.Today.AddDays(-90):yyyy-MM-dd}", page.QuerySelector("[data-testid=mttr-resolved-High]")!.GetAttribute("href"));
        Assert.Equal($"/findings?severity=Critical&severity=High&status=Open&status=InProgress&connection={seed.ProdId}&repository=team-a%2Fapi&digest=sha256%3Ad1",
            page.QuerySelector("[data-testid=top-image-findings]")!.GetAttribute("href"));
    }

    [Fact]
    public async Task Coverage_Numbers_Open_The_Artifact_List_With_That_Many_Artifacts()
    {
        using var browser = await SignInAsync("vera", [], PortalRoles.Viewer);
        var page = await FindingsPageTests.GetPageAsync(browser, "/");

        var links = page.QuerySelectorAll("main a[href^='/artifacts']").Cast<IHtmlAnchorElement>().ToList();
        Assert.Equal(6, links.Count);
        foreach (var link in links)
        {
            var list = await FindingsPageTests.GetPageAsync(browser, link.GetAttribute("href")!);
            Assert.Equal(link.TextContent, list.QuerySelector("[data-testid=artifacts-total]")!.TextContent);
            Assert.Equal(int.Parse(link.TextContent, CultureInfo.InvariantCulture), list.QuerySelectorAll("[data-testid=artifacts-table] tbody tr").Length);
        }

        var stale = await FindingsPageTests.GetPageAsync(browser, $"/artifacts?coverage=stale&connection={seed.ProdId}");
        Assert.Equal("team-a/api@sha256:d2", stale.QuerySelector("[data-testid=artifacts-table] tbody tr")!.GetAttribute("data-artifact"));
    }

    [Fact]
    public async Task A_Developer_Sees_Only_Their_Teams_Projects()
    {
        using var browser = await SignInAsync("dana", [DashboardSeed.TeamAGroup], PortalRoles.Developer);

        var figures = await browser.GetFromJsonAsync<DashboardFigures>("/api/v1/dashboard", Json);
        var page = await FindingsPageTests.GetPageAsync(browser, "/");

        Assert.NotNull(figures);
        Assert.True(figures.Scoped);
        Assert.Equal(3, figures.OpenFindings);
        Assert.Equal(2, figures.UniqueVulnerabilities);
        Assert.Equal([2L, 1L], figures.OpenBySeverity.Take(2).Select(f => f.Count));
        Assert.Equal(5, figures.Trend[^2].Open);
        Assert.Equal(0, figures.Trend[^4].Open);
        Assert.Equal([("team-a/api", "sha256:d1"), ("team-a/api", "sha256:d2")], figures.TopImages.Select(i => (i.RepositoryName, i.Digest)));
        Assert.Equal(["CVE-2025-0001", "CVE-2025-0002"], figures.TopVulnerabilities.Select(v => v.VulnerabilityId));
        Assert.Equal([1L, 0L, 0L, 0L], figures.SlaBreaches.Select(b => b.Count));
        Assert.Equal([(Severity.Critical, 1L), (Severity.High, 1L)], figures.MeanTimeToResolve.Where(r => r.Resolved > 0).Select(r => (r.Severity, r.Resolved)));
        Assert.Equal([("harbor-prod", 2L, 0L, 0L, 1L)], figures.Coverage.Select(c => (c.ConnectionName, c.Artifacts, c.Unscanned, c.Failed, c.Stale)));
        Assert.Equal("3", page.QuerySelector("[data-testid=open-total]")!.TextContent);
        Assert.NotNull(page.QuerySelector("[data-testid=team-scope]"));
        // A developer does not get a link to the admin-only sync run page.
        Assert.Null(page.QuerySelector("[data-testid=last-sync-link]"));
    }

    [Fact]
    public async Task Charts_Are_Server_Drawn_Svg_With_The_Numbers_In_Tables_And_No_Inline_Styles()
    {
        using var browser = await SignInAsync("vera", [], PortalRoles.Viewer);
        var html = await browser.GetStringAsync("/?trend=90");
        var page = new HtmlParser().ParseDocument(html);

        Assert.Equal(6, page.QuerySelectorAll("[data-testid=severity-chart] rect[data-chart-bar]").Length);
        Assert.Equal("3", page.QuerySelector("[data-testid=severity-chart] rect[data-chart-bar=Critical]")!.GetAttribute("data-value"));
        Assert.Equal(2, page.QuerySelectorAll("[data-testid=tool-chart] rect[data-chart-bar]").Length);
        Assert.Equal(2 * DashboardQuery.Weeks, page.QuerySelectorAll("[data-testid=weekly-chart] rect[data-chart-bar]").Length);
        // Three days with a value (yesterday, three days ago, today); the gap splits the line.
        Assert.Equal(3, page.QuerySelectorAll("[data-testid=trend-chart] circle[data-chart-point]").Length);
        Assert.Single(page.QuerySelectorAll("[data-testid=trend-chart] polyline"));
        Assert.Equal(90, page.QuerySelectorAll("[data-testid=trend-table] tbody tr").Length);
        Assert.Equal("no snapshot", page.QuerySelector($"[data-trend-day='{seed.Today.AddDays(-2):yyyy-MM-dd}']")!.TextContent);
        Assert.Equal(30, new HtmlParser().ParseDocument(await browser.GetStringAsync("/")).QuerySelectorAll("[data-testid=trend-table] tbody tr").Length);
        Assert.Empty(page.QuerySelectorAll("[style]"));
        Assert.Empty(page.QuerySelectorAll("script:not([src])"));
        // Harbor's own settings are for Security and Admin (system checks belong to no project).
        Assert.Null(page.QuerySelector("[data-testid=posture-slot]"));
    }

    [Fact]
    public async Task Security_And_Admin_See_A_Posture_Score_Per_Connection()
    {
        using var security = await SignInAsync("sam", [], PortalRoles.Security);
        using var developer = await SignInAsync("dev", [], PortalRoles.Developer);

        var page = new HtmlParser().ParseDocument(await security.GetStringAsync("/"));
        // The seed's two connections, neither checked yet.
        var cards = page.QuerySelectorAll("[data-testid=posture-slot] [data-testid=posture-score-card]");
        Assert.Equal(["harbor-prod", "harbor-stage"], cards.Select(c => c.QuerySelector("h3")!.TextContent.Trim()).Order());
        Assert.All(cards, card => Assert.NotNull(card.QuerySelector("[data-testid=posture-score-none]")));
        Assert.Null(new HtmlParser().ParseDocument(await developer.GetStringAsync("/")).QuerySelector("[data-testid=posture-slot]"));
    }

    [Fact]
    public async Task Anonymous_Callers_Are_Sent_To_Login_And_The_Api_Answers_401()
    {
        using var client = seed.App.CreateClientWithCookies();

        using var page = await client.GetAsync("/");
        using var artifacts = await client.GetAsync("/artifacts?coverage=stale");
        using var api = await client.GetAsync("/api/v1/dashboard");

        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.Contains("/account/login", page.Headers.Location!.ToString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Redirect, artifacts.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
    }

    [Theory]
    [InlineData("/artifacts", "coverage must be one of: unscanned, failed, stale.")]
    [InlineData("/artifacts?coverage=gone", "coverage must be one of: unscanned, failed, stale.")]
    [InlineData("/artifacts?coverage=failed&connection=prod", "'prod' is not a connection id.")]
    [InlineData("/artifacts?coverage=failed&page=0", "'0' is not a page number.")]
    public async Task The_Artifact_List_Refuses_Bad_Input_With_A_Clear_Message(string path, string message)
    {
        using var browser = await SignInAsync("vera", [], PortalRoles.Viewer);

        using var response = await browser.GetAsync(path);
        var page = new HtmlParser().ParseDocument(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(message, page.QuerySelector("[data-testid=artifacts-error]")!.TextContent);
    }

    [Fact]
    public async Task The_Queue_Refuses_A_Resolved_Range_That_Ends_Before_It_Starts()
    {
        using var browser = await SignInAsync("vera", [], PortalRoles.Viewer);

        using var response = await browser.GetAsync("/api/v1/findings?resolved-from=2025-02-01&resolved-to=2025-01-01");
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("The end of the resolved range is before its start.", problem.GetProperty("errors").GetProperty("resolved-to")[0].GetString());
    }

    [Fact]
    public async Task The_Snapshot_Job_Writes_A_Day_Once_From_The_Current_Counts()
    {
        var day = seed.Today.AddDays(-365);
        await using var scope = seed.App.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<HarborPortal.Data.PortalDbContext>();

        Assert.True(await FindingSnapshotJob.WriteAsync(db, day, CancellationToken.None));
        Assert.False(await FindingSnapshotJob.WriteAsync(db, day, CancellationToken.None));

        var rows = db.FindingSnapshots.Where(s => s.Day == day).ToList();
        Assert.Single(rows, r => r.ConnectionId == 0 && r.ProjectName == "");
        Assert.Equal(7, rows.Sum(r => r.Open));
        Assert.Equal(1, rows.Sum(r => r.Suppressed));
        Assert.Equal(4, rows.Sum(r => r.Resolved));
        Assert.Equal(3, rows.Where(r => r.ProjectName == "team-a").Sum(r => r.Open));
    }

    private async Task<DashboardFigures> FiguresAsync(string user, string role)
    {
        using var browser = await SignInAsync(user, [], role);
        return (await browser.GetFromJsonAsync<DashboardFigures>("/api/v1/dashboard", Json))!;
    }

    private async Task<HttpClient> SignInAsync(string user, string[] groups, params string[] roles)
    {
        var browser = seed.App.CreateClientWithCookies();
        await seed.App.SignInWithGroupsAsync(browser, user, groups, roles);
        return browser;
    }
}
