using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AngleSharp.Html.Parser;
using HarborPortal.Features.Auth;
using HarborPortal.Features.Findings;
using HarborPortal.Features.Imports;
using HarborPortal.Tests.Features.Auth;
using HarborPortal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Xunit.Abstractions;
using static HarborPortal.Tests.Features.Imports.ImportSupport;

namespace HarborPortal.Tests.Features.Imports;

public sealed class ImportTests(ITestOutputHelper output)
{
    private const string TrivySource = "Trivy (import)";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } };

    [Fact]
    public async Task A_Trivy_Report_Uploaded_Through_The_Api_Becomes_Findings_Of_Its_Own_Source_Tool()
    {
        await using var app = new PortalApplication(Settings, output);
        var connectionId = await AddConnectionAsync(app);
        var token = await ApiTokenTests.CreateTokenAsync(app, "ci-security", PortalRoles.Security);
        using var client = app.CreateClient();

        using var response = await ApiImportAsync(client, token, Form(Fixture("trivy-payments-api.json"), "trivy-payments-api.json", $"{connectionId}", Image));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = (await response.Content.ReadFromJsonAsync<ImportResponse>(Json))!;
        Assert.Equal([TrivySource], result.SourceTools);
        Assert.Equal(new ImportResponse("trivy-payments-api.json", ReportFormat.Trivy, connectionId, Image, result.SourceTools, 7, 0, 0, 0, 0), result);

        await using var db = app.CreateDbContext();
        var findings = await db.Findings.AsNoTracking().ToListAsync();
        Assert.Equal(7, findings.Count);
        Assert.All(findings, f =>
        {
            Assert.Equal((TrivySource, FindingStatus.Open, connectionId, "team-a", "team-a/payments-api"), (f.SourceTool, f.Status, f.ConnectionId, f.ProjectName, f.RepositoryName));
            Assert.Equal((ImportMappingTests.Digest, "1.4.2"), (f.Digest, f.Tags));
        });
        Assert.Equal(
            [("CVE-2011-3374", Severity.Low), ("CVE-2023-45288", Severity.High), ("CVE-2023-45853", Severity.Critical), ("CVE-2023-5678", Severity.Medium),
             ("CVE-2024-0727", Severity.Medium), ("CVE-2024-35195", Severity.Medium), ("GHSA-m425-mq94-257g", Severity.High)],
            findings.Select(f => (f.VulnerabilityId, f.Severity)).Order().ToList());

        var events = await db.FindingEvents.AsNoTracking().ToListAsync();
        Assert.Equal(7, events.Count);
        Assert.All(events, e => Assert.Equal((FindingEventKind.Opened, "ci-security", "imported from trivy-payments-api.json"), (e.Kind, e.Actor, e.Reason)));

        var audit = Assert.Single(await db.AuditEvents.AsNoTracking().Where(a => a.Action == ReportImporter.AuditAction).ToListAsync());
        Assert.True(audit.Succeeded);
        Assert.Equal(("ci-security", Image), (audit.Actor, audit.Target));
        Assert.Equal("trivy-payments-api.json (Trivy, Trivy (import)): 7 new, 0 updated, 0 resolved, 0 reopened, 0 unchanged", audit.Details);
    }

    [Fact]
    public async Task A_Reimport_Deduplicates_A_Later_Import_Resolves_What_It_No_Longer_Has_And_The_Next_Reopens_It()
    {
        await using var app = new PortalApplication(Settings, output);
        var connection = $"{await AddConnectionAsync(app)}";
        var token = await ApiTokenTests.CreateTokenAsync(app, "ci-security", PortalRoles.Security);
        using var client = app.CreateClient();
        var original = Fixture("trivy-payments-api.json");
        var later = Trivy(results =>
        {
            RemoveVulnerability(results, "CVE-2023-45853");
            RemoveVulnerability(results, "CVE-2024-35195");
            // apt gets a fix: new evidence for a finding that stays.
            results[0]!["Vulnerabilities"]![2]!["FixedVersion"] = "2.6.2";
        });

        var first = await ImportAsync(client, token, original, connection);
        var again = await ImportAsync(client, token, original, connection);
        await using (var db = app.CreateDbContext())
        {
            Assert.Equal(7, await db.Findings.CountAsync());
        }

        var resolving = await ImportAsync(client, token, later, connection);
        var reopening = await ImportAsync(client, token, original, connection);

        Assert.Equal((7, 0, 0, 0, 0), Counts(first));
        Assert.Equal((0, 0, 0, 0, 7), Counts(again));
        Assert.Equal((0, 1, 2, 0, 4), Counts(resolving));
        Assert.Equal((0, 1, 0, 2, 4), Counts(reopening));

        await using var check = app.CreateDbContext();
        var findings = await check.Findings.AsNoTracking().ToListAsync();
        Assert.Equal(7, findings.Count);
        Assert.All(findings, f => Assert.Equal(FindingStatus.Open, f.Status));
        var zlib = findings.Single(f => f.VulnerabilityId == "CVE-2023-45853");
        Assert.Equal(1, zlib.ReopenCount);
        Assert.Null(zlib.ResolvedReason);
        Assert.Equal("", findings.Single(f => f.PackageName == "apt").FixedVersion);

        var timeline = await check.FindingEvents.AsNoTracking().Where(e => e.FindingId == zlib.Id).OrderBy(e => e.Id).ToListAsync();
        Assert.Equal(
            [(FindingEventKind.Opened, "imported from trivy-payments-api.json"), (FindingEventKind.Resolved, ImportedFindings.NoLongerReported), (FindingEventKind.Reopened, ImportedFindings.ReportedAgain)],
            timeline.Select(e => (e.Kind, e.Reason!)).ToList());
        Assert.All(timeline, e => Assert.Equal("ci-security", e.Actor));
        Assert.Equal(4, await check.AuditEvents.CountAsync(a => a.Action == ReportImporter.AuditAction && a.Succeeded));
    }

    [Fact]
    public async Task Each_Tool_Keeps_Its_Own_Findings_Of_An_Image_Apart_From_Harbors()
    {
        await using var app = new PortalApplication(Settings, output);
        var connectionId = await AddConnectionAsync(app);
        var token = await ApiTokenTests.CreateTokenAsync(app, "ci-security", PortalRoles.Security);
        using var client = app.CreateClient();
        await using (var db = app.CreateDbContext())
        {
            // Harbor's own report of the same vulnerability in the same image.
            var harbor = Findings.FindingSeeds.Create(0, "team-a", "CVE-2024-0727");
            harbor.ConnectionId = connectionId;
            harbor.RepositoryName = "team-a/payments-api";
            harbor.Digest = ImportMappingTests.Digest;
            harbor.PackageName = "libssl3";
            harbor.InstalledVersion = "3.0.11-1~deb12u2";
            harbor.Identity = Finding.IdentityOf(connectionId, harbor.RepositoryName, harbor.Digest, harbor.VulnerabilityId, harbor.PackageName, harbor.InstalledVersion);
            harbor.Status = FindingStatus.Open;
            harbor.ResolvedReason = null;
            harbor.ResolvedAt = null;
            db.Findings.Add(harbor);
            await db.SaveChangesAsync();
        }

        await ImportAsync(client, token, Fixture("trivy-payments-api.json"), $"{connectionId}");
        var sarif = await ImportAsync(client, token, Fixture("trivy-payments-api.sarif"), $"{connectionId}");
        var grype = await ImportAsync(client, token, Fixture("grype-payments-api.sarif"), $"{connectionId}");
        // An empty Trivy report of the image resolves Trivy's findings only.
        var empty = await ImportAsync(client, token, Trivy(results => results.Clear()), $"{connectionId}");

        Assert.Equal((4, 0, 0, 0, 0), Counts(sarif));
        Assert.Equal((3, 0, 0, 0, 0), Counts(grype));
        Assert.Equal((0, 0, 7, 0, 0), Counts(empty));
        await using var check = app.CreateDbContext();
        var bySource = await check.Findings.AsNoTracking().GroupBy(f => new { f.SourceTool, f.Status }).Select(g => new { g.Key.SourceTool, g.Key.Status, Count = g.Count() }).ToListAsync();
        Assert.Equal(
            [("Harbor", FindingStatus.Open, 1), ("SARIF: Grype", FindingStatus.Open, 3), ("SARIF: Trivy", FindingStatus.Open, 4), (TrivySource, FindingStatus.Resolved, 7)],
            bySource.Select(s => (s.SourceTool, s.Status, s.Count)).Order().ToList());
        Assert.Equal(3, await check.Findings.CountAsync(f => f.VulnerabilityId == "CVE-2024-0727" && f.PackageName == "libssl3"));
    }

    [Fact]
    public async Task The_Queue_Filters_Counts_And_Searches_Imported_Findings()
    {
        await using var app = new PortalApplication(Settings, output);
        var connectionId = $"{await AddConnectionAsync(app)}";
        var token = await ApiTokenTests.CreateTokenAsync(app, "ci-security", PortalRoles.Security);
        using var api = app.CreateClient();
        await ImportAsync(api, token, Fixture("trivy-payments-api.json"), connectionId);
        await ImportAsync(api, token, Fixture("grype-payments-api.sarif"), connectionId);
        await ImportAsync(api, token, Trivy(results => RemoveVulnerability(results, "CVE-2023-45853")), connectionId);
        using var browser = app.CreateClientWithCookies();
        await app.SignInAsAsync(browser, "sam", PortalRoles.Security);

        var trivy = await ListAsync(api, token, "source=Trivy (import)");
        var grype = await ListAsync(api, token, "source=SARIF: Grype&severity=Critical");
        var openTrivy = await ListAsync(api, token, "source=Trivy (import)&status=Open");
        var grpc = await ListAsync(api, token, "package=grpc");
        var page = new HtmlParser().ParseDocument(await browser.GetStringAsync("/findings?status=Open"));

        Assert.Equal(7, trivy.Count);
        Assert.Equal(["CVE-2023-45853"], grype.Select(f => f.VulnerabilityId));
        Assert.Equal(6, openTrivy.Count);
        Assert.Equal([("google.golang.org/grpc", "SARIF: Grype"), ("google.golang.org/grpc", TrivySource)], grpc.Select(f => (f.PackageName, f.SourceTool)).Order());
        string? Count(string source) => page.QuerySelectorAll("fieldset[data-facet=source] .form-check")
            .SingleOrDefault(c => c.QuerySelector("input")?.GetAttribute("value") == source)?.QuerySelector("[data-count]")?.GetAttribute("data-count");
        Assert.Equal("6", Count(TrivySource));
        Assert.Equal("3", Count("SARIF: Grype"));
        Assert.NotNull(page.QuerySelector("[data-testid=import-link][href='/findings/import']"));
    }

    [Fact]
    public async Task The_Import_Page_Uploads_A_Report_With_Antiforgery_And_Shows_What_It_Did()
    {
        await using var app = new PortalApplication(Settings, output);
        var connectionId = $"{await AddConnectionAsync(app)}";
        using var browser = app.CreateClientWithCookies();
        await app.SignInAsAsync(browser, "sam", PortalRoles.Security);
        var antiforgery = await PortalApplication.GetAntiforgeryTokenAsync(browser, "/findings/import");

        // A tag is enough: the Trivy report's RepoDigests names its digest.
        using var forged = await browser.PostAsync("/findings/import/upload", Form(Fixture("trivy-payments-api.json"), "report.json", connectionId, "team-a/payments-api:1.4.2"));
        using var posted = await browser.PostAsync("/findings/import/upload", Form(Fixture("trivy-payments-api.json"), "report.json", connectionId, "team-a/payments-api:1.4.2", "auto", antiforgery));

        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, posted.StatusCode);
        var location = posted.Headers.Location!.OriginalString;
        Assert.StartsWith("/findings/import?", location, StringComparison.Ordinal);
        var page = new HtmlParser().ParseDocument(await browser.GetStringAsync(location));
        var result = page.QuerySelector("[data-testid=import-result]")!;
        Assert.Contains($"Imported report.json for {Image} (Trivy (import)): 7 new, 0 updated, 0 resolved, 0 reopened, 0 unchanged.", Normalize(result.TextContent), StringComparison.Ordinal);
        Assert.Equal("/findings?source=Trivy (import)&repository=team-a/payments-api", Uri.UnescapeDataString(page.QuerySelector("[data-testid=import-findings-link]")!.GetAttribute("href")!));
        await using var db = app.CreateDbContext();
        Assert.Equal(7, await CountAsync(db, TrivySource));
        Assert.All(await db.FindingEvents.ToListAsync(), e => Assert.Equal("sam", e.Actor));

        // A refusal comes back to the form with the reason and the values typed.
        using var refused = await browser.PostAsync("/findings/import/upload", Form(Encoding.UTF8.GetBytes("{\"SchemaVersion\": 2 \"Results\": []}"), "broken.json", connectionId, "team-a/payments-api:1.4.2", null, antiforgery));
        var refusedPage = new HtmlParser().ParseDocument(await browser.GetStringAsync(refused.Headers.Location!.OriginalString));
        Assert.Contains("broken.json: The file is not valid JSON at line 1, position", refusedPage.QuerySelector("[data-testid=import-error]")!.TextContent, StringComparison.Ordinal);
        Assert.Equal("team-a/payments-api:1.4.2", refusedPage.QuerySelector("#import-image")!.GetAttribute("value"));
        Assert.Equal(7, await CountAsync(db, TrivySource));
    }

    [Fact]
    public async Task Only_Security_And_Admin_Import_From_The_Page_Or_With_An_Api_Token()
    {
        await using var app = new PortalApplication(Settings, output);
        var connectionId = $"{await AddConnectionAsync(app)}";
        using var anonymous = app.CreateClient();
        var statuses = new List<string>();
        foreach (var role in PortalRoles.All)
        {
            using var browser = app.CreateClientWithCookies();
            await app.SignInAsAsync(browser, $"{role.ToLowerInvariant()}-person", role);
            using var page = await browser.GetAsync("/findings/import");
            var queue = await browser.GetStringAsync("/findings");
            using var post = await browser.PostAsync("/findings/import/upload", Form(Fixture("trivy-payments-api.json"), "r.json", connectionId, Image));
            // The session cookie only reads the API, whatever the role.
            using var cookieApi = await ApiImportAsync(browser, null, Form(Fixture("trivy-payments-api.json"), "r.json", connectionId, Image));
            var token = await ApiTokenTests.CreateTokenAsync(app, $"{role.ToLowerInvariant()}-bot", role);
            using var withToken = await ApiImportAsync(anonymous, token, Form(Fixture("trivy-payments-api.json"), "r.json", connectionId, Image));
            statuses.Add($"{role}: page {(int)page.StatusCode}, link {queue.Contains("data-testid=\"import-link\"", StringComparison.Ordinal)}, "
                + $"form {(int)post.StatusCode}, cookie api {(int)cookieApi.StatusCode}, token api {(int)withToken.StatusCode}");
        }

        using var noToken = await ApiImportAsync(anonymous, null, Form(Fixture("trivy-payments-api.json"), "r.json", connectionId, Image));

        Assert.Equal(
            [
                // Security and Admin reach the form; a post without the antiforgery token is refused before it imports.
                "Admin: page 200, link True, form 400, cookie api 403, token api 200",
                "Security: page 200, link True, form 400, cookie api 403, token api 200",
                "Developer: page 403, link False, form 403, cookie api 403, token api 403",
                "Viewer: page 403, link False, form 403, cookie api 403, token api 403",
            ],
            statuses);
        Assert.Equal(HttpStatusCode.Unauthorized, noToken.StatusCode);
        await using var db = app.CreateDbContext();
        Assert.Equal(7, await CountAsync(db, TrivySource));
        Assert.Equal(2, await db.AuditEvents.CountAsync(a => a.Action == ReportImporter.AuditAction));
    }

    [Fact]
    public async Task A_Harbor_Sync_Leaves_The_Imported_Findings_Of_Its_Images_Alone()
    {
        await using var harness = await Scanning.SyncHarness.StartAsync(output);
        await harness.SyncAsync();
        var payments = (await harness.FindingsAsync()).First(f => f.Digest == Scanning.SyncHarness.PaymentsDigest);
        var token = await ApiTokenTests.CreateTokenAsync(harness.App, "ci-security", PortalRoles.Security);
        using var client = harness.App.CreateClient();
        var image = $"{payments.RepositoryName}@{payments.Digest}";
        // The fixture's RepoDigests name another image: a report of this one lists none.
        var report = Trivy(_ => { });
        var json = System.Text.Json.Nodes.JsonNode.Parse(report)!;
        json["Metadata"]!["RepoDigests"] = new System.Text.Json.Nodes.JsonArray();
        using var response = await ApiImportAsync(client, token, Form(Encoding.UTF8.GetBytes(json.ToJsonString()), "r.json", $"{harness.ConnectionId}", image));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        harness.Rescan(Scanning.SyncHarness.PaymentsDigest, state => state.VulnerabilitySets["payments"].RemoveAt(0));
        var resync = await harness.SyncAsync();

        Assert.Equal(1, resync.FindingsResolved);
        var imported = (await harness.FindingsAsync()).Where(f => f.SourceTool == TrivySource).ToList();
        Assert.Equal(7, imported.Count);
        Assert.All(imported, f => Assert.Equal(FindingStatus.Open, f.Status));
        // Harbor's project visibility and push time reached the imported findings' priority.
        Assert.All(imported, f => Assert.Equal((payments.ProjectIsPublic, payments.ImagePushedAt), (f.ProjectIsPublic, f.ImagePushedAt)));
    }

    [Fact]
    public async Task The_Import_Call_Is_In_The_OpenApi_Document_As_A_Multipart_Form()
    {
        await using var app = new PortalApplication(Settings, output);
        using var browser = app.CreateClientWithCookies();
        await app.SignInAsAsync(browser, "sam", PortalRoles.Security);

        using var document = JsonDocument.Parse(await browser.GetStringAsync("/api/v1/openapi.json"));

        var post = document.RootElement.GetProperty("paths").GetProperty("/api/v1/findings/imports").GetProperty("post");
        var form = post.GetProperty("requestBody").GetProperty("content").GetProperty("multipart/form-data").GetRawText();
        Assert.All(new[] { "\"file\"", "\"connectionId\"", "\"image\"", "\"format\"" }, field => Assert.Contains(field, form, StringComparison.Ordinal));
        Assert.Contains("Trivy JSON report or a SARIF 2.1.0 log", post.GetProperty("summary").GetString(), StringComparison.Ordinal);
    }

    internal static async Task<ImportResponse> ImportAsync(HttpClient client, string token, byte[] file, string connectionId, string image = Image)
    {
        using var response = await ApiImportAsync(client, token, Form(file, "trivy-payments-api.json", connectionId, image));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<ImportResponse>(Json))!;
    }

    private static (int, int, int, int, int) Counts(ImportResponse r) => (r.New, r.Updated, r.Resolved, r.Reopened, r.Unchanged);

    private static async Task<List<FindingResponse>> ListAsync(HttpClient client, string token, string query)
    {
        using var response = await ApiTokenTests.SendAsync(client, HttpMethod.Get, "/api/v1/findings?limit=200&" + query.Replace(" ", "%20", StringComparison.Ordinal), token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return [.. (await response.Content.ReadFromJsonAsync<FindingListResponse>(Json))!.Items];
    }

    private static string Normalize(string text) => System.Text.RegularExpressions.Regex.Replace(text, @"\s+", " ").Trim();
}
