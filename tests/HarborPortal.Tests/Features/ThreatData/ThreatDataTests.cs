using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using AngleSharp.Html.Dom;
using AngleSharp.Html.Parser;
using HarborPortal.Features.Auth;
using HarborPortal.Features.Findings;
using HarborPortal.Features.ThreatData;
using HarborPortal.Tests.Features.Auth;
using HarborPortal.Tests.Features.Findings;
using HarborPortal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace HarborPortal.Tests.Features.ThreatData;

public sealed class ThreatDataTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Log4Shell = "CVE-2021-44228";
    private const string Epss37 = "CVE-2022-0001";
    private const string Epss5 = "CVE-2022-0002";
    private const string WebP = "CVE-2023-4863";
    private const string Unlisted = "CVE-2020-9999";

    private FeedServer _feeds = null!;
    private PortalApplication _app = null!;

    public async Task InitializeAsync()
    {
        _feeds = await FeedServer.StartAsync();
        // Small enough that the 256 KB "huge" file is over it, large enough for the fixtures.
        _app = new PortalApplication(new Dictionary<string, string?> { ["ThreatData:MaxBytes"] = "65536" }, output);
        _app.CreateClient().Dispose(); // start the host: migrations, Quartz
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _feeds.DisposeAsync();
    }

    [Fact]
    public async Task A_Cve_In_Kev_Makes_Its_Open_Findings_Critical_With_The_Explained_Factor_And_The_Catalogs_Date()
    {
        var ids = await SeedAsync((Log4Shell, Severity.High, FindingStatus.Open), (Log4Shell, Severity.Low, FindingStatus.InProgress), (Log4Shell, Severity.High, FindingStatus.Resolved), (Unlisted, Severity.High, FindingStatus.Open));
        using var admin = await AdminAsync();

        // Act: enable with the loopback URL, then "Fetch now", which runs the Quartz job.
        await PostFormAsync(admin, "/admin/threat-data/kev/settings", new() { ["enabled"] = "true", ["url"] = _feeds.Url("/feeds/known_exploited_vulnerabilities.json") });
        await PostFormAsync(admin, "/admin/threat-data/kev/fetch", []);
        var feed = await WaitForAttemptAsync(ThreatFeedKind.Kev);

        // Assert
        Assert.Null(feed.LastError);
        Assert.Equal(2, feed.EntryCount);
        Assert.Equal([Severity.Critical, Severity.Critical, Severity.High, Severity.High], await PrioritiesAsync(ids));
        var evidence = await GetPageAsync(admin, $"/findings/{ids[0]}");
        Assert.Equal("High → Critical: known to be exploited in the wild (CISA KEV, catalog of 2026-11-20)", evidence.QuerySelector("[data-rule=kev]")!.TextContent.Trim());
        Assert.Equal("2021-12-10", evidence.QuerySelector("[data-testid=kev-date-added]")!.TextContent.Trim());
        Assert.Equal("2021-12-24", evidence.QuerySelector("[data-testid=kev-due-date]")!.TextContent.Trim());
        Assert.StartsWith("For all affected software assets", evidence.QuerySelector("[data-testid=kev-required-action]")!.TextContent.Trim(), StringComparison.Ordinal);
        var unlisted = await GetPageAsync(admin, $"/findings/{ids[3]}");
        Assert.Null(unlisted.QuerySelector("[data-rule=kev]"));
        Assert.Null(unlisted.QuerySelector("[data-testid=kev-entry]"));
        var page = await GetPageAsync(admin, "/admin/threat-data");
        Assert.StartsWith("2026-11-20", page.QuerySelector("[data-testid=kev-data-date]")!.TextContent.Trim(), StringComparison.Ordinal);
        Assert.Equal("2", page.QuerySelector("[data-testid=kev-count]")!.TextContent.Trim());
        Assert.Equal("Enabled", page.QuerySelector("[data-testid=kev-enabled]")!.TextContent.Trim());
        await using var db = _app.CreateDbContext();
        Assert.Equal(["threat-data.update", "threat-data.fetch"], await db.AuditEvents.Where(e => e.Action.StartsWith("threat-data.")).OrderBy(e => e.Id).Select(e => e.Action).ToListAsync());
    }

    [Fact]
    public async Task An_Uploaded_Gzip_Epss_File_Raises_Findings_At_Or_Above_Ten_Percent_One_Step()
    {
        var ids = await SeedAsync((Epss37, Severity.Medium, FindingStatus.Open), (Epss5, Severity.Medium, FindingStatus.Open));
        using var admin = await AdminAsync();
        await PostFormAsync(admin, "/admin/threat-data/epss/settings", new() { ["enabled"] = "true" });

        var location = await UploadAsync(admin, "epss", "epss_scores-current.csv.gz", FeedServer.Gzip(File.ReadAllBytes(FeedServer.Fixture("epss_scores-current.csv"))));

        Assert.Contains("done=", location, StringComparison.Ordinal);
        Assert.Equal([Severity.High, Severity.Medium], await PrioritiesAsync(ids));
        var evidence = await GetPageAsync(admin, $"/findings/{ids[0]}");
        Assert.Equal("Medium → High: EPSS 37 % (scores of 2026-11-21): a high chance of exploitation within 30 days", evidence.QuerySelector("[data-rule=epss]")!.TextContent.Trim());
        Assert.Contains("scores of 2026-11-21", evidence.QuerySelector("[data-testid=epss-score]")!.TextContent, StringComparison.Ordinal);
        var page = await GetPageAsync(admin, "/admin/threat-data");
        Assert.StartsWith("2026-11-21", page.QuerySelector("[data-testid=epss-data-date]")!.TextContent.Trim(), StringComparison.Ordinal);
        Assert.Equal("upload: epss_scores-current.csv.gz", page.QuerySelector("[data-testid=epss-source]")!.TextContent.Trim());
    }

    [Fact]
    public async Task Disabling_A_Feed_Removes_Its_Effect_At_Once_And_On_The_Next_Refresh()
    {
        var ids = await SeedAsync((WebP, Severity.High, FindingStatus.Open), (Epss37, Severity.Medium, FindingStatus.Open));
        using var admin = await AdminAsync();
        await PostFormAsync(admin, "/admin/threat-data/kev/settings", new() { ["enabled"] = "true" });
        await PostFormAsync(admin, "/admin/threat-data/epss/settings", new() { ["enabled"] = "true" });
        await UploadAsync(admin, "kev", "kev.json", File.ReadAllBytes(FeedServer.Fixture("known_exploited_vulnerabilities.json")));
        await UploadAsync(admin, "epss", "epss.csv", File.ReadAllBytes(FeedServer.Fixture("epss_scores-current.csv")));
        var enabled = await PrioritiesAsync(ids);

        // Act 1: the admin turns KEV off.
        await PostFormAsync(admin, "/admin/threat-data/kev/settings", new() { ["url"] = "" });
        var kevOff = await PrioritiesAsync(ids);

        // Act 2: EPSS is switched off behind the page's back (a restored backup, say): the daily refresh catches up.
        await using (var db = _app.CreateDbContext())
        {
            await db.ThreatFeeds.Where(f => f.Kind == ThreatFeedKind.Epss).ExecuteUpdateAsync(s => s.SetProperty(f => f.Enabled, false));
        }

        await using (var db = _app.CreateDbContext())
        {
            await PriorityRefreshJob.RefreshAsync(db, DateTimeOffset.UtcNow, CancellationToken.None);
        }

        Assert.Equal([Severity.Critical, Severity.High], enabled);
        Assert.Equal([Severity.High, Severity.High], kevOff);
        Assert.Equal([Severity.High, Severity.Medium], await PrioritiesAsync(ids));
        var evidence = await GetPageAsync(admin, $"/findings/{ids[0]}");
        Assert.Null(evidence.QuerySelector("[data-rule=kev]"));
        Assert.Null(evidence.QuerySelector("[data-testid=threat-data]"));
    }

    [Theory]
    [InlineData("/feeds/malformed.json", "has no valid dateAdded")]
    [InlineData("/feeds/broken", "answered 500")]
    [InlineData("/feeds/huge.json", "larger than the limit of 64 KB")]
    [InlineData("/feeds/missing.json", "answered 404")]
    public async Task A_Failed_Or_Malformed_Fetch_Keeps_The_Previous_Data_And_Shows_The_Error(string path, string message)
    {
        var ids = await SeedAsync((Log4Shell, Severity.High, FindingStatus.Open));
        using var admin = await AdminAsync();
        await PostFormAsync(admin, "/admin/threat-data/kev/settings", new() { ["enabled"] = "true", ["url"] = _feeds.Url("/feeds/known_exploited_vulnerabilities.json") });
        Assert.True((await FetchAsync(ThreatFeedKind.Kev)).Succeeded);
        await PostFormAsync(admin, "/admin/threat-data/kev/settings", new() { ["enabled"] = "true", ["url"] = _feeds.Url(path) });

        var result = await FetchAsync(ThreatFeedKind.Kev);

        Assert.False(result.Succeeded);
        Assert.Contains(message, result.Message, StringComparison.Ordinal);
        Assert.Equal([Severity.Critical], await PrioritiesAsync(ids));
        await using var db = _app.CreateDbContext();
        Assert.Equal([Log4Shell, "CVE-2023-4863"], await db.KevEntries.OrderBy(e => e.CveId).Select(e => e.CveId).ToListAsync());
        var page = await GetPageAsync(admin, "/admin/threat-data");
        Assert.Contains(message, page.QuerySelector("[data-testid=kev-last-error]")!.TextContent, StringComparison.Ordinal);
        Assert.StartsWith("2026-11-20", page.QuerySelector("[data-testid=kev-data-date]")!.TextContent.Trim(), StringComparison.Ordinal);
        Assert.Equal("2", page.QuerySelector("[data-testid=kev-count]")!.TextContent.Trim());
    }

    [Fact]
    public async Task The_Epss_Feed_Is_Read_Gzip_From_Its_Url_And_A_Malformed_Upload_Changes_Nothing()
    {
        var ids = await SeedAsync((Epss37, Severity.Low, FindingStatus.Open));
        using var admin = await AdminAsync();
        await PostFormAsync(admin, "/admin/threat-data/epss/settings", new() { ["enabled"] = "true", ["url"] = _feeds.Url("/feeds/epss_scores-current.csv.gz") });
        var fetched = await FetchAsync(ThreatFeedKind.Epss);

        var location = await UploadAsync(admin, "epss", "scores.csv", "cve,epss,percentile\nCVE-2022-0001,0.01,0.1\n"u8.ToArray());

        Assert.True(fetched.Succeeded, fetched.Message);
        Assert.Contains("error=", location, StringComparison.Ordinal);
        Assert.Equal([Severity.Medium], await PrioritiesAsync(ids));
        var page = await GetPageAsync(admin, location);
        Assert.Contains("not an EPSS scores file", page.QuerySelector("[data-testid=threat-data-error]")!.TextContent, StringComparison.Ordinal);
        Assert.Equal("5", page.QuerySelector("[data-testid=epss-count]")!.TextContent.Trim());
        Assert.Equal(_feeds.Url("/feeds/epss_scores-current.csv.gz"), page.QuerySelector("[data-testid=epss-source]")!.TextContent.Trim());
    }

    [Fact]
    public async Task A_Plain_Http_Url_Off_This_Machine_Is_Refused_With_A_Clear_Message()
    {
        using var admin = await AdminAsync();

        var location = await PostFormAsync(admin, "/admin/threat-data/kev/settings", new() { ["enabled"] = "true", ["url"] = "http://mirror.example.com/kev.json" });

        var page = await GetPageAsync(admin, location);
        Assert.Contains("must use https", page.QuerySelector("[data-testid=threat-data-error]")!.TextContent, StringComparison.Ordinal);
        await using var db = _app.CreateDbContext();
        Assert.Empty(await db.ThreatFeeds.ToListAsync());
    }

    [Theory]
    [InlineData(PortalRoles.Security)]
    [InlineData(PortalRoles.Developer)]
    [InlineData(PortalRoles.Viewer)]
    public async Task Only_Admins_Manage_Threat_Data(string role)
    {
        using var other = _app.CreateClientWithCookies();
        await _app.SignInAsAsync(other, "someone", role);
        using var admin = await AdminAsync();
        var token = await PortalApplication.GetAntiforgeryTokenAsync(admin, "/admin/threat-data");

        using var page = await other.GetAsync("/admin/threat-data");
        using var settings = await other.PostAsync("/admin/threat-data/kev/settings", new FormUrlEncodedContent(new Dictionary<string, string> { ["enabled"] = "true", ["__RequestVerificationToken"] = token }));
        using var fetch = await other.PostAsync("/admin/threat-data/kev/fetch", new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = token }));
        using var forged = await admin.PostAsync("/admin/threat-data/kev/settings", new FormUrlEncodedContent(new Dictionary<string, string> { ["enabled"] = "true" }));
        using var status = await other.GetAsync("/api/v1/threat-data");

        Assert.Equal(HttpStatusCode.Forbidden, page.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, settings.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, fetch.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Equal(role == PortalRoles.Security ? HttpStatusCode.OK : HttpStatusCode.Forbidden, status.StatusCode);
        await using var db = _app.CreateDbContext();
        Assert.Empty(await db.ThreatFeeds.ToListAsync());
    }

    [Fact]
    public async Task The_Api_Shows_The_Status_And_Takes_Uploads_From_An_Admin_Token_Only()
    {
        using var client = _app.CreateClientWithCookies();
        await _app.SignInAsAsync(client, "sam", PortalRoles.Admin);
        var adminToken = await ApiTokenTests.CreateTokenAsync(_app, "automation", PortalRoles.Admin);
        var securityToken = await ApiTokenTests.CreateTokenAsync(_app, "auditor", PortalRoles.Security);
        var kev = File.ReadAllBytes(FeedServer.Fixture("known_exploited_vulnerabilities.json"));

        using var cookieUpload = await client.PostAsync("/api/v1/threat-data/kev/upload", new ByteArrayContent(kev));
        using var securityUpload = await SendAsync(client, "/api/v1/threat-data/kev/upload", securityToken, kev);
        using var upload = await SendAsync(client, "/api/v1/threat-data/kev/upload", adminToken, kev);
        using var malformed = await SendAsync(client, "/api/v1/threat-data/kev/upload", adminToken, "{}"u8.ToArray());
        var status = await client.GetFromJsonAsync<List<ThreatFeedResponse>>("/api/v1/threat-data");

        Assert.Equal(HttpStatusCode.Forbidden, cookieUpload.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, securityUpload.StatusCode);
        Assert.Equal(HttpStatusCode.OK, upload.StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, malformed.StatusCode);
        Assert.Contains("no 'vulnerabilities' entries", await malformed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var kevStatus = status!.Single(s => s.Feed == ThreatFeedKind.Kev);
        Assert.False(kevStatus.Enabled);
        Assert.Equal(2, kevStatus.EntryCount);
        Assert.Equal(new DateTimeOffset(2026, 11, 20, 15, 0, 0, TimeSpan.Zero), kevStatus.DataDate);
        Assert.Contains("no 'vulnerabilities' entries", kevStatus.LastError, StringComparison.Ordinal);
        Assert.True(status!.Single(s => s.Feed == ThreatFeedKind.Epss).UrlIsDefault);
    }

    private async Task<HttpClient> AdminAsync()
    {
        var admin = _app.CreateClientWithCookies();
        await _app.SignInAsAsync(admin, "alex", PortalRoles.Admin);
        return admin;
    }

    /// <summary>Findings whose other factors are all neutral (a fix exists, local vector, unknown push and visibility), so the priority starts at the severity.</summary>
    private async Task<List<long>> SeedAsync(params (string Cve, Severity Severity, FindingStatus Status)[] findings)
    {
        await using var db = _app.CreateDbContext();
        await FindingSeeds.SeedAsync(db, 0);
        var now = DateTimeOffset.UtcNow;
        var rows = findings.Select((f, i) =>
        {
            var finding = FindingSeeds.Create(i, "team-a", f.Cve);
            finding.Severity = f.Severity;
            finding.FixedVersion = "9.9";
            finding.CvssVector = "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N";
            finding.ProjectIsPublic = null;
            finding.ImagePushedAt = null;
            finding.Status = f.Status;
            PriorityRules.Apply(finding, PriorityContext.For(finding, now));
            return finding;
        }).ToList();
        db.Findings.AddRange(rows);
        await db.SaveChangesAsync();
        return [.. rows.Select(r => r.Id)];
    }

    private async Task<List<Severity>> PrioritiesAsync(List<long> ids)
    {
        await using var db = _app.CreateDbContext();
        var priorities = await db.Findings.Where(f => ids.Contains(f.Id)).ToDictionaryAsync(f => f.Id, f => f.Priority);
        return [.. ids.Select(id => priorities[id])];
    }

    private async Task<ThreatFeedResult> FetchAsync(ThreatFeedKind kind)
    {
        await using var scope = _app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ThreatFeedImporter>().FetchAsync(kind, CancellationToken.None);
    }

    private async Task<ThreatFeed> WaitForAttemptAsync(ThreatFeedKind kind)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            await using (var db = _app.CreateDbContext())
            {
                if (await db.ThreatFeeds.AsNoTracking().SingleOrDefaultAsync(f => f.Kind == kind, deadline.Token) is { FetchPending: false, LastAttemptAt: not null } feed)
                {
                    return feed;
                }
            }

            await Task.Delay(100, deadline.Token);
        }
    }

    private static async Task<string> PostFormAsync(HttpClient client, string path, Dictionary<string, string> fields)
    {
        fields["__RequestVerificationToken"] = await PortalApplication.GetAntiforgeryTokenAsync(client, "/admin/threat-data");
        using var response = await client.PostAsync(path, new FormUrlEncodedContent(fields));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return response.Headers.Location!.ToString();
    }

    private static async Task<string> UploadAsync(HttpClient client, string feed, string fileName, byte[] content)
    {
        using var form = new MultipartFormDataContent
        {
            { new StringContent(await PortalApplication.GetAntiforgeryTokenAsync(client, "/admin/threat-data")), "__RequestVerificationToken" },
            { new ByteArrayContent(content), "file", fileName },
        };
        using var response = await client.PostAsync($"/admin/threat-data/{feed}/upload", form);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return response.Headers.Location!.ToString();
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient client, string path, string token, byte[] body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client.SendAsync(request);
    }

    private static async Task<IHtmlDocument> GetPageAsync(HttpClient client, string path) =>
        new HtmlParser().ParseDocument(await client.GetStringAsync(path));
}
