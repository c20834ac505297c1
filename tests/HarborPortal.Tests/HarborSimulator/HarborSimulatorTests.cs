using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using HarborPortal.HarborSimulator;
using Sim = HarborPortal.HarborSimulator.HarborSimulator;

namespace HarborPortal.Tests.HarborSimulator;

public sealed class HarborSimulatorTests : IAsyncLifetime
{
    private const string PortalRobot = "robot$harbor-portal";
    private const string PortalSecret = DefaultScenario.PortalRobotSecret;
    private Sim _simulator = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _simulator = await Sim.StartAsync(new HarborSimulatorOptions());
        _http = new HttpClient { BaseAddress = new Uri(_simulator.BaseAddress, "api/v2.0/") };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _simulator.DisposeAsync();
    }

    private async Task<HttpResponseMessage> GetAsync(string path, string? user = null, string? secret = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (user is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{secret}")));
        }

        return await _http.SendAsync(request);
    }

    private static async Task<JsonNode> JsonAsync(HttpResponseMessage response) => JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

    [Fact]
    public async Task Ping_Answers_Pong_As_Text()
    {
        using var response = await GetAsync("ping");
        Assert.Equal("Pong", await response.Content.ReadAsStringAsync());
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.True(response.Headers.Contains("X-Request-Id"));
    }

    [Fact]
    public async Task Wrong_Secret_Is_Anonymous_And_Sees_Only_The_Public_Project()
    {
        using var response = await GetAsync("projects", PortalRobot, "wrong");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var names = (await JsonAsync(response)).AsArray().Select(p => p!["name"]!.GetValue<string>());
        Assert.Equal(["library"], names);

        using var permissions = await GetAsync("users/current/permissions?scope=/system", PortalRobot, "wrong");
        Assert.Equal(HttpStatusCode.Unauthorized, permissions.StatusCode);
        Assert.Equal("UNAUTHORIZED", (await JsonAsync(permissions))["errors"]![0]!["code"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("harbor-portal", PortalSecret)]
    [InlineData("robot$team-a+ci-old", "ExpiredSecret123456789abcdefABCD")]
    [InlineData("robot$ci-global", "DisabledSecret1234567890abcdefAB")]
    public async Task Prefixless_Expired_And_Disabled_Robots_Are_Anonymous(string user, string secret)
    {
        using var project = await GetAsync("projects/team-a", user, secret);
        Assert.Equal(HttpStatusCode.Unauthorized, project.StatusCode);
        using var publicProject = await GetAsync("projects/library", user, secret);
        Assert.Equal(HttpStatusCode.OK, publicProject.StatusCode);
    }

    [Fact]
    public async Task Robot_Gets_412_From_Current_User_And_Anonymous_401()
    {
        using var robot = await GetAsync("users/current", PortalRobot, PortalSecret);
        Assert.Equal(HttpStatusCode.PreconditionFailed, robot.StatusCode);
        Assert.Equal("get current user not available for security context: robot", (await JsonAsync(robot))["errors"]![0]!["message"]!.GetValue<string>());
        using var anonymous = await GetAsync("users/current");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        using var admin = await GetAsync("users/current", "admin", "Harbor12345");
        Assert.True((await JsonAsync(admin))["sysadmin_flag"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Project_Robot_Sees_Its_Project_And_Public_Ones_Only()
    {
        using var response = await GetAsync("projects", "robot$team-a+reader", "ReaderSecret1234567890abcdefABCD");
        var names = (await JsonAsync(response)).AsArray().Select(p => p!["name"]!.GetValue<string>());
        Assert.Equal(["library", "team-a"], names);
        using var other = await GetAsync("projects/team/repositories", "robot$team-a+reader", "ReaderSecret1234567890abcdefABCD");
        Assert.Equal(HttpStatusCode.Forbidden, other.StatusCode);
        using var missing = await GetAsync("projects/nope", "robot$team-a+reader", "ReaderSecret1234567890abcdefABCD");
        Assert.Equal(HttpStatusCode.Forbidden, missing.StatusCode);
    }

    [Fact]
    public async Task Robot_Without_Selector_Sees_Only_Public_And_Robot_Without_Addition_Read_Gets_403()
    {
        using var noSelector = await GetAsync("projects", "robot$no-selector", "NoSelectorSecret1234567890abcDEF");
        Assert.Single((await JsonAsync(noSelector)).AsArray());

        using var report = await GetAsync("projects/team-a/repositories/payments-api/artifacts/1.8.2/additions/vulnerabilities", "robot$no-additions", "NoAdditionsSecret1234567890abcDE");
        Assert.Equal(HttpStatusCode.Forbidden, report.StatusCode);
        using var scan = await GetAsync("projects/team-a/repositories/payments-api/artifacts/1.8.2/additions/vulnerabilities", PortalRobot, PortalSecret);
        Assert.Equal(HttpStatusCode.OK, scan.StatusCode);
    }

    [Fact]
    public async Task Lists_Carry_Total_Count_And_Harbors_Link_Header()
    {
        using var response = await GetAsync("projects?page=2&page_size=1&q=name%3D~a", PortalRobot, PortalSecret);
        Assert.Equal("4", response.Headers.GetValues("X-Total-Count").Single());
        Assert.Equal(
            "</api/v2.0/projects?page=1&page_size=1&q=name=~a>; rel=\"prev\" , </api/v2.0/projects?page=3&page_size=1&q=name=~a>; rel=\"next\"",
            response.Headers.GetValues("Link").Single());
        using var tooBig = await GetAsync("projects?page_size=101");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, tooBig.StatusCode);
        using var badQuery = await GetAsync("projects?q=name%3D");
        Assert.Equal(HttpStatusCode.BadRequest, badQuery.StatusCode);
    }

    [Fact]
    public async Task Nested_Repository_Needs_Double_Encoding()
    {
        using var twice = await GetAsync("projects/team/repositories/app%252Fapi/artifacts?with_scan_overview=true", PortalRobot, PortalSecret);
        var artifacts = (await JsonAsync(twice)).AsArray();
        Assert.Equal(2, artifacts.Count);
        Assert.NotNull(artifacts[1]!["scan_overview"]![HarborMimeTypes.Report11]);

        using var once = await GetAsync("projects/team/repositories/app%2Fapi", PortalRobot, PortalSecret);
        Assert.Equal(HttpStatusCode.NotFound, once.StatusCode);
    }

    [Fact]
    public async Task Untagged_Never_Scanned_Artifact_Has_Null_Tags_Zero_Pull_Time_And_No_Overview()
    {
        using var response = await GetAsync("projects/team-a/repositories/payments-api/artifacts?with_scan_overview=true", PortalRobot, PortalSecret);
        var untagged = (await JsonAsync(response)).AsArray().Single(a => a!["id"]!.GetValue<int>() == 38)!.AsObject();
        Assert.True(untagged.ContainsKey("tags"));
        Assert.Null(untagged["tags"]);
        Assert.Equal("0001-01-01T00:00:00.000Z", untagged["pull_time"]!.GetValue<string>());
        Assert.False(untagged.ContainsKey("scan_overview"));
    }

    [Fact]
    public async Task Report_Follows_X_Accept_Vulnerabilities()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "projects/library/repositories/nginx/artifacts/1.27/additions/vulnerabilities");
        request.Headers.TryAddWithoutValidation("X-Accept-Vulnerabilities", HarborMimeTypes.Report10);
        using var onlyOld = await _http.SendAsync(request);
        Assert.Equal("{}", await onlyOld.Content.ReadAsStringAsync());

        using var both = await GetAsync("projects/library/repositories/nginx/artifacts/1.27/additions/vulnerabilities");
        var report = (await JsonAsync(both))[HarborMimeTypes.Report11]!;
        Assert.Equal(3, report["vulnerabilities"]!.AsArray().Count);
    }

    [Fact]
    public async Task Scan_Moves_The_Overview_To_Running_Then_Success()
    {
        using var scan = new HttpRequestMessage(HttpMethod.Post, "projects/team-a/repositories/payments-api/artifacts/1.8.1/scan");
        scan.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{PortalRobot}:{PortalSecret}")));
        using var accepted = await _http.SendAsync(scan);
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);

        async Task<string> StatusAsync()
        {
            using var response = await GetAsync("projects/team-a/repositories/payments-api/artifacts/1.8.1?with_scan_overview=true", PortalRobot, PortalSecret);
            return (await JsonAsync(response))["scan_overview"]![HarborMimeTypes.Report11]!["scan_status"]!.GetValue<string>();
        }

        Assert.Equal("Running", await StatusAsync());
        await Task.Delay(600);
        Assert.Equal("Success", await StatusAsync());
    }

    [Fact]
    public async Task Faults_Fail_Then_Recover_And_State_Changes_Apply()
    {
        _simulator.Faults.FailNext(2, 500);
        using (var first = await GetAsync("ping"))
        {
            Assert.Equal(HttpStatusCode.InternalServerError, first.StatusCode);
            Assert.Equal("internal server error", (await JsonAsync(first))["errors"]![0]!["message"]!.GetValue<string>());
        }

        using (var second = await GetAsync("ping"))
        {
            Assert.Equal(HttpStatusCode.InternalServerError, second.StatusCode);
        }

        using (var third = await GetAsync("ping"))
        {
            Assert.Equal(HttpStatusCode.OK, third.StatusCode);
        }

        _simulator.Faults.ResetConnections(1);
        await Assert.ThrowsAsync<HttpRequestException>(() => GetAsync("ping"));

        _simulator.SetProjectPublic("team-a", true);
        using var projects = await GetAsync("projects");
        Assert.Equal(2, (await JsonAsync(projects)).AsArray().Count);
    }
}
