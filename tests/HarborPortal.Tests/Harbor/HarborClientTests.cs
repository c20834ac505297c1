using System.Collections.Concurrent;
using HarborPortal.Harbor;
using HarborPortal.HarborSimulator;
using HarborPortal.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sim = HarborPortal.HarborSimulator.HarborSimulator;
using static HarborPortal.Tests.Infrastructure.SimulatorConnections;

namespace HarborPortal.Tests.Harbor;

// Against the simulator over real HTTP(S); never a mocked HttpClient.
public sealed class HarborClientTests : IAsyncLifetime
{
    private const string PortalSecret = DefaultScenario.PortalRobotSecret;
    private readonly ConcurrentQueue<CapturedLog> _logs = new();
    private ServiceProvider _services = null!;
    private HarborClient _client = null!;

    public Task InitializeAsync()
    {
        _services = new ServiceCollection()
            .AddLogging(logging => logging.SetMinimumLevel(LogLevel.Trace).AddProvider(new CapturingLoggerProvider(_logs, null)))
            .AddHarborClient(options => options.RetryBaseDelay = TimeSpan.FromMilliseconds(20))
            .BuildServiceProvider();
        _client = _services.GetRequiredService<HarborClient>();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _services.DisposeAsync();

    [Fact]
    public async Task Lists_Return_Everything_Across_Pages()
    {
        await using var simulator = await Sim.StartAsync(new HarborSimulatorOptions { Scenario = "large" });
        simulator.AddProject("big");
        for (var r = 0; r < 130; r++)
        {
            simulator.AddRepository($"big/group/repo-{r:000}");
        }

        for (var a = 0; a < 120; a++)
        {
            simulator.AddArtifact("big/group/repo-000", $"1.0.{a}");
        }

        var projects = (await _client.ListProjectsAsync(Robot(simulator))).GetValueOrThrow();
        var repositories = (await _client.ListRepositoriesAsync(Robot(simulator), "big")).GetValueOrThrow();
        var artifacts = (await _client.ListArtifactsAsync(Robot(simulator), "big", "group/repo-000")).GetValueOrThrow();

        Assert.Equal(121, projects.Count);
        Assert.Equal(121, projects.Select(p => p.Name).Distinct().Count());
        Assert.Equal(130, repositories.Count);
        Assert.Equal(120, artifacts.Count);
        Assert.Contains(simulator.Requests, r => r.RawTarget.Contains("page=2&page_size=100", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Nested_Repository_Round_Trips_To_Artifacts_And_Report()
    {
        await using var simulator = await Sim.StartAsync();
        var settings = Robot(simulator);

        var repository = Assert.Single((await _client.ListRepositoriesAsync(settings, "team")).GetValueOrThrow());
        Assert.Equal("team/app/api", repository.Name);
        var artifacts = (await _client.ListArtifactsAsync(settings, repository.ProjectName, repository.NameInProject)).GetValueOrThrow();
        var report = (await _client.GetVulnerabilityReportAsync(settings, "team", repository.NameInProject, artifacts[^1].Digest)).GetValueOrThrow();

        Assert.Equal(2, artifacts.Count);
        Assert.Equal("Success", artifacts[0].Overview?.ScanStatus);
        Assert.True(artifacts[0].IsIndex);
        Assert.NotNull(report);
        Assert.Equal(HarborReportTypes.Generic11, report.MimeType);
        Assert.Equal(4, report.Vulnerabilities?.Count);
        Assert.Contains(simulator.Requests, r => r.RawTarget.Contains("app%252Fapi", StringComparison.Ordinal)
            && r.Headers["X-Accept-Vulnerabilities"] == HarborReportTypes.AcceptBoth
            && r.Headers["User-Agent"].StartsWith("HarborPortal/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task One_Artifact_Is_Read_By_Digest_Or_Tag_In_A_Nested_Repository_And_A_Missing_One_Is_Not_Found()
    {
        await using var simulator = await Sim.StartAsync();
        var settings = Robot(simulator);
        var listed = (await _client.ListArtifactsAsync(settings, "team", "app/api")).GetValueOrThrow();

        var byDigest = (await _client.GetArtifactAsync(settings, "team", "app/api", listed[^1].Digest)).GetValueOrThrow();
        var byTag = (await _client.GetArtifactAsync(settings, "team", "app/api", "2.0.0-multiarch")).GetValueOrThrow();
        var missing = await _client.GetArtifactAsync(settings, "team", "app/api", "sha256:" + new string('0', 64));

        Assert.Equal(listed[^1].Digest, byDigest.Digest);
        Assert.Equal("Success", byDigest.Overview?.ScanStatus);
        Assert.Contains(byDigest.Tags!, t => t.Name == "latest");
        Assert.True(byTag.IsIndex);
        Assert.IsType<HarborNotFound>(missing.Failure);
        Assert.Contains(simulator.Requests, r => r.RawTarget.StartsWith($"/api/v2.0/projects/team/repositories/app%252Fapi/artifacts/{Uri.EscapeDataString(listed[^1].Digest)}?", StringComparison.Ordinal)
            && r.RawTarget.Contains("with_scan_overview=true", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Report_Absent_Reads_As_Null_And_Zero_Dates_As_Null()
    {
        await using var simulator = await Sim.StartAsync();
        var settings = Robot(simulator);

        var artifacts = (await _client.ListArtifactsAsync(settings, "team-a", "payments-api")).GetValueOrThrow();
        var untagged = artifacts.Single(a => a.Tags is null);
        var report = (await _client.GetVulnerabilityReportAsync(settings, "team-a", "payments-api", untagged.Digest)).GetValueOrThrow();

        Assert.Null(untagged.PullTime);
        Assert.Null(untagged.Overview);
        Assert.Null(report);
    }

    [Fact]
    public async Task Private_Ca_Is_Untrusted_Without_The_Pem_And_Trusted_With_It()
    {
        await using var simulator = await Sim.StartAsync(new HarborSimulatorOptions { Https = true });

        var untrusted = await _client.PingAsync(Robot(simulator) with { CaCertificatePem = null });
        var trusted = await _client.PingAsync(Robot(simulator));

        var tls = Assert.IsType<HarborTlsFailure>(untrusted.Failure);
        Assert.Contains("UntrustedRoot", tls.Reason, StringComparison.Ordinal);
        Assert.Equal("Pong", trusted.GetValueOrThrow());
    }

    [Fact]
    public async Task Http_Url_Is_Refused_Unless_Insecure_Http_Is_Allowed()
    {
        await using var simulator = await Sim.StartAsync();

        var refused = await _client.PingAsync(Robot(simulator) with { AllowInsecureHttp = false });

        Assert.IsType<HarborInsecureUrlRefused>(refused.Failure);
        Assert.Empty(simulator.Requests);
    }

    [Fact]
    public async Task Two_500s_Then_Success_Succeeds_Through_Retries()
    {
        await using var simulator = await Sim.StartAsync();
        simulator.Faults.FailNext(2, 500);

        var result = await _client.GetProjectAsync(Robot(simulator), "team-a");

        Assert.Equal("team-a", result.GetValueOrThrow().Name);
        Assert.Equal(3, simulator.Requests.Count);
    }

    [Fact]
    public async Task Persistent_500s_And_Connection_Resets_Become_Failures_After_Three_Attempts()
    {
        await using var simulator = await Sim.StartAsync();
        simulator.Faults.FailNext(5, 503);
        var failed = await _client.PingAsync(Robot(simulator));
        simulator.Faults.Clear();
        simulator.Faults.ResetConnections(2);
        var reset = await _client.PingAsync(Robot(simulator));

        var error = Assert.IsType<HarborServerError>(failed.Failure);
        Assert.Equal(503, error.Status);
        Assert.Equal("internal server error", error.HarborMessage);
        Assert.Equal("Pong", reset.GetValueOrThrow());
    }

    [Fact]
    public async Task A_Harbor_That_Never_Answers_Times_Out()
    {
        await using var simulator = await Sim.StartAsync();
        simulator.Faults.Latency(TimeSpan.FromSeconds(30));

        var result = await _client.PingAsync(Robot(simulator) with { Timeout = TimeSpan.FromMilliseconds(300) });

        Assert.IsType<HarborTimedOut>(result.Failure);
    }

    [Fact]
    public async Task Wrong_Secret_Shows_Anonymous_Semantics()
    {
        await using var simulator = await Sim.StartAsync();
        var wrong = Robot(simulator, secret: "not-the-secret");

        var projects = (await _client.ListProjectsAsync(wrong)).GetValueOrThrow();
        var permissions = await _client.GetCurrentPermissionsAsync(wrong);
        var info = (await _client.GetSystemInfoAsync(wrong)).GetValueOrThrow();

        Assert.Equal(["library"], projects.Select(p => p.Name));
        Assert.True(projects[0].IsPublic);
        Assert.IsType<HarborUnauthorized>(permissions.Failure);
        Assert.Null(info.ExternalUrl);
    }

    [Fact]
    public async Task Current_User_Is_A_Robot_Or_A_Profile()
    {
        await using var simulator = await Sim.StartAsync();

        var robot = (await _client.GetCurrentUserAsync(Robot(simulator))).GetValueOrThrow();
        var admin = (await _client.GetCurrentUserAsync(Robot(simulator) with { AuthKind = HarborAuthKind.User, UserName = "admin", Secret = "Harbor12345" })).GetValueOrThrow();
        var permissions = (await _client.GetCurrentPermissionsAsync(Robot(simulator), "/system", relative: true)).GetValueOrThrow();

        Assert.True(robot.IsRobot);
        Assert.Null(robot.User);
        Assert.True(admin.User?.SysadminFlag);
        Assert.Contains(new HarborPermission("project", "list"), permissions);
    }

    [Fact]
    public async Task Missing_Artifact_Addition_Read_Is_Forbidden_With_The_Permission_Named()
    {
        await using var simulator = await Sim.StartAsync();

        var result = await _client.GetVulnerabilityReportAsync(Robot(simulator, "robot$no-additions", "NoAdditionsSecret1234567890abcDE"), "team-a", "payments-api", "1.8.2");

        var forbidden = Assert.IsType<HarborForbidden>(result.Failure);
        Assert.Equal("artifact-addition:read", forbidden.RequiredPermission);
        Assert.Equal(403, Assert.Throws<HarborApiException>(() => result.GetValueOrThrow()).Status);
    }

    [Fact]
    public async Task Scan_Is_Accepted_And_Posture_Reads_Work()
    {
        await using var simulator = await Sim.StartAsync();
        var settings = Robot(simulator);

        var scan = await _client.ScanArtifactAsync(settings, "team-a", "payments-api", "1.8.1");
        var gc = (await _client.GetGcScheduleAsync(settings)).GetValueOrThrow();
        var scanAll = (await _client.GetScanAllScheduleAsync(settings)).GetValueOrThrow();
        var robots = (await _client.ListSystemRobotsAsync(settings)).GetValueOrThrow();
        var projectRobots = (await _client.ListProjectRobotsAsync(settings, 2)).GetValueOrThrow();
        var retention = (await _client.GetRetentionPolicyAsync(settings, 3)).GetValueOrThrow();
        var configurations = await _client.GetConfigurationsAsync(settings);
        simulator.Mutate(s => s.GcSchedule = null);
        var noGc = (await _client.GetGcScheduleAsync(settings)).GetValueOrThrow();

        Assert.True(scan.IsSuccess);
        Assert.Equal("0 0 0 * * 6", gc.JobKind);
        Assert.Null(scanAll.Schedule?.NextScheduledTime);
        Assert.Contains(robots, r => r.Name == "robot$harbor-portal" && r.ExpiresAtTime is null);
        Assert.Equal(2, projectRobots.Count);
        Assert.Equal(3, retention.Id);
        Assert.IsType<HarborForbidden>(configurations.Failure);
        Assert.Null(noGc);
    }

    [Fact]
    public async Task At_Most_Max_Concurrency_Requests_Are_In_Flight()
    {
        await using var simulator = await Sim.StartAsync();
        simulator.Faults.Latency(TimeSpan.FromMilliseconds(100));
        var settings = Robot(simulator) with { MaxConcurrency = 2 };

        var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => _client.PingAsync(settings)));

        Assert.All(results, r => Assert.True(r.IsSuccess));
        Assert.Equal(2, simulator.MaxConcurrentRequests);
    }

    [Fact]
    public async Task No_Secret_Reaches_The_Logs()
    {
        await using var simulator = await Sim.StartAsync();
        await using var https = await Sim.StartAsync(new HarborSimulatorOptions { Https = true });
        simulator.Faults.FailNext(3, 500);
        var settings = Robot(simulator);

        await _client.PingAsync(settings);
        await _client.GetCurrentPermissionsAsync(settings with { Secret = "WrongSecret-4242" });
        await _client.PingAsync(Robot(https) with { CaCertificatePem = null });

        Assert.NotEmpty(_logs);
        Assert.DoesNotContain(_logs, l => l.Message.Contains(PortalSecret, StringComparison.Ordinal) || l.Message.Contains("WrongSecret-4242", StringComparison.Ordinal)
            || l.Message.Contains("Basic ", StringComparison.Ordinal));
        Assert.DoesNotContain(PortalSecret, settings.ToString(), StringComparison.Ordinal);
    }
}

public sealed class HarborClientAllowListTests
{
    [Theory]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public async Task Every_Connection_Is_Checked_Against_The_Allowed_Targets_After_Dns(bool allowLoopback, bool reached)
    {
        await using var simulator = await Sim.StartAsync();
        await using var services = new ServiceCollection()
            .AddLogging()
            .AddHarborClient(options =>
            {
                options.RetryBaseDelay = TimeSpan.FromMilliseconds(10);
                options.AllowTarget = address => allowLoopback && System.Net.IPAddress.IsLoopback(address);
            })
            .BuildServiceProvider();
        var client = services.GetRequiredService<HarborClient>();
        // "localhost" is resolved by DNS first: the check sees the address the socket would use.
        var settings = new HarborConnectionSettings
        {
            BaseUrl = new Uri($"http://localhost:{simulator.BaseAddress.Port}/"),
            UserName = "robot$harbor-portal",
            Secret = "irrelevant",
            AllowInsecureHttp = true,
        };

        var ping = await client.PingAsync(settings);

        Assert.Equal(reached, ping.IsSuccess);
        Assert.Equal(reached, simulator.Requests.Count > 0);
        if (!reached)
        {
            Assert.IsType<HarborUnreachable>(ping.Failure);
        }
    }
}
