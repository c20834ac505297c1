using System.IO.Compression;
using AngleSharp;
using AngleSharp.Dom;
using System.Net;
using AngleSharp.Html.Dom;
using AngleSharp.Html.Parser;
using HarborPortal.Features.Findings;
using HarborPortal.Features.Auth;
using HarborPortal.Tests.Infrastructure;
using Xunit.Abstractions;

namespace HarborPortal.Tests.Features.Findings;

public sealed class FindingsPageTests(SeededQueue seeded, ITestOutputHelper output) : IClassFixture<SeededQueue>
{
    [Fact]
    public async Task The_Queue_Filters_By_The_Url_And_Shows_Facet_Counts()
    {
        using var browser = await SignInAsync("vera", PortalRoles.Viewer);

        var page = await GetPageAsync(browser, "/findings?severity=Critical&status=Open");

        var rows = Rows(page);
        var expected = seeded.Findings.Where(f => f.Severity == Severity.Critical && f.Status == FindingStatus.Open).ToList();
        Assert.Equal(expected.Count, rows.Count);
        Assert.All(rows, r => Assert.Equal("Critical", r.QuerySelectorAll("[data-severity]")[1].GetAttribute("data-severity")));
        Assert.True(page.QuerySelector<IHtmlInputElement>("input[name=severity][value=Critical]")!.IsChecked);
        Assert.False(page.QuerySelector<IHtmlInputElement>("input[name=severity][value=High]")!.IsChecked);
        // The High checkbox shows how many High findings the other filters (status=Open) leave.
        Assert.Equal(seeded.Findings.Count(f => f.Severity == Severity.High && f.Status == FindingStatus.Open).ToString(),
            page.QuerySelector("[data-facet=severity] input[value=High]")!.ParentElement!.QuerySelector("[data-count]")!.GetAttribute("data-count"));
        Assert.Equal(expected.Count.ToString(), page.QuerySelector("[data-testid=occurrences]")!.TextContent);
        Assert.Equal(expected.Select(f => f.VulnerabilityId).Distinct().Count().ToString(), page.QuerySelector("[data-testid=unique-vulnerabilities]")!.TextContent);
    }

    [Fact]
    public async Task The_Filters_Are_A_Plain_Get_Form_That_Works_Without_JavaScript()
    {
        using var browser = await SignInAsync("vera", PortalRoles.Viewer);

        var page = await GetPageAsync(browser, "/findings");
        var form = page.QuerySelector<IHtmlFormElement>("[data-testid=findings-filters]")!;

        Assert.Equal("get", form.Method, ignoreCase: true);
        Assert.EndsWith("/findings", form.Action, StringComparison.Ordinal);
        foreach (var name in new[] { "status", "priority", "severity", "source", "connection", "fix", "project", "repository", "vulnerability", "package", "from", "to", "sort", "dir", "group" })
        {
            Assert.True(form.QuerySelector($"[name={name}]") is not null, $"the form has no '{name}' field");
        }

        // Submitting it is a GET of the same page with the fields in the query string.
        var submitted = await GetPageAsync(browser, "/findings?status=Resolved&sort=cvss&dir=asc&package=ssl&repository=&fix=");
        var want = FindingSeeds.Sorted(seeded.Findings.Where(f => f.Status == FindingStatus.Resolved && f.PackageName.Contains("ssl")), FindingSortKey.Cvss, ascending: true);
        Assert.Equal(want.Select(f => f.Id.ToString()), Rows(submitted).Select(r => r.GetAttribute("data-finding-id")));
        Assert.Equal("cvss", submitted.QuerySelector<IHtmlSelectElement>("#view-sort")!.Value);
    }

    [Fact]
    public async Task Htmx_Gets_Only_The_View_And_The_Page_Url_To_Push_Into_History()
    {
        using var browser = await SignInAsync("vera", PortalRoles.Viewer);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/findings/view?severity=High&sort=last-seen");
        request.Headers.Add("HX-Request", "true");

        using var response = await browser.SendAsync(request);
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("/findings?severity=High&sort=last-seen", response.Headers.GetValues("HX-Push-Url").Single());
        Assert.DoesNotContain("<html", html, StringComparison.OrdinalIgnoreCase);
        var view = new HtmlParser().ParseDocument(html);
        Assert.NotNull(view.QuerySelector("#findings-view"));
        Assert.Equal(seeded.Findings.Count(f => f.Severity == Severity.High), Rows(view).Count);
    }

