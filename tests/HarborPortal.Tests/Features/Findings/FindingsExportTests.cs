using System.Net;
using System.Text;
using System.Text.Json;
using HarborPortal.Features.Auth;
using HarborPortal.Features.Findings;
using HarborPortal.Tests.Features.Auth;
using HarborPortal.Tests.Infrastructure;

namespace HarborPortal.Tests.Features.Findings;

public sealed class FindingsExportTests(SeededQueue seeded) : IClassFixture<SeededQueue>
{
    public static TheoryData<string> ExportCases() =>
    [
        "",
        "severity=Critical,High&status=Open",
        "source=Trivy (import)&sort=first-seen&dir=asc",
        "package=ssl&sort=cvss",
        "project=team-b&fix=no&sort=last-seen",
        "repository=team-a/app1&group=vulnerability&after=ignored-by-exports",
    ];

    [Theory]
    [MemberData(nameof(ExportCases))]
    public async Task The_Csv_Export_Holds_Exactly_The_Filters_Rows_In_The_Pages_Order(string query)
    {
        using var browser = await SignInAsync("vera", PortalRoles.Viewer);

        using var response = await browser.GetAsync(FindingsExportEndpoints.CsvPath + "?" + query);
        var rows = Csv.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("utf-8", response.Content.Headers.ContentType?.CharSet);
        Assert.Equal(FindingExportColumns.All.Select(c => c.Header), rows[0]);
        Assert.Equal(Expected(query).Select(f => f.Id.ToString()), rows.Skip(1).Select(r => r[0]));
    }

    [Theory]
    [MemberData(nameof(ExportCases))]
    public async Task The_Json_Export_Holds_Exactly_The_Filters_Rows_In_The_Pages_Order(string query)
    {
        using var browser = await SignInAsync("vera", PortalRoles.Viewer);

        using var response = await browser.GetAsync(FindingsExportEndpoints.JsonPath + "?" + query);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(Expected(query).Select(f => f.Id), json.RootElement.EnumerateArray().Select(e => e.GetProperty("id").GetInt64()));
    }

