using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using HarborPortal.Features.Auth;
using HarborPortal.Features.Findings;
using HarborPortal.Features.Triage;
using HarborPortal.Tests.Features.Auth;
using HarborPortal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace HarborPortal.Tests.Features.Findings;

// Triage through the API and the page's forms on seeded findings (a fresh database per test: every test writes).
public sealed class TriageApiTests : IAsyncLifetime
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly PortalApplication _app = new();
    private List<Finding> _findings = [];

    public async Task InitializeAsync()
    {
        _app.CreateClient().Dispose();
        _findings = await FindingSeeds.SeedAsync(_app);
        await FindingSeeds.AddTeamAsync(_app, "Payments", "payments-devs", "team-a");
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Bulk_Triage_Of_All_Matching_Changes_Exactly_Those_Rows_And_Audits_Once()
    {
        const string filter = "severity=Critical,High&project=team-b";
        var token = await ApiTokenTests.CreateTokenAsync(_app, "sam", PortalRoles.Security);
        using var client = _app.CreateClient();
        var matching = _findings.Where(FindingQueueTests.Matches(filter)).Select(f => f.Id).Order().ToList();
        var expected = _findings.Where(f => matching.Contains(f.Id) && f.Status != FindingStatus.Resolved).Select(f => f.Id).Order().ToList();
        Assert.NotEmpty(expected);

        using var response = await ApiTokenTests.SendAsync(client, HttpMethod.Post, "/api/v1/findings/triage", token,
            new { filter, status = "InProgress", justification = "Sprint 12" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = (await response.Content.ReadFromJsonAsync<TriageResultResponse>(Json))!;
        Assert.Equal(expected.Count, result.Selected);
        Assert.Equal(expected.Count, result.Changed);
        await using var db = _app.CreateDbContext();
        var after = await db.Findings.AsNoTracking().ToListAsync();
        Assert.Equal(expected, after.Where(f => f.Status == FindingStatus.InProgress).Select(f => f.Id).Order());
        Assert.All(after.Where(f => !expected.Contains(f.Id)), f => Assert.Equal(_findings.Single(s => s.Id == f.Id).Status, f.Status));
        var events = await db.FindingEvents.AsNoTracking().Where(e => e.Kind == TriageEventKind.StatusChanged).ToListAsync();
        Assert.Equal(expected, events.Select(e => e.FindingId).Order());
        Assert.All(events, e => Assert.Equal("sam", e.Actor));
        var audit = Assert.Single(await db.AuditEvents.AsNoTracking().Where(a => a.Action == "findings.triage").ToListAsync());
        Assert.Equal("sam", audit.Actor);
        Assert.Contains($"selected: {expected.Count}", audit.Details, StringComparison.Ordinal);
        Assert.Contains($"filter: {filter}", audit.Details, StringComparison.Ordinal);
        Assert.Contains("why: Sprint 12", audit.Details, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_Queues_Bulk_Form_Applies_To_All_Matching_With_Antiforgery_And_The_Assignee_Filter_Finds_Them()
    {
        using var browser = _app.CreateClientWithCookies();
        await _app.SignInAsAsync(browser, "sam", PortalRoles.Security);
        const string filter = "vulnerability=CVE-2024-0003&status=Open";
        var antiforgery = await PortalApplication.GetAntiforgeryTokenAsync(browser, "/findings?" + filter);
        var expected = _findings.Where(FindingQueueTests.Matches(filter)).Select(f => f.Id).Order().ToList();
        Assert.NotEmpty(expected);

        using var posted = await browser.PostAsync("/findings/bulk", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = antiforgery,
            ["filter"] = "?" + filter,
            ["all"] = "1",
            ["action"] = "assign",
            ["assignee"] = "sam",
        }));

        Assert.Equal(HttpStatusCode.Redirect, posted.StatusCode);
        Assert.Contains("bulkDone=", posted.Headers.Location!.OriginalString, StringComparison.Ordinal);
        var mine = await browser.GetStringAsync("/findings?assignee=me");
        var document = new AngleSharp.Html.Parser.HtmlParser().ParseDocument(mine);
        Assert.Equal(expected, document.QuerySelectorAll("tr[data-finding-id]").Select(r => long.Parse(r.GetAttribute("data-finding-id")!)).Order());
        await using var db = _app.CreateDbContext();
        Assert.Single(await db.AuditEvents.Where(a => a.Action == "findings.assign").ToListAsync());

        // Without the antiforgery token nothing is applied.
        using var forged = await browser.PostAsync("/findings/bulk", new FormUrlEncodedContent(new Dictionary<string, string> { ["all"] = "1", ["action"] = "assign", ["assignee"] = "" }));
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Equal(expected.Count, await db.Findings.CountAsync(f => f.AssignedTo == "sam"));
    }

    [Theory]
    [InlineData("{\"status\":\"RiskAccepted\",\"expiresOn\":\"2099-01-01\"}", "justification")]
    [InlineData("{\"status\":\"RiskAccepted\",\"justification\":\"WAF\"}", "expiresOn")]
    [InlineData("{\"status\":\"RiskAccepted\",\"justification\":\"WAF\",\"expiresOn\":\"2020-01-01\"}", "expiresOn")]
    [InlineData("{\"status\":\"FalsePositive\",\"justification\":\"  \"}", "justification")]
    [InlineData("{\"status\":\"Resolved\",\"justification\":\"done\"}", "status")]
    public async Task A_Triage_Missing_Its_Justification_Or_Expiry_Is_Refused_With_A_Clear_Error_And_Changes_Nothing(string body, string field)
    {
        var token = await ApiTokenTests.CreateTokenAsync(_app, "sam", PortalRoles.Security);
        using var client = _app.CreateClient();
        var finding = _findings.First(f => f.Status == FindingStatus.Open);

        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/findings/{finding.Id}/triage")
        {
            Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new("Bearer", token);
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty(field, out var messages), await response.Content.ReadAsStringAsync());
        Assert.NotEmpty(messages[0].GetString()!);
        await using var db = _app.CreateDbContext();
        Assert.Equal(FindingStatus.Open, (await db.Findings.SingleAsync(f => f.Id == finding.Id)).Status);
        Assert.Empty(await db.TriageDecisions.ToListAsync());
        Assert.Equal(0, await db.FindingEvents.CountAsync());
    }

    [Fact]
    public async Task Viewers_And_Developers_Cannot_Triage_Through_The_Api_Or_The_Page()
    {
        var finding = _findings.First(f => f.ProjectName == "team-a" && f.Status == FindingStatus.Open);
        using var client = _app.CreateClient();
        foreach (var role in new[] { PortalRoles.Viewer, PortalRoles.Developer })
        {
            var token = await ApiTokenTests.CreateTokenAsync(_app, $"{role.ToLowerInvariant()}-bot", role);
            using var triage = await ApiTokenTests.SendAsync(client, HttpMethod.Post, $"/api/v1/findings/{finding.Id}/triage", token,
                new { status = "FalsePositive", justification = "no" });
            using var bulk = await ApiTokenTests.SendAsync(client, HttpMethod.Post, "/api/v1/findings/triage", token,
                new { filter = "", status = "InProgress" });
            using var assign = await ApiTokenTests.SendAsync(client, HttpMethod.Post, $"/api/v1/findings/{finding.Id}/assign", token, new { assignee = (string?)null });
            Assert.Equal(HttpStatusCode.Forbidden, triage.StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, bulk.StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, assign.StatusCode);

            using var browser = _app.CreateClientWithCookies();
            await _app.SignInWithGroupsAsync(browser, $"{role.ToLowerInvariant()}-person", ["payments-devs"], role);
            var page = await browser.GetStringAsync($"/findings/{finding.Id}");
            Assert.DoesNotContain("data-testid=\"triage-form\"", page, StringComparison.Ordinal);
            var antiforgery = await PortalApplication.GetAntiforgeryTokenAsync(browser, $"/findings/{finding.Id}");
            using var form = await browser.PostAsync($"/findings/{finding.Id}/triage", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["__RequestVerificationToken"] = antiforgery,
                ["status"] = "FalsePositive",
                ["justification"] = "no",
            }));
            Assert.Equal(HttpStatusCode.Forbidden, form.StatusCode);
        }

        await using var db = _app.CreateDbContext();
        Assert.Equal(FindingStatus.Open, (await db.Findings.SingleAsync(f => f.Id == finding.Id)).Status);
        Assert.Equal(0, await db.FindingEvents.CountAsync());
    }

    [Fact]
    public async Task A_Developer_Comments_On_Their_Teams_Findings_Only_And_Another_Teams_Finding_Is_A_404()
    {
        var own = _findings.First(f => f.ProjectName == "team-a");
        var other = _findings.First(f => f.ProjectName == "team-b");
        var token = await ApiTokenTests.CreateTokenAsync(_app, "dev-bot", PortalRoles.Developer);
        await using (var db = _app.CreateDbContext())
        {
            await db.UserAccounts.Where(u => u.UserName == "dev-bot").ExecuteUpdateAsync(s => s.SetProperty(u => u.Groups, "payments-devs"));
        }

        using var client = _app.CreateClient();
        using var commented = await ApiTokenTests.SendAsync(client, HttpMethod.Post, $"/api/v1/findings/{own.Id}/comments", token, new { text = "<b>Fixed</b> in 1.9" });
        using var refused = await ApiTokenTests.SendAsync(client, HttpMethod.Post, $"/api/v1/findings/{other.Id}/comments", token, new { text = "hello" });
        using var hidden = await ApiTokenTests.SendAsync(client, HttpMethod.Get, $"/api/v1/findings/{other.Id}/timeline", token);
        using var missing = await ApiTokenTests.SendAsync(client, HttpMethod.Get, "/api/v1/findings/999999/timeline", token);
        using var timeline = await ApiTokenTests.SendAsync(client, HttpMethod.Get, $"/api/v1/findings/{own.Id}/timeline", token);

        Assert.Equal(HttpStatusCode.Created, commented.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
        using (var missingProblem = JsonDocument.Parse(await missing.Content.ReadAsStringAsync()))
        using (var hiddenProblem = JsonDocument.Parse(await hidden.Content.ReadAsStringAsync()))
        {
            Assert.Equal(missingProblem.RootElement.GetProperty("title").GetString(), hiddenProblem.RootElement.GetProperty("title").GetString());
            Assert.Equal(
                missingProblem.RootElement.GetProperty("detail").GetString()!.Replace("999999", "N", StringComparison.Ordinal),
                hiddenProblem.RootElement.GetProperty("detail").GetString()!.Replace(other.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), "N", StringComparison.Ordinal));
        }
        var entries = (await timeline.Content.ReadFromJsonAsync<TimelineResponse>(Json))!.Entries;
        var comment = Assert.Single(entries, e => e.Kind == "Comment");
        Assert.Equal("<b>Fixed</b> in 1.9", comment.Text);
        Assert.Equal("dev-bot", comment.Actor);

        // On the page the comment is text, never markup; a viewer has no comment form and is refused.
        using var browser = _app.CreateClientWithCookies();
        await _app.SignInWithGroupsAsync(browser, "dana", ["payments-devs"], PortalRoles.Developer);
        var page = await browser.GetStringAsync($"/findings/{own.Id}");
        Assert.Contains("&lt;b&gt;Fixed&lt;/b&gt; in 1.9", page, StringComparison.Ordinal);
        var antiforgery = await PortalApplication.GetAntiforgeryTokenAsync(browser, $"/findings/{own.Id}");
        using var otherForm = await browser.PostAsync($"/findings/{other.Id}/comments", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = antiforgery,
            ["text"] = "sneaky",
        }));
        Assert.Equal(HttpStatusCode.NotFound, otherForm.StatusCode);

        var viewerToken = await ApiTokenTests.CreateTokenAsync(_app, "viewer-bot", PortalRoles.Viewer);
        using var viewer = await ApiTokenTests.SendAsync(client, HttpMethod.Post, $"/api/v1/findings/{own.Id}/comments", viewerToken, new { text = "hi" });
        Assert.Equal(HttpStatusCode.Forbidden, viewer.StatusCode);

        await using var check = _app.CreateDbContext();
        Assert.Equal([own.Id], await check.FindingComments.Select(c => c.FindingId).ToListAsync());
    }

    [Fact]
    public async Task Accepting_A_Risk_On_The_Page_Shows_Where_The_Status_Came_From_And_The_Priority_Drops()
    {
        // Priority by today's rules (the seeds' images are old by now): one the acceptance visibly moves to None.
        var finding = _findings.First(f => f.ProjectName == "team-a" && f.Status == FindingStatus.Open
            && PriorityRules.Evaluate(f, PriorityContext.For(f, DateTimeOffset.UtcNow)).Priority > Severity.None);
        using var browser = _app.CreateClientWithCookies();
        await _app.SignInAsAsync(browser, "alice", PortalRoles.Security);
        var antiforgery = await PortalApplication.GetAntiforgeryTokenAsync(browser, $"/findings/{finding.Id}");
        var until = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(60);

        using var posted = await browser.PostAsync($"/findings/{finding.Id}/triage", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = antiforgery,
            ["status"] = "RiskAccepted",
            ["scope"] = "Repository",
            ["expiresOn"] = until.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
            ["justification"] = "Not exposed outside the cluster",
        }));

        Assert.Equal(HttpStatusCode.Redirect, posted.StatusCode);
        var page = new AngleSharp.Html.Parser.HtmlParser().ParseDocument(await browser.GetStringAsync($"/findings/{finding.Id}"));
        Assert.Equal("Risk accepted", page.QuerySelector("[data-testid=status]")!.TextContent.Trim());
        Assert.Equal(
            $"Risk accepted by alice on {DateTime.UtcNow:yyyy-MM-dd} for {finding.RepositoryName} (all images): Not exposed outside the cluster, until {until:yyyy-MM-dd}",
            page.QuerySelector("[data-testid=triage-source]")!.TextContent.Trim());
        var factors = page.QuerySelector("[data-testid=priority-factors]")!.TextContent;
        Assert.True(factors.Contains($"→ None: the risk is accepted until {until:yyyy-MM-dd}", StringComparison.Ordinal), factors + " | " + page.QuerySelector("[data-testid=priority]")!.TextContent);
        Assert.Contains(page.QuerySelectorAll("[data-testid=timeline] li"), li => li.GetAttribute("data-kind") == "Decision");
        await using var db = _app.CreateDbContext();
        var stored = await db.Findings.SingleAsync(f => f.Id == finding.Id);
        Assert.Equal(Severity.None, stored.Priority);
        Assert.Single(await db.AuditEvents.Where(a => a.Action == "findings.triage" && a.Actor == "alice").ToListAsync());
    }
}