    [Fact]
    public async Task The_Next_Page_Link_Keeps_The_Filters_And_Pages_Without_Gaps()
    {
        using var browser = await SignInAsync("vera", PortalRoles.Viewer);

        var first = await GetPageAsync(browser, "/findings?status=Open");
        var next = first.QuerySelector("[data-testid=next-page]")!;
        var second = await GetPageAsync(browser, next.GetAttribute("href")!);

        var open = seeded.Findings.Where(f => f.Status == FindingStatus.Open).ToList();
        Assert.Equal(FindingQueue.DefaultPageSize, Rows(first).Count);
        Assert.Contains("status=Open", next.GetAttribute("href"), StringComparison.Ordinal);
        Assert.StartsWith("/findings/view?", next.GetAttribute("hx-get"), StringComparison.Ordinal);
        Assert.Equal(open.Count - FindingQueue.DefaultPageSize, Rows(second).Count);
        Assert.Equal(FindingSeeds.Sorted(open, FindingSortKey.Priority, false).Select(f => f.Id.ToString()),
            Rows(first).Concat(Rows(second)).Select(r => r.GetAttribute("data-finding-id")));
        Assert.Null(second.QuerySelector("[data-testid=next-page]"));
        Assert.NotNull(second.QuerySelector("[data-testid=first-page]"));
    }

