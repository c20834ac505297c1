using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using HarborPortal.Features.Auth;
using HarborPortal.Features.Findings;
using HarborPortal.Tests.Features.Auth;
using HarborPortal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace HarborPortal.Tests.Features.Findings;

public sealed class FindingsApiTests(SeededQueue seeded) : IClassFixture<SeededQueue>
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    [Theory]
    [InlineData("severity=Critical,High&status=Open")]
    [InlineData("package=ssl&sort=first-seen&dir=asc")]
    [InlineData("project=team-c&sort=cvss")]
    public async Task The_Api_Takes_The_Pages_Filters_And_Pages_With_A_Cursor(string query)
    {
        var token = await ApiTokenTests.CreateTokenAsync(seeded.App, "ci-viewer", PortalRoles.Viewer);
        using var client = seeded.App.CreateClient();
        var filter = FindingQueueTests.Parse(query);

        var ids = new List<long>();
        string? after = null;
        do
        {
            var path = $"/api/v1/findings?{query}&limit=4" + (after is null ? "" : $"&after={Uri.EscapeDataString(after)}");
            using var response = await ApiTokenTests.SendAsync(client, HttpMethod.Get, path, token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var page = (await response.Content.ReadFromJsonAsync<FindingListResponse>(Json))!;
            Assert.True(page.Items.Count <= 4);
            ids.AddRange(page.Items.Select(f => f.Id));
            after = page.NextCursor;
        }
        while (after is not null);

        var expected = FindingSeeds.Sorted(seeded.Findings.Where(FindingQueueTests.Matches(query)), filter.Sort, filter.Ascending).Select(f => f.Id);
        Assert.Equal(expected, ids);
    }

    [Fact]
    public async Task One_Finding_Comes_With_Its_Evidence_And_Priority_Explanation()
    {
        var token = await ApiTokenTests.CreateTokenAsync(seeded.App, "ci-viewer", PortalRoles.Viewer);
        using var client = seeded.App.CreateClient();
        var finding = seeded.Findings.First(f => f.Severity == Severity.Critical && f.FixedVersion == "");

        using var response = await ApiTokenTests.SendAsync(client, HttpMethod.Get, $"/api/v1/findings/{finding.Id}", token);
        var details = (await response.Content.ReadFromJsonAsync<FindingDetailsResponse>(Json))!;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(finding.VulnerabilityId, details.Finding.VulnerabilityId);
        Assert.Equal(finding.Description, details.Description);
        Assert.Equal(finding.CvssVector, details.CvssVector);
        Assert.False(details.Finding.FixAvailable);
        Assert.Contains(details.PriorityFactors, f => f.Text == "Critical → High: no fix is available");
        Assert.Equal(["v" + (finding.Tags.Split(',')[0][1..]), "latest"], details.Finding.Tags);
    }

    [Fact]
    public async Task A_Developer_Token_Reads_Only_Their_Teams_Findings_And_Another_Teams_Is_A_404()
    {
        await FindingSeeds.AddTeamAsync(seeded.App, "Platform", "platform-devs", "team-c");
        var token = await ApiTokenTests.CreateTokenAsync(seeded.App, "dev-bot", PortalRoles.Developer);
        await using (var db = seeded.App.CreateDbContext())
        {
            await db.UserAccounts.Where(u => u.UserName == "dev-bot").ExecuteUpdateAsync(s => s.SetProperty(u => u.Groups, "platform-devs"));
        }

        using var client = seeded.App.CreateClient();
        using var list = await ApiTokenTests.SendAsync(client, HttpMethod.Get, "/api/v1/findings?limit=200", token);
        var page = (await list.Content.ReadFromJsonAsync<FindingListResponse>(Json))!;
        var other = seeded.Findings.First(f => f.ProjectName == "team-a");
        using var forbidden = await ApiTokenTests.SendAsync(client, HttpMethod.Get, $"/api/v1/findings/{other.Id}", token);
        using var missing = await ApiTokenTests.SendAsync(client, HttpMethod.Get, "/api/v1/findings/999999", token);

        Assert.Equal(seeded.Findings.Where(f => f.ProjectName == "team-c").Select(f => f.Id).Order(), page.Items.Select(f => f.Id).Order());
        Assert.Equal(HttpStatusCode.NotFound, forbidden.StatusCode);
        // The same answer as for an id that does not exist: nothing tells the finding is there.
        using var forbiddenProblem = JsonDocument.Parse(await forbidden.Content.ReadAsStringAsync());
        using var missingProblem = JsonDocument.Parse(await missing.Content.ReadAsStringAsync());
        Assert.Equal(missingProblem.RootElement.GetProperty("title").GetString(), forbiddenProblem.RootElement.GetProperty("title").GetString());
        Assert.Equal(
            missingProblem.RootElement.GetProperty("detail").GetString()!.Replace("999999", "N", StringComparison.Ordinal),
            forbiddenProblem.RootElement.GetProperty("detail").GetString()!.Replace(other.Id.ToString(), "N", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Without_Credentials_The_Api_Answers_401_And_Without_A_Portal_Role_403()
    {
        using var anonymous = seeded.App.CreateClient();
        using var noCredentials = await anonymous.GetAsync("/api/v1/findings");
        using var badToken = await ApiTokenTests.SendAsync(anonymous, HttpMethod.Get, "/api/v1/findings/1", "hp_notarealtokenatallnotarealtoken");

        // An account whose every role was taken away still has a working token, but no role: 403.
        var token = await ApiTokenTests.CreateTokenAsync(seeded.App, "ex-member", PortalRoles.Viewer);
        await using (var db = seeded.App.CreateDbContext())
        {
            await db.UserAccounts.Where(u => u.UserName == "ex-member").ExecuteUpdateAsync(s => s.SetProperty(u => u.Roles, ""));
        }

        using var roleless = await ApiTokenTests.SendAsync(anonymous, HttpMethod.Get, "/api/v1/findings", token);

        Assert.Equal(HttpStatusCode.Unauthorized, noCredentials.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, badToken.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, roleless.StatusCode);
        Assert.Equal("application/problem+json", roleless.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("severity=Catastrophic", "severity")]
    [InlineData("limit=0", "limit")]
    [InlineData("group=image", "group")]
    [InlineData("after=bogus", "after")]
    public async Task A_Filter_It_Cannot_Read_Is_A_400_Naming_The_Parameter(string query, string parameter)
    {
        var token = await ApiTokenTests.CreateTokenAsync(seeded.App, "ci-viewer", PortalRoles.Viewer);
        using var client = seeded.App.CreateClient();

        using var response = await ApiTokenTests.SendAsync(client, HttpMethod.Get, "/api/v1/findings?" + query, token);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty(parameter, out _));
    }
}
