using System.Net;
using HarborPortal.Features.Auth;
using HarborPortal.Features.Connections;
using HarborPortal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;
using static HarborPortal.Tests.Features.Connections.ConnectionPages;

namespace HarborPortal.Tests.Features.Connections;

public sealed class ConnectionPagesTests(ITestOutputHelper output) : IAsyncLifetime
{
    // Saves here are about the forms; verification (on save by default) has its own tests.
    private readonly PortalApplication _app = new(new Dictionary<string, string?> { ["Connections:VerifyOnSave"] = "false" }, output);
    private HttpClient _admin = null!;

    public async Task InitializeAsync()
    {
        _admin = _app.CreateClientWithCookies();
        await _app.SignInAsAsync(_admin, "alice", PortalRoles.Admin);
    }

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        await _app.DisposeAsync();
    }

    [Fact]
    public async Task With_No_Connection_The_List_Offers_To_Register_A_Harbor()
    {
        var page = await GetPageAsync(_admin, "/admin/connections");

        var empty = page.QuerySelector("[data-testid=connections-empty]");
        Assert.NotNull(empty);
        Assert.Equal("/admin/connections/new", empty.QuerySelector("a[data-testid=new-connection]")?.GetAttribute("href"));
    }

    [Fact]
    public async Task A_Created_Connection_Appears_In_The_List_Normalised_And_Not_Verified_Yet()
    {
        var id = await CreateAsync(_admin, "harbor-prod", "S3cret-Value-1", url: "Harbor.Example.com/harbor/projects/3/repositories");

        var row = (await GetPageAsync(_admin, "/admin/connections")).QuerySelector($"tr[data-connection-id='{id}']");

        Assert.NotNull(row);
        Assert.Contains("harbor-prod", row.TextContent, StringComparison.Ordinal);
        Assert.Contains("https://harbor.example.com", row.TextContent, StringComparison.Ordinal);
        Assert.Contains("robot$harbor-portal", row.TextContent, StringComparison.Ordinal);
        Assert.Contains("not verified yet", row.QuerySelector("[data-testid=last-verification]")!.TextContent, StringComparison.Ordinal);
        Assert.Equal("enabled", row.QuerySelector("[data-testid=connection-enabled]")!.TextContent.Trim());
        var audit = await LastAuditAsync("connection.create");
        Assert.Equal("harbor-prod", audit.Target);
        Assert.Equal("alice", audit.Actor);
    }

    [Fact]
    public async Task Editing_With_An_Empty_Secret_Keeps_The_Stored_Secret()
    {
        var id = await CreateAsync(_admin, "harbor-prod", "S3cret-Value-1");
        var fields = NewConnection("harbor-renamed", "", url: "https://harbor2.example.com");
        fields.Remove("Model.Enabled");

        using var response = await PostFormAsync(_admin, $"/admin/connections/{id}", "connection-form", fields);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var connection = await FindAsync(id);
        Assert.Equal("harbor-renamed", connection.Name);
        Assert.Equal("https://harbor2.example.com", connection.BaseUrl);
        Assert.False(connection.Enabled);
        Assert.Equal("S3cret-Value-1", Secrets.Unprotect(connection));
        var audit = await LastAuditAsync("connection.update");
        Assert.Equal("harbor-renamed", audit.Target);
        Assert.DoesNotContain("secret", audit.Details, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Scan_Unscanned_Artifacts_Is_Off_By_Default_And_Saved_From_Its_Checkbox()
    {
        var id = await CreateAsync(_admin, "harbor-prod", "S3cret-Value-1");
        Assert.False((await FindAsync(id)).ScanUnscanned);
        var fields = NewConnection("harbor-prod", "");
        fields["Model.ScanUnscanned"] = "true";

        using var response = await PostFormAsync(_admin, $"/admin/connections/{id}", "connection-form", fields);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.True((await FindAsync(id)).ScanUnscanned);
        Assert.Contains("scan unscanned=True", (await LastAuditAsync("connection.update")).Details, StringComparison.Ordinal);
        var page = await GetPageAsync(_admin, $"/admin/connections/{id}");
        Assert.True(page.QuerySelector("input#scan-unscanned")!.HasAttribute("checked"));
    }

    [Fact]
    public async Task Rotating_Replaces_The_Secret()
    {
        var id = await CreateAsync(_admin, "harbor-prod", "S3cret-Value-1");

        using var response = await PostFormAsync(_admin, $"/admin/connections/{id}", "rotate-form", new Dictionary<string, string> { ["Rotate.Secret"] = "N3w-Secret-Value-2" });

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal($"/admin/connections/{id}?saved=rotated", response.Headers.Location!.PathAndQuery);
        Assert.Equal("N3w-Secret-Value-2", Secrets.Unprotect(await FindAsync(id)));
        Assert.Equal("harbor-prod", (await LastAuditAsync("connection.rotate-secret")).Target);
    }

    [Fact]
    public async Task Rotating_To_Nothing_Is_Refused_And_Keeps_The_Secret()
    {
        var id = await CreateAsync(_admin, "harbor-prod", "S3cret-Value-1");

        using var response = await PostFormAsync(_admin, $"/admin/connections/{id}", "rotate-form", new Dictionary<string, string> { ["Rotate.Secret"] = "" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("data-testid=\"rotate-error\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("S3cret-Value-1", Secrets.Unprotect(await FindAsync(id)));
    }

    [Theory]
    [InlineData("Keep", "findings=keep (0 purged)", 1)]
    [InlineData("Purge", "findings=purge (1 purged)", 0)]
    public async Task Deleting_Removes_The_Connection_And_Keeps_Or_Purges_Its_Findings(string choice, string recorded, int findingsLeft)
    {
        var id = await CreateAsync(_admin, "harbor-prod", "S3cret-Value-1");
        await using (var seed = _app.CreateDbContext())
        {
            seed.Findings.Add(new HarborPortal.Features.Findings.Finding
            {
                Identity = "seeded", ConnectionId = id, ProjectName = "team-a", RepositoryName = "team-a/api",
                Digest = "sha256:0", VulnerabilityId = "CVE-2024-0001", PackageName = "openssl",
            });
            await seed.SaveChangesAsync();
        }

        using var response = await PostFormAsync(_admin, $"/admin/connections/{id}", "delete-form", new Dictionary<string, string> { ["Delete.Findings"] = choice });

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/admin/connections?deleted=harbor-prod", response.Headers.Location!.PathAndQuery);
        await using var db = _app.CreateDbContext();
        Assert.False(await db.HarborConnections.AnyAsync());
        var audit = await LastAuditAsync("connection.delete");
        Assert.Equal("harbor-prod", audit.Target);
        Assert.Contains(recorded, audit.Details, StringComparison.Ordinal);
        Assert.Equal(findingsLeft, await db.Findings.CountAsync(f => f.ConnectionId == id));
    }

    [Fact]
    public async Task Deleting_Without_Choosing_What_Happens_To_The_Findings_Is_Refused()
    {
        var id = await CreateAsync(_admin, "harbor-prod", "S3cret-Value-1");

        using var response = await PostFormAsync(_admin, $"/admin/connections/{id}", "delete-form", new Dictionary<string, string>());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("keep or purge", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await using var db = _app.CreateDbContext();
        Assert.True(await db.HarborConnections.AnyAsync());
    }

    [Fact]
    public async Task A_Robot_Name_Without_The_Prefix_Is_Saved_With_A_Warning_Proposing_The_Full_Name()
    {
        var id = await CreateAsync(_admin, "harbor-prod", "S3cret-Value-1", user: "team-a+portal");

        var page = await GetPageAsync(_admin, $"/admin/connections/{id}");

        var warning = page.QuerySelector("[data-testid=robot-name-warning]");
        Assert.NotNull(warning);
        Assert.Equal("robot$team-a+portal", page.QuerySelector("[data-testid=robot-name-suggestion]")?.TextContent);
        Assert.Equal("team-a+portal", (await FindAsync(id)).UserName);
    }

    [Fact]
    public async Task A_Bad_Url_Is_Refused_With_The_Reason_And_The_Form_Keeps_What_Was_Typed_But_The_Secret()
    {
        var fields = NewConnection("harbor-prod", "S3cret-Value-1", url: "ftp://harbor.example.com");

        using var response = await PostFormAsync(_admin, "/admin/connections/new", "connection-form", fields);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("\"ftp:\" cannot be a registry URL", System.Net.WebUtility.HtmlDecode(html), StringComparison.Ordinal);
        Assert.Contains("value=\"harbor-prod\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("S3cret-Value-1", html, StringComparison.Ordinal);
        await using var db = _app.CreateDbContext();
        Assert.False(await db.HarborConnections.AnyAsync());
    }

    [Fact]
    public async Task Http_Needs_Allow_Http_And_A_Duplicate_Name_Is_Refused()
    {
        await CreateAsync(_admin, "harbor-prod", "S3cret-Value-1");
        var fields = NewConnection("HARBOR-PROD", "S3cret-Value-1", url: "http://harbor.staging.local");

        using var response = await PostFormAsync(_admin, "/admin/connections/new", "connection-form", fields);

        var html = System.Net.WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
        Assert.Contains("Allow HTTP (insecure)\" for a registry", html, StringComparison.Ordinal);
        Assert.Contains("already exists", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_Uploaded_Private_Ca_Is_Shown_With_Its_Subject_And_Expiry()
    {
        var pem = TestCertificates.CaPem("Corp Root CA", new DateTimeOffset(2030, 1, 2, 0, 0, 0, TimeSpan.Zero));
        var page = await GetPageAsync(_admin, "/admin/connections/new");
        var form = page.QuerySelector("form[data-testid=connection-form]")!;
        Assert.Equal("multipart/form-data", form.GetAttribute("enctype"));
        using var content = new MultipartFormDataContent();
        foreach (var hidden in form.QuerySelectorAll("input[type=hidden]"))
        {
            content.Add(new StringContent(hidden.GetAttribute("value") ?? ""), hidden.GetAttribute("name")!);
        }

        foreach (var (name, value) in NewConnection("harbor-prod", "S3cret-Value-1"))
        {
            content.Add(new StringContent(value), name);
        }

        content.Add(new ByteArrayContent(System.Text.Encoding.ASCII.GetBytes(pem)), "CaFile", "corp-root.pem");

        using var response = await _admin.PostAsync("/admin/connections/new", content);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var edit = await GetPageAsync(_admin, response.Headers.Location!.PathAndQuery);
        var certificates = edit.QuerySelector("[data-testid=ca-certificates]")!.TextContent;
        Assert.Contains("CN=Corp Root CA", certificates, StringComparison.Ordinal);
        Assert.Contains("2030-01-02", certificates, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(PortalRoles.Security)]
    [InlineData(PortalRoles.Developer)]
    [InlineData(PortalRoles.Viewer)]
    public async Task Only_Admins_Reach_The_Connection_Screens(string role)
    {
        var id = await CreateAsync(_admin, "harbor-prod", "S3cret-Value-1");
        var token = await PortalApplication.GetAntiforgeryTokenAsync(_admin, "/admin/connections/new");
        using var other = _app.CreateClientWithCookies();
        await _app.SignInAsAsync(other, "bob", role);

        foreach (var path in new[] { "/admin/connections", "/admin/connections/new", $"/admin/connections/{id}" })
        {
            using var get = await other.GetAsync(path);
            Assert.Equal(HttpStatusCode.Forbidden, get.StatusCode);
        }

        using var post = await other.PostAsync($"/admin/connections/{id}", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token,
            ["_handler"] = "delete-connection",
            ["Delete.Findings"] = "Purge",
        }));
        Assert.Equal(HttpStatusCode.Forbidden, post.StatusCode);
        await using var db = _app.CreateDbContext();
        Assert.True(await db.HarborConnections.AnyAsync());
    }

    [Theory]
    [InlineData("connection-form")]
    [InlineData("rotate-form")]
    [InlineData("delete-form")]
    public async Task Forms_Without_An_Antiforgery_Token_Are_Rejected(string form)
    {
        var id = await CreateAsync(_admin, "harbor-prod", "S3cret-Value-1");
        var fields = form switch
        {
            "connection-form" => NewConnection("renamed", "Other-Secret-9"),
            "rotate-form" => new Dictionary<string, string> { ["Rotate.Secret"] = "Other-Secret-9" },
            _ => new Dictionary<string, string> { ["Delete.Findings"] = "Purge" },
        };
        fields["__RequestVerificationToken"] = "";

        using var response = await PostFormAsync(_admin, $"/admin/connections/{id}", form, fields);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var connection = await FindAsync(id);
        Assert.Equal("harbor-prod", connection.Name);
        Assert.Equal("S3cret-Value-1", Secrets.Unprotect(connection));
    }

    [Fact]
    public async Task An_Unknown_Connection_Is_Not_Found()
    {
        using var response = await _admin.GetAsync("/admin/connections/999");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task The_Admin_Menu_Links_To_Connections()
    {
        var page = await GetPageAsync(_admin, "/");

        Assert.NotNull(page.QuerySelector("[data-testid=nav] a[href='/admin/connections']"));
    }

    private ConnectionSecrets Secrets => _app.Services.GetRequiredService<ConnectionSecrets>();

    private async Task<HarborConnection> FindAsync(long id)
    {
        await using var db = _app.CreateDbContext();
        return await db.HarborConnections.SingleAsync(c => c.Id == id);
    }

    private async Task<HarborPortal.Features.Audit.AuditEvent> LastAuditAsync(string action)
    {
        await using var db = _app.CreateDbContext();
        return await db.AuditEvents.Where(e => e.Action == action).OrderByDescending(e => e.Id).FirstAsync();
    }
}