    [Fact]
    public async Task Many_Valued_Filters_Get_Type_Ahead_Not_A_List_Of_Every_Value()
    {
        using var browser = await SignInAsync("vera", PortalRoles.Viewer);

        var page = await GetPageAsync(browser, "/findings");
        var input = page.QuerySelector("#filter-package")!;
        var suggestions = await GetPageAsync(browser, "/findings/suggest/package?package=ssl");
        using var unknown = await browser.GetAsync("/findings/suggest/digest?digest=sha");

        Assert.Equal("/findings/suggest/package", input.GetAttribute("hx-get"));
        Assert.Equal("suggest-package", input.GetAttribute("list"));
        Assert.Empty(page.QuerySelectorAll("datalist option"));
        Assert.Equal(["libssl3", "openssl"], suggestions.QuerySelectorAll("option").Select(o => o.GetAttribute("value")));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task Grouped_Views_Show_One_Row_Per_Vulnerability_Or_Image()
    {
        using var browser = await SignInAsync("vera", PortalRoles.Viewer);

        var byVulnerability = await GetPageAsync(browser, "/findings?group=vulnerability");
        var byImage = await GetPageAsync(browser, "/findings?group=image&project=team-a");

        var log4 = byVulnerability.QuerySelector("[data-vulnerability='CVE-2024-0004']")!;
        Assert.Equal(10, byVulnerability.QuerySelectorAll("[data-testid=vulnerability-groups] tbody tr").Length);
        Assert.Equal(seeded.Findings.Where(f => f.VulnerabilityId == "CVE-2024-0004").Select(f => f.Digest).Distinct().Count().ToString(), log4.QuerySelector("[data-testid=images]")!.TextContent);
        Assert.Contains("vulnerability=CVE-2024-0004", log4.QuerySelector("a")!.GetAttribute("href"), StringComparison.Ordinal);
        Assert.Equal(seeded.Findings.Where(f => f.ProjectName == "team-a").Select(f => f.Digest).Distinct().Count(), byImage.QuerySelectorAll("[data-testid=image-groups] tbody tr").Length);
    }

    [Fact]
    public async Task A_Filter_That_Cannot_Be_Read_Gets_A_Clear_Error()
    {
        using var browser = await SignInAsync("vera", PortalRoles.Viewer);

        using var response = await browser.GetAsync("/findings?severity=Catastrophic&after=garbage");
        var page = new HtmlParser().ParseDocument(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("'Catastrophic' is not one of", page.QuerySelector("[data-testid=filter-errors]")!.TextContent, StringComparison.Ordinal);
        Assert.Empty(Rows(page));
    }

    [Fact]
    public async Task The_Evidence_Page_Shows_What_The_Scanner_Reported_And_Explains_The_Priority()
    {
        using var browser = await SignInAsync("vera", PortalRoles.Viewer);
        var finding = seeded.Findings.First(f => f.Severity == Severity.Critical && f.FixedVersion == "");
        var inPublicProject = seeded.Findings.First(f => f.ProjectName == "team-b");

        var page = await GetPageAsync(browser, $"/findings/{finding.Id}");

        Assert.Equal(finding.VulnerabilityId, page.QuerySelector("[data-testid=vulnerability-id]")!.TextContent);
        Assert.Equal(finding.Title, page.QuerySelector("[data-testid=title]")!.TextContent);
        Assert.Equal(finding.Description, page.QuerySelector("[data-testid=description]")!.TextContent);
        Assert.Equal(finding.PackageName, page.QuerySelector("[data-testid=package]")!.TextContent);
        Assert.Equal(finding.InstalledVersion, page.QuerySelector("[data-testid=installed-version]")!.TextContent);
        Assert.Contains("no fix is available", page.QuerySelector("[data-testid=fixed-version]")!.TextContent, StringComparison.Ordinal);
        Assert.Contains(finding.CvssScore!.Value.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture), page.QuerySelector("[data-testid=cvss]")!.TextContent, StringComparison.Ordinal);
        Assert.Equal(finding.CvssVector, page.QuerySelector("[data-testid=cvss-vector]")!.TextContent);
        Assert.Contains("Trivy v0.50.1", page.QuerySelector("[data-testid=scanner]")!.TextContent, StringComparison.Ordinal);
        Assert.Equal($"{finding.RepositoryName}@{finding.Digest}", page.QuerySelector("[data-testid=image]")!.TextContent);
        Assert.Contains("latest", page.QuerySelector("[data-testid=tags]")!.TextContent, StringComparison.Ordinal);
        Assert.Contains(finding.ProjectName, page.QuerySelector("[data-testid=project]")!.TextContent, StringComparison.Ordinal);
        Assert.Equal(finding.ConnectionId == 2 ? "harbor-stage" : "harbor-prod", page.QuerySelector("[data-testid=connection]")!.TextContent);
        Assert.Contains("2025-", page.QuerySelector("[data-testid=first-seen]")!.TextContent, StringComparison.Ordinal);
        var links = page.QuerySelectorAll("[data-testid=links] a").Select(a => a.GetAttribute("href")).ToList();
        Assert.Equal($"https://nvd.nist.gov/vuln/detail/{finding.VulnerabilityId}", links[0]);
        Assert.Contains(finding.Links, links);

        var factors = page.QuerySelectorAll("[data-testid=priority-factors] li").Select(li => li.TextContent).ToList();
        Assert.Contains("Critical → High: no fix is available", factors);
        var publicFactors = (await GetPageAsync(browser, $"/findings/{inPublicProject.Id}")).QuerySelectorAll("[data-testid=priority-factors] li").Select(li => li.TextContent);
        Assert.Contains(publicFactors, f => f.Contains("the Harbor project team-b is public", StringComparison.Ordinal));

        var others = page.QuerySelectorAll("[data-testid=other-images] tbody tr").Select(r => r.GetAttribute("data-finding-id")).ToList();
        Assert.Equal(seeded.Findings.Where(f => f.VulnerabilityId == finding.VulnerabilityId && f.Id != finding.Id).Select(f => f.Id.ToString()).Order(), others.Order());
    }

    [Fact]
    public async Task A_Developer_Sees_Only_Their_Teams_Findings_On_The_Page_The_Evidence_And_The_Suggestions()
    {
        await FindingSeeds.AddTeamAsync(seeded.App, "Payments", "payments-devs", "team-a");
        using var developer = seeded.App.CreateClientWithCookies();
        await seeded.App.SignInWithGroupsAsync(developer, "dana", ["payments-devs"], PortalRoles.Developer);
        using var outsider = seeded.App.CreateClientWithCookies();
        await seeded.App.SignInWithGroupsAsync(outsider, "olaf", ["some-other-group"], PortalRoles.Developer);
        var otherTeams = seeded.Findings.First(f => f.ProjectName == "team-b");
        var own = seeded.Findings.First(f => f.ProjectName == "team-a");

        var page = await GetPageAsync(developer, "/findings?project=team-b");
        var all = await GetPageAsync(developer, "/findings?group=vulnerability");
        using var evidence = await developer.GetAsync($"/findings/{otherTeams.Id}");
        var ownEvidence = await GetPageAsync(developer, $"/findings/{own.Id}");
        var suggestions = await GetPageAsync(developer, "/findings/suggest/repository?repository=app");
        var nothing = await GetPageAsync(outsider, "/findings");

        Assert.Empty(Rows(page));
        Assert.NotNull(page.QuerySelector("[data-testid=team-scope]"));
        Assert.Equal(seeded.Findings.Count(f => f.ProjectName == "team-a").ToString(), all.QuerySelector("[data-testid=occurrences]")!.TextContent);
        Assert.Equal(HttpStatusCode.NotFound, evidence.StatusCode);
        Assert.DoesNotContain(otherTeams.RepositoryName, await evidence.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.All(ownEvidence.QuerySelectorAll("[data-testid=other-images] a"), a => Assert.StartsWith("team-a/", a.TextContent, StringComparison.Ordinal));
        Assert.Equal(["team-a/app0", "team-a/app1"], suggestions.QuerySelectorAll("option").Select(o => o.GetAttribute("value")));
        Assert.Empty(Rows(nothing));
        Assert.Equal("0", nothing.QuerySelector("[data-testid=occurrences]")!.TextContent);
    }

    [Fact]
    public async Task Visitors_Who_Are_Not_Signed_In_Are_Sent_To_The_Login_Page()
    {
        using var browser = seeded.App.CreateClientWithCookies();

        foreach (var path in new[] { "/findings", $"/findings/{seeded.Findings[0].Id}", "/findings/view", "/findings/suggest/package?package=ssl" })
        {
            using var response = await browser.GetAsync(path);
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            Assert.StartsWith("/account/login", response.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task The_Findings_Page_Weighs_Less_Than_150_KB_Compressed()
    {
        using var browser = await SignInAsync("vera", PortalRoles.Viewer);

        var html = await browser.GetStringAsync("/findings");
        var page = new HtmlParser().ParseDocument(html);
        var assets = page.QuerySelectorAll("link[rel=stylesheet]").Select(l => l.GetAttribute("href")!)
            .Concat(page.QuerySelectorAll("script[src]").Select(s => s.GetAttribute("src")!))
            .ToList();
        var sizes = new List<(string Name, long Bytes)> { ("/findings (50 rows)", Gzipped(html)) };
        foreach (var asset in assets)
        {
            sizes.Add((asset, Gzipped(await browser.GetStringAsync("/" + asset.TrimStart('/')))));
        }

        foreach (var (name, bytes) in sizes)
        {
            output.WriteLine($"{name}: {bytes / 1024.0:N1} KB gzipped");
        }

        Assert.Equal(FindingQueue.DefaultPageSize, Rows(page).Count);
        Assert.True(sizes.Sum(s => s.Bytes) <= 150 * 1024, $"{sizes.Sum(s => s.Bytes) / 1024.0:N1} KB");
    }

    private async Task<HttpClient> SignInAsync(string user, params string[] roles)
    {
        var browser = seeded.App.CreateClientWithCookies();
        await seeded.App.SignInAsAsync(browser, user, roles);
        return browser;
    }

    internal static async Task<IHtmlDocument> GetPageAsync(HttpClient browser, string path)
    {
        using var response = await browser.GetAsync(path);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path} answered {response.StatusCode}");
        return new HtmlParser().ParseDocument(await response.Content.ReadAsStringAsync());
    }

    internal static List<AngleSharp.Dom.IElement> Rows(AngleSharp.Dom.IParentNode page) =>
        [.. page.QuerySelectorAll("[data-testid=findings-table] tbody tr")];

    private static long Gzipped(string text)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(System.Text.Encoding.UTF8.GetBytes(text));
        }

        return buffer.Length;
    }
}
