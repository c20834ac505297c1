using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using HarborPortal.Features.Auth;
using HarborPortal.Features.Locations;
using HarborPortal.Tests.Features.Auth;
using HarborPortal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Xunit.Abstractions;
using Sim = HarborPortal.HarborSimulator.HarborSimulator;

namespace HarborPortal.Tests.Features.Locations;

public sealed class LocationsApiTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly PortalApplication _app = LocationsTestSupport.CreateApp(output);
    private Sim _simulator = null!;
    private HttpClient _client = null!;
    private string _adminToken = null!;
    private long _connectionId;

    public async Task InitializeAsync()
    {
        _simulator = await Sim.StartAsync();
        _client = _app.CreateClient();
        _adminToken = await ApiTokenTests.CreateTokenAsync(_app, "automation", PortalRoles.Admin);
        _connectionId = await SimulatorConnections.AddAsync(_app.Services, _simulator);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _app.DisposeAsync();
        await _simulator.DisposeAsync();
    }

    [Fact]
    public async Task Get_Gives_The_Default_Until_Something_Is_Saved()
    {
        using var response = await SendAsync(HttpMethod.Get, Path());
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(json.GetProperty("allProjects").GetBoolean());
        Assert.Equal(0, json.GetProperty("projects").GetArrayLength());
        Assert.Equal("AllTagged", json.GetProperty("artifacts").GetProperty("kind").GetString());
        Assert.False(json.GetProperty("artifacts").GetProperty("includeUntagged").GetBoolean());
    }

    [Fact]
    public async Task Put_Saves_A_Valid_Selection_Returns_It_And_Writes_An_Audit_Line()
    {
        const string body = """
            {"allProjects":false,
             "projects":[{"name":"team-a","include":[],"exclude":[" tools/* "]},{"name":"library"}],
             "artifacts":{"kind":"LatestPerRepository","latestCount":5,"tagPattern":"ignored","includeUntagged":true}}
            """;

        using var put = await SendAsync(HttpMethod.Put, Path(), body);
        var saved = JsonDocument.Parse(await put.Content.ReadAsStringAsync()).RootElement;
        using var get = await SendAsync(HttpMethod.Get, Path());
        var read = await get.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal("tools/*", saved.GetProperty("projects")[0].GetProperty("exclude")[0].GetString());
        Assert.Equal(JsonValueKind.Null, saved.GetProperty("artifacts").GetProperty("tagPattern").ValueKind);
        Assert.Equal(saved.GetRawText(), JsonDocument.Parse(read).RootElement.GetRawText());

        await using var db = _app.CreateDbContext();
        var row = await db.ConnectionLocations.SingleAsync();
        Assert.Equal("automation", row.UpdatedBy);
        Assert.Equal(5, row.Selection.Artifacts.LatestCount);
        var audit = await db.AuditEvents.SingleAsync(e => e.Action == LocationsCommands.AuditAction);
        Assert.Equal("sim", audit.Target);
        Assert.Equal("automation", audit.Actor);
        Assert.Equal("projects: all → chosen ones; added team-a, library; team-a: exclude tools/*; artifacts: all tagged artifacts → latest 5 per repository + untagged "
            + "(now: 2 projects · latest 5 per repository + untagged)", audit.Details);
        Assert.True(audit.Succeeded);
    }

    [Fact]
    public async Task Put_Of_An_Invalid_Selection_Is_A_Validation_Problem_And_Saves_Nothing()
    {
        var invalid = new ScanLocations
        {
            AllProjects = false,
            Projects = [new ProjectLocation { Name = "team-a", Include = ["pay ments"] }, new ProjectLocation { Name = "team-a" }],
            Artifacts = new ArtifactPolicy { Kind = ArtifactPolicyKind.LatestPerRepository, LatestCount = 0 },
        };

        using var response = await SendAsync(HttpMethod.Put, Path(), invalid);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = problem.GetProperty("errors").GetProperty(LocationsEndpoints.ErrorKey).EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Equal(
        [
            "Project 'team-a' is listed twice.",
            "Project 'team-a': pattern 'pay ments' contains a space.",
            $"The number of latest artifacts per repository must be between 1 and {ArtifactPolicy.MaxLatestCount}.",
        ], errors);
        await AssertNothingSavedAsync();
    }

    [Theory]
    [InlineData("{\"allProjects\":")]
    [InlineData("{\"artifacts\":{\"kind\":\"Newest\"}}")]
    [InlineData("{\"projects\":[{\"include\":[\"a/*\"]}]}")]
    [InlineData("")]
    public async Task Put_Of_Malformed_Json_Is_A_Bad_Request(string body)
    {
        using var response = await SendAsync(HttpMethod.Put, Path(), body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        await AssertNothingSavedAsync();
    }

    [Fact]
    public async Task An_Unknown_Connection_Is_Not_Found_For_Both()
    {
        using var get = await SendAsync(HttpMethod.Get, "/api/v1/connections/9999/locations");
        using var put = await SendAsync(HttpMethod.Put, "/api/v1/connections/9999/locations", ScanLocations.Everything);

        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, put.StatusCode);
        Assert.Equal("application/problem+json", put.Content.Headers.ContentType?.MediaType);
        await AssertNothingSavedAsync();
    }

    [Fact]
    public async Task A_Signed_In_Admin_Cookie_May_Read_But_Not_Write()
    {
        using var browser = _app.CreateClientWithCookies();
        await _app.SignInAsAsync(browser, "alice", PortalRoles.Admin);

        using var read = await browser.GetAsync(Path());
        using var write = await browser.PutAsJsonAsync(Path(), new ScanLocations { AllProjects = false, Projects = [new ProjectLocation { Name = "team-a" }] });

        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, write.StatusCode);
        await AssertNothingSavedAsync();
    }

    [Theory]
    [InlineData(PortalRoles.Security)]
    [InlineData(PortalRoles.Developer)]
    [InlineData(PortalRoles.Viewer)]
    public async Task Tokens_Of_Other_Roles_Are_Refused(string role)
    {
        var token = await ApiTokenTests.CreateTokenAsync(_app, "someone", role);

        using var read = await ApiTokenTests.SendAsync(_client, HttpMethod.Get, Path(), token);
        using var write = await ApiTokenTests.SendAsync(_client, HttpMethod.Put, Path(), token, ScanLocations.Everything);

        Assert.Equal(HttpStatusCode.Forbidden, read.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, write.StatusCode);
        await AssertNothingSavedAsync();
    }

    [Fact]
    public async Task Without_Credentials_The_Api_Answers_401()
    {
        using var response = await _client.GetAsync(Path());

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    private string Path() => $"/api/v1/connections/{_connectionId}/locations";

    private async Task AssertNothingSavedAsync()
    {
        await using var db = _app.CreateDbContext();
        Assert.False(await db.ConnectionLocations.AnyAsync());
        Assert.False(await db.AuditEvents.AnyAsync(e => e.Action == LocationsCommands.AuditAction));
    }

    private Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, object? body = null)
    {
        if (body is not string text)
        {
            return ApiTokenTests.SendAsync(_client, method, path, _adminToken, body);
        }

        var request = new HttpRequestMessage(method, path) { Content = new StringContent(text, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", _adminToken);
        return _client.SendAsync(request);
    }
}