    [Fact]
    public async Task Every_Column_Carries_The_Findings_Values_In_Both_Formats()
    {
        using var browser = await SignInAsync("vera", PortalRoles.Viewer);
        var finding = seeded.Findings.First(f => f.Status == FindingStatus.Resolved && f.ConnectionId == 2 && f.CvssScore is not null);
        var query = $"?repository={Uri.EscapeDataString(finding.RepositoryName)}&status=Resolved";

        var csv = Csv.Parse(await browser.GetStringAsync(FindingsExportEndpoints.CsvPath + query));
        using var json = JsonDocument.Parse(await browser.GetStringAsync(FindingsExportEndpoints.JsonPath + query));

        var cells = csv[0].Zip(csv.Single(r => r[0] == finding.Id.ToString())).ToDictionary(p => p.First, p => p.Second);
        var item = json.RootElement.EnumerateArray().Single(e => e.GetProperty("id").GetInt64() == finding.Id);
        Assert.Equal("Resolved", cells["status"]);
        Assert.Equal(finding.Priority.ToString(), cells["priority"]);
        Assert.Equal(finding.Severity.ToString(), cells["severity"]);
        Assert.Equal(finding.VulnerabilityId, cells["vulnerability"]);
        Assert.Equal(finding.PackageName, cells["package"]);
        Assert.Equal(finding.InstalledVersion, cells["installed_version"]);
        Assert.Equal(finding.FixedVersion, cells["fixed_version"]);
        Assert.Equal(finding.CvssScore!.Value.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture), cells["cvss"]);
        Assert.Equal(finding.SourceTool, cells["source_tool"]);
        Assert.Equal("harbor-stage", cells["connection"]);
        Assert.Equal(finding.ProjectName, cells["project"]);
        Assert.Equal(finding.RepositoryName, cells["repository"]);
        Assert.Equal(finding.Digest, cells["digest"]);
        Assert.Equal(finding.Tags, cells["tags"]);
        Assert.Equal(finding.FirstSeenAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'"), cells["first_seen"]);
        Assert.Equal(finding.LastSeenAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'"), cells["last_seen"]);
        Assert.Equal(finding.ResolvedAt!.Value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'"), cells["resolved_at"]);
        Assert.Equal(Finding.NoLongerReported, cells["resolved_reason"]);

        Assert.Equal(FindingExportColumns.All.Select(c => c.JsonName), item.EnumerateObject().Select(p => p.Name));
        Assert.Equal(finding.CvssScore.Value, item.GetProperty("cvss").GetDouble(), 1);
        Assert.Equal(finding.Tags.Split(','), item.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal("harbor-stage", item.GetProperty("connection").GetString());
        Assert.Equal(cells["first_seen"], item.GetProperty("firstSeen").GetString());
    }

    [Fact]
    public async Task A_Developers_Export_Holds_Only_Their_Teams_Findings()
    {
        await FindingSeeds.AddTeamAsync(seeded.App, "Exporters", "exporters-devs", "team-b");
        using var developer = seeded.App.CreateClientWithCookies();
        await seeded.App.SignInWithGroupsAsync(developer, "dev-export", ["exporters-devs"], PortalRoles.Developer);

        var all = Csv.Parse(await developer.GetStringAsync(FindingsExportEndpoints.CsvPath));
        var otherTeam = Csv.Parse(await developer.GetStringAsync(FindingsExportEndpoints.CsvPath + "?project=team-a"));
        using var json = JsonDocument.Parse(await developer.GetStringAsync(FindingsExportEndpoints.JsonPath + "?severity=High"));

        Assert.Equal(Expected("project=team-b").Select(f => f.Id.ToString()), all.Skip(1).Select(r => r[0]));
        Assert.Single(otherTeam);
        Assert.Equal(Expected("project=team-b&severity=High").Select(f => f.Id), json.RootElement.EnumerateArray().Select(e => e.GetProperty("id").GetInt64()));
    }

    [Theory]
    [InlineData(PortalRoles.Admin)]
    [InlineData(PortalRoles.Security)]
    [InlineData(PortalRoles.Viewer)]
    public async Task Every_Role_That_Reads_Findings_Can_Export_Them(string role)
    {
        using var browser = await SignInAsync("reader-" + role.ToLowerInvariant(), role);

        using var csv = await browser.GetAsync(FindingsExportEndpoints.CsvPath + "?severity=Low");
        using var json = await browser.GetAsync(FindingsExportEndpoints.JsonPath + "?severity=Low");
        // The session cookie may read the API too.
        using var api = await browser.GetAsync(FindingsExportEndpoints.ApiPath + "?severity=Low&format=json");

        Assert.Equal(HttpStatusCode.OK, csv.StatusCode);
        Assert.Equal(HttpStatusCode.OK, json.StatusCode);
        Assert.Equal(HttpStatusCode.OK, api.StatusCode);
        Assert.Equal(Expected("severity=Low").Count, Csv.Parse(await csv.Content.ReadAsStringAsync()).Count - 1);
    }

    [Fact]
    public async Task Visitors_Are_Sent_To_Log_In_And_The_Api_Without_Credentials_Answers_401()
    {
        using var anonymous = seeded.App.CreateClientWithCookies();

        foreach (var path in new[] { FindingsExportEndpoints.CsvPath, FindingsExportEndpoints.JsonPath + "?severity=High" })
        {
            using var response = await anonymous.GetAsync(path);
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            Assert.StartsWith("/account/login", response.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
        }

        using var api = await anonymous.GetAsync(FindingsExportEndpoints.ApiPath + "?format=csv");
        using var roleless = await SignInAsync("nobody");
        using var noRole = await roleless.GetAsync(FindingsExportEndpoints.CsvPath);

        Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
        Assert.NotEqual(HttpStatusCode.OK, noRole.StatusCode);
        Assert.DoesNotContain("sha256:", await noRole.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_Api_Token_Exports_Csv_And_Json_With_The_Filter_And_Time_In_The_File_Name()
    {
        var token = await ApiTokenTests.CreateTokenAsync(seeded.App, "ci-exporter", PortalRoles.Viewer);
        using var client = seeded.App.CreateClient();

        using var csv = await ApiTokenTests.SendAsync(client, HttpMethod.Get, FindingsExportEndpoints.ApiPath + "?severity=Critical&source=Harbor", token);
        using var json = await ApiTokenTests.SendAsync(client, HttpMethod.Get, FindingsExportEndpoints.ApiPath + "?severity=Critical&source=Harbor&format=json", token);

        Assert.Equal(HttpStatusCode.OK, csv.StatusCode);
        Assert.Equal("text/csv", csv.Content.Headers.ContentType?.MediaType);
        Assert.Equal("attachment", csv.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Matches(@"^findings-source-harbor-severity-critical-\d{8}T\d{4}Z\.csv$", csv.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
        Assert.Matches(@"^findings-source-harbor-severity-critical-\d{8}T\d{4}Z\.json$", json.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
        Assert.Equal("no-store", csv.Headers.CacheControl?.ToString());
        var expected = Expected("severity=Critical&source=Harbor").Select(f => f.Id).ToList();
        Assert.Equal(expected.Select(id => id.ToString()), Csv.Parse(await csv.Content.ReadAsStringAsync()).Skip(1).Select(r => r[0]));
        using var document = JsonDocument.Parse(await json.Content.ReadAsStringAsync());
        Assert.Equal(expected, document.RootElement.EnumerateArray().Select(e => e.GetProperty("id").GetInt64()));
    }

    [Theory]
    [InlineData(FindingsExportEndpoints.CsvPath + "?severity=Catastrophic", "severity")]
    [InlineData(FindingsExportEndpoints.JsonPath + "?from=yesterday", "from")]
    [InlineData(FindingsExportEndpoints.ApiPath + "?connection=prod", "connection")]
    [InlineData(FindingsExportEndpoints.ApiPath + "?format=xlsx", "format")]
    public async Task A_Filter_It_Cannot_Read_Is_A_400_Naming_The_Parameter(string path, string parameter)
    {
        using var browser = await SignInAsync("vera", PortalRoles.Viewer);

        using var response = await browser.GetAsync(path);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(response.Content.Headers.ContentDisposition);
        Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty(parameter, out _));
    }

    [Fact]
    public async Task An_Export_With_No_Rows_Has_Only_The_Header_Or_An_Empty_Array()
    {
        using var browser = await SignInAsync("vera", PortalRoles.Viewer);

        var csv = await browser.GetStringAsync(FindingsExportEndpoints.CsvPath + "?vulnerability=CVE-1999-0001");
        var json = await browser.GetStringAsync(FindingsExportEndpoints.JsonPath + "?vulnerability=CVE-1999-0001");

        Assert.Equal(string.Join(',', FindingExportColumns.All.Select(c => c.Header)) + "\r\n", csv);
        Assert.Equal("[]", json);
    }

    [Theory]
    [InlineData("", 1, 3)]
    [InlineData("severity=Critical,High", 1, 5)]
    [InlineData("severity=Medium&sort=severity", 1, 4)]
    [InlineData("status=Open&sort=last-seen&dir=asc", 8000, 7)]
    [InlineData("package=ssl&sort=cvss", 1, 10)]
    public async Task Reading_In_Small_Chunks_Gives_Every_Row_Once_In_Order_Whatever_The_Plan(string query, int fewRows, int chunkSize)
    {
        await using var db = seeded.App.CreateDbContext();
        var queue = new FindingQueue(db) { FewRowsThreshold = fewRows };

        var ids = new List<long>();
        await foreach (var chunk in FindingsExport.ChunksAsync(queue, FindingQueueTests.Parse(query), FindingScope.Everything, chunkSize))
        {
            Assert.InRange(chunk.Count, 1, chunkSize);
            ids.AddRange(chunk.Select(f => f.Id));
        }

        Assert.Equal(Expected(query).Select(f => f.Id), ids);
    }

    [Fact]
    public async Task The_OpenApi_Document_Describes_The_Export()
    {
        using var browser = await SignInAsync("vera", PortalRoles.Viewer);

        using var document = JsonDocument.Parse(await browser.GetStringAsync("/api/v1/openapi.json"));

        var export = document.RootElement.GetProperty("paths").GetProperty(FindingsExportEndpoints.ApiPath).GetProperty("get");
        Assert.Contains(export.GetProperty("parameters").EnumerateArray(), p => p.GetProperty("name").GetString() == "format");
        var content = export.GetProperty("responses").GetProperty("200").GetProperty("content");
        Assert.True(content.TryGetProperty("text/csv", out _));
        Assert.True(content.TryGetProperty("application/json", out _));
        Assert.False(document.RootElement.GetProperty("paths").TryGetProperty(FindingsExportEndpoints.CsvPath, out _));
    }

    private List<Finding> Expected(string query)
    {
        var filter = FindingFilter.Parse(FindingQueueTests.Query(query), out _);
        return [.. FindingSeeds.Sorted(seeded.Findings.Where(FindingQueueTests.Matches(query)), filter.Sort, filter.Ascending)];
    }

    private async Task<HttpClient> SignInAsync(string user, params string[] roles)
    {
        var browser = seeded.App.CreateClientWithCookies();
        await seeded.App.SignInAsAsync(browser, user, roles);
        return browser;
    }
}

public sealed class FindingsExportFileTests : IAsyncLifetime
{
    private static readonly DateTimeOffset At = new(2026, 11, 22, 9, 30, 45, TimeSpan.FromHours(2));

    private readonly PortalApplication _app = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Theory]
    [InlineData("", "findings-20261122T0730Z.csv")]
    [InlineData("severity=Critical&source=Harbor", "findings-source-harbor-severity-critical-20261122T0730Z.csv")]
    [InlineData("source=Trivy (import)&sort=cvss&dir=asc&group=image", "findings-source-trivy-import-20261122T0730Z.csv")]
    [InlineData("repository=../../etc/passwd&package=\"; rm -rf /", "findings-repository-etc-passwd-package-rm-rf-20261122T0730Z.csv")]
    [InlineData("from=2025-01-20&to=2025-01-25&fix=no", "findings-fix-no-from-2025-01-20-to-2025-01-25-20261122T0730Z.csv")]
    public void The_File_Name_Carries_The_Filter_And_The_Utc_Time_In_Safe_Characters(string query, string expected)
    {
        Assert.Equal(expected, FindingsExport.FileName(FindingQueueTests.Parse(query), At, FindingExportFormat.Csv));
    }

    [Fact]
    public void A_Long_Filter_Is_Cut_At_A_Word_In_The_File_Name()
    {
        var filter = FindingQueueTests.Parse("project=" + new string('p', 40) + "&repository=" + new string('r', 200) + "&vulnerability=CVE-2024-1234");

        var name = FindingsExport.FileName(filter, At, FindingExportFormat.Json);

        Assert.Equal($"findings-project-{new string('p', 40)}-repository-20261122T0730Z.json", name);
        Assert.True(name.Length <= "findings-".Length + FindingsExport.MaxFilterNameLength + "-20261122T0730Z.json".Length);
    }

    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("a,b", "\"a,b\"")]
    [InlineData("say \"hi\"", "\"say \"\"hi\"\"\"")]
    [InlineData("two\nlines", "\"two\nlines\"")]
    [InlineData("=1+2", "'=1+2")]
    [InlineData("+cmd", "'+cmd")]
    [InlineData("-2", "'-2")]
    [InlineData("@SUM(A1)", "'@SUM(A1)")]
    [InlineData("\tx", "'\tx")]
    [InlineData("\rx", "\"'\rx\"")]
    [InlineData("=HYPERLINK(\"http://evil\",\"x\")", "\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\"")]
    [InlineData("", "")]
    public void A_Cell_Is_Quoted_As_Rfc_4180_Says_And_Never_Starts_A_Formula(string value, string expected)
    {
        var line = new StringBuilder();

        FindingsExport.AppendCell(line, value);

        Assert.Equal(expected, line.ToString());
    }

    [Fact]
    public async Task What_A_Scanner_Reported_Reaches_The_Csv_Escaped_And_The_Json_As_It_Was()
    {
        _app.CreateClient().Dispose();
        await using (var db = _app.CreateDbContext())
        {
            await FindingSeeds.SeedAsync(db, count: 0);
            var finding = FindingSeeds.Create(1);
            finding.PackageName = "=HYPERLINK(\"http://evil.example\",\"click\")";
            finding.InstalledVersion = "+1.0";
            finding.FixedVersion = "-1.1";
            finding.RepositoryName = "team-b/app, \"quoted\"";
            finding.ResolvedReason = "@line one\r\nline two";
            finding.Tags = "ünïcødé,latest";
            db.Findings.Add(finding);
            await db.SaveChangesAsync();
        }

        using var browser = _app.CreateClientWithCookies();
        await _app.SignInAsAsync(browser, "vera", PortalRoles.Viewer);

        var bytes = await browser.GetByteArrayAsync(FindingsExportEndpoints.CsvPath);
        var text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        var rows = Csv.Parse(text);
        using var json = JsonDocument.Parse(await browser.GetStringAsync(FindingsExportEndpoints.JsonPath));

        var cells = rows[0].Zip(rows[1]).ToDictionary(p => p.First, p => p.Second);
        Assert.Equal(2, rows.Count);
        Assert.NotEqual(0xEF, bytes[0]);
        Assert.Equal("'=HYPERLINK(\"http://evil.example\",\"click\")", cells["package"]);
        Assert.Equal("'+1.0", cells["installed_version"]);
        Assert.Equal("'-1.1", cells["fixed_version"]);
        Assert.Equal("team-b/app, \"quoted\"", cells["repository"]);
        Assert.Equal("'@line one\r\nline two", cells["resolved_reason"]);
        Assert.Equal("ünïcødé,latest", cells["tags"]);

        // JSON is data for programs, not a spreadsheet: the values stay exactly as reported.
        var item = json.RootElement[0];
        Assert.Equal("=HYPERLINK(\"http://evil.example\",\"click\")", item.GetProperty("package").GetString());
        Assert.Equal("@line one\r\nline two", item.GetProperty("resolvedReason").GetString());
        Assert.Equal(["ünïcødé", "latest"], item.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
    }
}
