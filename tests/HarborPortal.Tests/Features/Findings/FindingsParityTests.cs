using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using HarborPortal.Features.Auth;
using HarborPortal.Features.Findings;
using HarborPortal.Tests.Features.Auth;
using HarborPortal.Tests.Infrastructure;

namespace HarborPortal.Tests.Features.Findings;

/// <summary>The three ways to read the queue — the page, the API and the export — give the same findings in the same order.</summary>
public sealed class FindingsParityTests(SeededQueue seeded) : IClassFixture<SeededQueue>
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    [Theory]
    [InlineData("")]
    [InlineData("status=Open&sort=last-seen")]
    [InlineData("severity=Critical,High&fix=yes&sort=cvss&dir=asc")]
    [InlineData("source=Harbor&project=team-a&sort=first-seen")]
    [InlineData("package=lib&priority=High,Medium,Low")]
    [InlineData("from=2025-01-10&to=2025-02-20&sort=severity")]
    [InlineData("vulnerability=CVE-2024-0007")]
    public async Task The_Page_The_Api_And_The_Export_Show_The_Same_Findings_In_The_Same_Order(string query)
    {
        using var browser = seeded.App.CreateClientWithCookies();
        await seeded.App.SignInAsAsync(browser, "vera", PortalRoles.Viewer);
        var token = await ApiTokenTests.CreateTokenAsync(seeded.App, "ci-parity", PortalRoles.Viewer);
        using var client = seeded.App.CreateClient();

        // The page, following its "next" links as a user would.
        var onPage = new List<long>();
        string? path = "/findings?" + query;
        while (path is not null)
        {
            var page = await FindingsPageTests.GetPageAsync(browser, path);
            onPage.AddRange(FindingsPageTests.Rows(page).Select(r => long.Parse(r.GetAttribute("data-finding-id")!)));
            path = page.QuerySelector("[data-testid=next-page]")?.GetAttribute("href");
        }

        // The API, seven at a time, passing nextCursor back.
        var fromApi = new List<long>();
        string? after = null;
        do
        {
            using var response = await ApiTokenTests.SendAsync(client, HttpMethod.Get,
                $"/api/v1/findings?{query}&limit=7" + (after is null ? "" : $"&after={Uri.EscapeDataString(after)}"), token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var list = (await response.Content.ReadFromJsonAsync<FindingListResponse>(Json))!;
            fromApi.AddRange(list.Items.Select(f => f.Id));
            after = list.NextCursor;
        }
        while (after is not null);

        // The export, from the page's own toolbar link.
        var firstPage = await FindingsPageTests.GetPageAsync(browser, "/findings?" + query);
        var csvLink = firstPage.QuerySelector("[data-testid=export-csv]")!.GetAttribute("href")!;
        var exported = Csv.Parse(await browser.GetStringAsync(csvLink)).Skip(1).Select(r => long.Parse(r[0])).ToList();
        using var json = await ApiTokenTests.SendAsync(client, HttpMethod.Get, $"{FindingsExportEndpoints.ApiPath}?{query}&format=json", token);
        using var document = JsonDocument.Parse(await json.Content.ReadAsStringAsync());
        var exportedJson = document.RootElement.EnumerateArray().Select(e => e.GetProperty("id").GetInt64()).ToList();

        var filter = FindingQueueTests.Parse(query);
        var expected = FindingSeeds.Sorted(seeded.Findings.Where(FindingQueueTests.Matches(query)), filter.Sort, filter.Ascending).Select(f => f.Id).ToList();
        Assert.NotEmpty(expected);
        Assert.Equal(expected, onPage);
        Assert.Equal(expected, fromApi);
        Assert.Equal(expected, exported);
        Assert.Equal(expected, exportedJson);
    }
}
