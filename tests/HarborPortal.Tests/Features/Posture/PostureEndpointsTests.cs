using System.Net;
using System.Text.Json;
using HarborPortal.Data;
using HarborPortal.Features.Auth;
using HarborPortal.Features.Findings;
using HarborPortal.Features.Posture;
using HarborPortal.Tests.Features.Auth;
using HarborPortal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;
using static HarborPortal.Tests.Features.Connections.ConnectionPages;

namespace HarborPortal.Tests.Features.Posture;

// The posture API, the connection page's panel and button, the score card, and posture findings in the queue.
public sealed class PostureEndpointsTests(ITestOutputHelper output) : IAsyncLifetime
{
    private PostureHarness _harness = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _harness = await PostureHarness.StartAsync(output);
        _client = _harness.App.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _harness.DisposeAsync();
    }

    [Fact]
    public async Task An_Admin_Token_Runs_The_Checks_And_Reads_Every_Result_With_Its_Score_And_The_Run_Is_Audited()
    {
        var token = await ApiTokenTests.CreateTokenAsync(_harness.App, "automation", PortalRoles.Admin);
        var path = $"/api/v1/connections/{_harness.ConnectionId}/posture";

        using var before = await ApiTokenTests.SendAsync(_client, HttpMethod.Get, path, token);
        using var run = await ApiTokenTests.SendAsync(_client, HttpMethod.Post, path, token);
        using var read = await ApiTokenTests.SendAsync(_client, HttpMethod.Get, path, token);

        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        var empty = JsonDocument.Parse(await before.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(JsonValueKind.Null, empty.GetProperty("assessedAt").ValueKind);
        Assert.Equal(0, empty.GetProperty("results").GetArrayLength());

        Assert.Equal(HttpStatusCode.OK, run.StatusCode);
        var runJson = await run.Content.ReadAsStringAsync();
        Assert.Equal(runJson, await read.Content.ReadAsStringAsync());
        var posture = JsonDocument.Parse(runJson).RootElement;
        var score = posture.GetProperty("score");
        Assert.Equal(7, score.GetProperty("failed").GetInt32());
        Assert.Equal(0, score.GetProperty("notAssessed").GetInt32());
        var passed = score.GetProperty("passed").GetInt32();
        Assert.Equal(passed * 100 / (passed + 7), score.GetProperty("percent").GetInt32());
        var results = posture.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(passed + 7, results.Count);
        var failing = results.Single(r => r.GetProperty("checkId").GetString() == PostureChecks.ScanOnPush.Id && r.GetProperty("scope").GetString() == "no-scan-on-push");
        Assert.Equal("Fail", failing.GetProperty("outcome").GetString());
        Assert.Equal("Medium", failing.GetProperty("severity").GetString());
        Assert.Contains("auto_scan = false", failing.GetProperty("evidence").GetString(), StringComparison.Ordinal);
        Assert.Contains("Automatically scan images on push", failing.GetProperty("howToFix").GetString(), StringComparison.Ordinal);

        await using var db = _harness.App.CreateDbContext();
        var audit = await db.AuditEvents.SingleAsync(e => e.Action == "connection.posture");
        Assert.Equal("automation", audit.Actor);
        Assert.Equal($"connection {_harness.ConnectionId}", audit.Target);
        Assert.Contains("7 failed", audit.Details, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Only_An_Admin_Token_May_Run_The_Checks_And_An_Unknown_Connection_Is_Not_Found()
    {
        var security = await ApiTokenTests.CreateTokenAsync(_harness.App, "triager", PortalRoles.Security);
        var admin = await ApiTokenTests.CreateTokenAsync(_harness.App, "automation", PortalRoles.Admin);
        var path = $"/api/v1/connections/{_harness.ConnectionId}/posture";
        using var cookies = _harness.App.CreateClientWithCookies();
        await _harness.App.SignInAsAsync(cookies, "alice", PortalRoles.Admin);

        using var bySecurity = await ApiTokenTests.SendAsync(_client, HttpMethod.Post, path, security);
        using var readBySecurity = await ApiTokenTests.SendAsync(_client, HttpMethod.Get, path, security);
        using var byCookie = await cookies.PostAsync(path, null);
        using var unknown = await ApiTokenTests.SendAsync(_client, HttpMethod.Post, "/api/v1/connections/999/posture", admin);

        Assert.Equal(HttpStatusCode.Forbidden, bySecurity.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, readBySecurity.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, byCookie.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Empty(await _harness.ResultsAsync());
    }

    [Fact]
    public async Task Check_Posture_Now_On_The_Connection_Page_Lists_Every_Check_With_Its_Outcome_Evidence_And_Fix()
    {
        using var admin = _harness.App.CreateClientWithCookies();
        await _harness.App.SignInAsAsync(admin, "alice", PortalRoles.Admin);
        var path = $"/admin/connections/{_harness.ConnectionId}";
        Assert.NotNull((await GetPageAsync(admin, path)).QuerySelector("[data-testid=posture-panel] [data-testid=posture-never]"));

        using var response = await PostFormAsync(admin, path, "posture-check-form", new Dictionary<string, string>());

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal($"{path}?postureChecked=true", response.Headers.Location!.PathAndQuery);
        Assert.Equal("#posture", response.Headers.Location.Fragment);
        var panel = (await GetPageAsync(admin, $"{path}?postureChecked=true")).QuerySelector("[data-testid=posture-panel]")!;
        Assert.NotNull(panel.QuerySelector("[data-testid=posture-checked]"));
        Assert.Contains("0 not assessed", panel.QuerySelector("[data-testid=posture-score]")!.TextContent, StringComparison.Ordinal);
        Assert.Equal($"/findings?source=Harbor%20posture&connection={_harness.ConnectionId}", panel.QuerySelector("[data-testid=posture-queue-link]")!.GetAttribute("href"));
        var rows = panel.QuerySelectorAll("[data-testid=posture-results] tbody tr");
        Assert.Equal((await _harness.ResultsAsync()).Count, rows.Length);
        var publicRow = rows.Single(r => r.GetAttribute("data-check") == PostureChecks.PublicProject.Id && r.GetAttribute("data-scope") == "public-project");
        Assert.Equal("Fail", publicRow.GetAttribute("data-outcome"));
        Assert.Contains("anyone may pull", publicRow.TextContent, StringComparison.Ordinal);
        Assert.Contains("untick \"Public\"", publicRow.QuerySelector("details")!.TextContent, StringComparison.Ordinal);
        Assert.StartsWith("/findings/", publicRow.QuerySelector("a[href^='/findings/']")!.GetAttribute("href"), StringComparison.Ordinal);
        Assert.Equal("Pass", rows.Single(r => r.GetAttribute("data-check") == PostureChecks.PublicProject.Id && r.GetAttribute("data-scope") == "hardened").GetAttribute("data-outcome"));

        await using var db = _harness.App.CreateDbContext();
        Assert.Equal("alice", (await db.AuditEvents.SingleAsync(e => e.Action == "connection.posture")).Actor);
    }

    [Fact]
    public async Task Posture_Findings_Show_In_The_Queue_And_Their_Page_Shows_Evidence_And_How_To_Fix()
    {
        await _harness.RunAsync();
        var finding = (await _harness.FindingsAsync()).Single(f => f.VulnerabilityId == PostureChecks.TagRetention.Id);
        using var security = _harness.App.CreateClientWithCookies();
        await _harness.App.SignInAsAsync(security, "sam", PortalRoles.Security);

        var queue = await GetPageAsync(security, $"/findings?source=Harbor%20posture&connection={_harness.ConnectionId}");
        var page = await GetPageAsync(security, $"/findings/{finding.Id}");

        var rows = queue.QuerySelectorAll("[data-testid=findings-table] tbody tr");
        Assert.Equal(7, rows.Length);
        var row = rows.Single(r => r.GetAttribute("data-finding-id") == finding.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains("project no-retention", row.QuerySelector("[data-testid=posture-scope]")!.TextContent, StringComparison.Ordinal);
        Assert.Contains("No tag retention policy", row.TextContent, StringComparison.Ordinal);

        Assert.Equal(PostureChecks.TagRetention.Id, page.QuerySelector("[data-testid=posture-check-id]")!.TextContent);
        Assert.Equal("project no-retention", page.QuerySelector("[data-testid=posture-scope]")!.TextContent);
        Assert.Contains("No retention policy (no retention_id)", page.QuerySelector("[data-testid=posture-setting]")!.TextContent, StringComparison.Ordinal);
        Assert.Contains("Tag Retention: Add rule", page.QuerySelector("[data-testid=posture-fix]")!.TextContent, StringComparison.Ordinal);
        Assert.DoesNotContain("How to fix:", page.QuerySelector("[data-testid=posture-setting]")!.TextContent, StringComparison.Ordinal);
        Assert.Null(page.QuerySelector("[data-testid=image]"));
    }

    [Fact]
    public async Task A_Developer_Sees_Only_The_Posture_Findings_Of_Their_Teams_Projects()
    {
        await _harness.RunAsync();
        var findings = await _harness.FindingsAsync();
        await using (var db = _harness.App.CreateDbContext())
        {
            db.Teams.Add(new HarborPortal.Features.Teams.Team { Name = "Payments", AuthentikGroup = "payments", Projects = [new() { ProjectName = "public-project" }] });
            await db.SaveChangesAsync();
        }

        using var developer = _harness.App.CreateClientWithCookies();
        await _harness.App.SignInWithGroupsAsync(developer, "dana", ["payments"], PortalRoles.Developer);
        var queue = await GetPageAsync(developer, "/findings?source=Harbor%20posture");
        using var otherProject = await developer.GetAsync($"/findings/{findings.Single(f => f.ProjectName == "no-retention").Id}");

        Assert.Equal(
            [findings.Single(f => f.ProjectName == "public-project").Id.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            queue.QuerySelectorAll("[data-testid=findings-table] tbody tr").Select(r => r.GetAttribute("data-finding-id")));
        Assert.Equal(HttpStatusCode.NotFound, otherProject.StatusCode);
    }

    [Fact]
    public async Task The_Score_Card_Shows_Passed_Of_Assessed_The_Failing_Checks_By_Severity_And_Links_To_The_Queue()
    {
        _harness.Simulator.Mutate(state => state.GcSchedule = null);
        _harness.Simulator.Faults.FailNext(3, 500, "/api/v2.0/system/scanAll");
        await _harness.RunAsync();
        await using var db = _harness.App.CreateDbContext();
        var score = (await PostureScores.ForConnectionAsync(db, _harness.ConnectionId))!;
        var factory = _harness.App.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>();

        var card = await ComponentRenderer.RenderAsync<PostureScoreCard>(
            new Dictionary<string, object?> { ["ConnectionId"] = _harness.ConnectionId },
            services: s => s.AddSingleton(factory));

        Assert.Equal(8, score.Failed);
        Assert.Equal(1, score.NotAssessed);
        Assert.Equal([(Severity.Low, 2), (Severity.Medium, 4), (Severity.High, 2)], score.FailedBySeverity.OrderBy(p => p.Key).Select(p => (p.Key, p.Value)));
        Assert.Equal($"{score.Percent} %", card.QuerySelector("[data-testid=posture-score-percent]")!.TextContent);
        Assert.Equal($"{score.Passed} of {score.Passed + 8} checks passed · 1 not assessed", card.QuerySelector("[data-testid=posture-score-counts]")!.TextContent);
        Assert.Contains("2", card.QuerySelector("[data-testid=posture-failing-High]")!.TextContent, StringComparison.Ordinal);
        Assert.Equal($"/findings?source=Harbor%20posture&connection={_harness.ConnectionId}", card.QuerySelector("[data-testid=posture-score-link]")!.GetAttribute("href"));
    }
}
