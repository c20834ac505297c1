using System.Collections.Concurrent;
using HarborPortal.Features.Connections;
using HarborPortal.Harbor;
using HarborPortal.HarborSimulator;
using HarborPortal.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sim = HarborPortal.HarborSimulator.HarborSimulator;
using static HarborPortal.Tests.Infrastructure.SimulatorConnections;

namespace HarborPortal.Tests.Features.Connections;

// The checklist against the simulator over real HTTP(S): each failure mode gets its own step and hint.
public sealed class VerificationChecklistTests : IAsyncLifetime
{
    private const string PortalSecret = DefaultScenario.PortalRobotSecret;
    private readonly ConcurrentQueue<CapturedLog> _logs = new();
    private ServiceProvider _services = null!;
    private ConnectivityCheck _check = null!;

    public Task InitializeAsync()
    {
        var services = new ServiceCollection()
            .AddLogging(logging => logging.SetMinimumLevel(LogLevel.Trace).AddProvider(new CapturingLoggerProvider(_logs, null)))
            .AddHarborClient(options => options.RetryBaseDelay = TimeSpan.FromMilliseconds(20));
        services.AddOptions<ConnectionsOptions>();
        services.AddSingleton<OutboundAllowList>();
        services.AddSingleton<ConnectivityCheck>();
        _services = services.BuildServiceProvider();
        _check = _services.GetRequiredService<ConnectivityCheck>();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _services.DisposeAsync();

    private Task<ConnectivityReport> RunAsync(HarborConnectionSettings settings) => _check.RunAsync(new ConnectivityTarget(settings));

    private static CheckStep Step(ConnectivityReport report, string name) => report.Steps.Single(s => s.Name == name);

    private static void AssertFailsWithHint(ConnectivityReport report, string step, string hint)
    {
        var failed = Step(report, step);
        Assert.True(failed.Outcome == CheckOutcome.Failed, $"{step} should fail: {failed.Detail}");
        Assert.Contains(hint, failed.Hint, StringComparison.Ordinal);
        Assert.False(report.Ok);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_Good_Robot_Gets_An_All_Green_Checklist_That_Proves_Who_It_Is(bool https)
    {
        await using var simulator = await Sim.StartAsync(new HarborSimulatorOptions { Https = https });

        var report = await RunAsync(Robot(simulator));

        Assert.True(report.Ok, string.Join("\n", report.Steps.Select(s => $"{s.Name} {s.Outcome} {s.Detail} {s.Hint}")));
        Assert.Equal(ConnectivityCheck.Steps.All, report.Steps.Select(s => s.Name));
        Assert.DoesNotContain(report.Steps, s => s.Outcome is CheckOutcome.Failed or CheckOutcome.Skipped);
        Assert.Equal(https ? CheckOutcome.Passed : CheckOutcome.Info, Step(report, ConnectivityCheck.Steps.Tls).Outcome);
        if (https)
        {
            Assert.Contains("days left", Step(report, ConnectivityCheck.Steps.Tls).Detail, StringComparison.Ordinal);
        }

        Assert.Contains("v2.11.0", Step(report, ConnectivityCheck.Steps.SystemInfo).Detail, StringComparison.Ordinal);
        var authentication = Step(report, ConnectivityCheck.Steps.Authentication).Detail;
        Assert.Contains("robot \"robot$harbor-portal\"", authentication, StringComparison.Ordinal);
        Assert.Contains("never expires", authentication, StringComparison.Ordinal);
        Assert.Contains("private", Step(report, ConnectivityCheck.Steps.Projects).Detail, StringComparison.Ordinal);
        Assert.Equal(CheckOutcome.Passed, Step(report, ConnectivityCheck.Steps.Report).Outcome);
        Assert.Contains("Can trigger scans", Step(report, ConnectivityCheck.Steps.Scan).Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_Project_Robot_Is_Green_And_Its_Expiry_Is_Reported_As_Not_Visible()
    {
        await using var simulator = await Sim.StartAsync();

        var report = await RunAsync(Robot(simulator, "robot$team-a+reader", "ReaderSecret1234567890abcdefABCD"));

        Assert.True(report.Ok, report.Summary);
        Assert.Contains("not visible", Step(report, ConnectivityCheck.Steps.Authentication).Detail, StringComparison.Ordinal);
        Assert.Contains("Cannot trigger scans", Step(report, ConnectivityCheck.Steps.Scan).Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_Name_Without_The_Prefix_Gets_A_Hint_With_The_Full_Name(bool https)
    {
        await using var simulator = await Sim.StartAsync(new HarborSimulatorOptions { Https = https });

        var report = await RunAsync(Robot(simulator, "harbor-portal"));

        AssertFailsWithHint(report, ConnectivityCheck.Steps.Authentication, "\"robot$harbor-portal\"");
        Assert.Equal(CheckOutcome.Skipped, Step(report, ConnectivityCheck.Steps.Projects).Outcome);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_Wrong_Secret_Is_Red_Although_Harbor_Answers_200_With_Public_Projects(bool https)
    {
        await using var simulator = await Sim.StartAsync(new HarborSimulatorOptions { Https = https });
        var settings = Robot(simulator, secret: "WrongSecret1234567890abcdefABCDE");

        var anonymous = (await _services.GetRequiredService<HarborClient>().ListProjectsAsync(settings)).GetValueOrThrow();
        var report = await RunAsync(settings);

        Assert.All(anonymous, p => Assert.True(p.IsPublic));
        Assert.Equal(CheckOutcome.Passed, Step(report, ConnectivityCheck.Steps.Ping).Outcome);
        AssertFailsWithHint(report, ConnectivityCheck.Steps.Authentication, "Wrong or expired secret");
        Assert.Contains("the test passed yesterday, the sync 401s today", Step(report, ConnectivityCheck.Steps.Authentication).Hint, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_Expired_Robot_Gets_The_Expired_Secret_Hint()
    {
        await using var simulator = await Sim.StartAsync();
        simulator.ExpireRobot("harbor-portal");

        var expiredNow = await RunAsync(Robot(simulator));
        var expiredLongAgo = await RunAsync(Robot(simulator, "robot$team-a+ci-old", "ExpiredSecret123456789abcdefABCD"));

        AssertFailsWithHint(expiredNow, ConnectivityCheck.Steps.Authentication, "robots expire");
        AssertFailsWithHint(expiredLongAgo, ConnectivityCheck.Steps.Authentication, "robots expire");
    }

    [Fact]
    public async Task A_Robot_Without_Artifact_Addition_Read_Cannot_Read_The_Report()
    {
        await using var simulator = await Sim.StartAsync(new HarborSimulatorOptions { Https = true });

        var report = await RunAsync(Robot(simulator, "robot$no-additions", "NoAdditionsSecret1234567890abcDE"));

        Assert.Equal(CheckOutcome.Passed, Step(report, ConnectivityCheck.Steps.Authentication).Outcome);
        Assert.Equal(CheckOutcome.Passed, Step(report, ConnectivityCheck.Steps.Artifacts).Outcome);
        AssertFailsWithHint(report, ConnectivityCheck.Steps.Report, "lacks artifact-addition read");
    }

    [Fact]
    public async Task A_System_Robot_Without_The_Project_Selector_Sees_Only_Public_Projects()
    {
        await using var simulator = await Sim.StartAsync();

        var report = await RunAsync(Robot(simulator, "robot$no-selector", "NoSelectorSecret1234567890abcDEF"));

        Assert.Equal(CheckOutcome.Passed, Step(report, ConnectivityCheck.Steps.Authentication).Outcome);
        AssertFailsWithHint(report, ConnectivityCheck.Steps.Projects, "missing the \"*\" project selector");
        Assert.Contains("0 private", Step(report, ConnectivityCheck.Steps.Projects).Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_Untrusted_Private_Ca_Is_Red_Until_It_Is_Uploaded()
    {
        await using var simulator = await Sim.StartAsync(new HarborSimulatorOptions { Https = true });

        var untrusted = await RunAsync(Robot(simulator) with { CaCertificatePem = null });
        var trusted = await RunAsync(Robot(simulator));

        AssertFailsWithHint(untrusted, ConnectivityCheck.Steps.Tls, "Upload the private CA");
        Assert.Contains("UntrustedRoot", Step(untrusted, ConnectivityCheck.Steps.Tls).Detail, StringComparison.Ordinal);
        Assert.Equal(CheckOutcome.Skipped, Step(untrusted, ConnectivityCheck.Steps.Ping).Outcome);
        Assert.True(trusted.Ok, trusted.Summary);
    }

    [Fact]
    public async Task An_Http_Url_For_An_Https_Harbor_Says_To_Use_Https()
    {
        await using var simulator = await Sim.StartAsync(new HarborSimulatorOptions { Https = true });
        var http = new UriBuilder(simulator.BaseAddress) { Scheme = "http" }.Uri;

        var allowed = await RunAsync(Robot(simulator) with { BaseUrl = http, AllowInsecureHttp = true });
        var refused = await RunAsync(Robot(simulator) with { BaseUrl = http, AllowInsecureHttp = false });

        AssertFailsWithHint(allowed, ConnectivityCheck.Steps.Tls, $"Use https://{http.Authority}");
        AssertFailsWithHint(refused, ConnectivityCheck.Steps.Tls, $"Use https://{http.Authority}");
    }

    [Fact]
    public async Task An_Https_Url_For_A_Plain_Http_Harbor_Says_To_Use_Http()
    {
        await using var simulator = await Sim.StartAsync();
        var https = new UriBuilder(simulator.BaseAddress) { Scheme = "https" }.Uri;

        var report = await RunAsync(Robot(simulator) with { BaseUrl = https, AllowInsecureHttp = false });

        AssertFailsWithHint(report, ConnectivityCheck.Steps.Tls, "This Harbor speaks plain HTTP: use http://");
    }

    [Fact]
    public async Task An_Http_Url_Without_Insecure_Http_Allowed_Is_Refused_Before_Anything_Is_Sent()
    {
        await using var simulator = await Sim.StartAsync();

        var report = await RunAsync(Robot(simulator) with { AllowInsecureHttp = false });

        AssertFailsWithHint(report, ConnectivityCheck.Steps.Tls, "Allow HTTP (insecure)");
        Assert.Empty(simulator.Requests);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Harbor_Answering_500_Then_Recovering_Through_The_Retries_Is_Green(bool https)
    {
        await using var simulator = await Sim.StartAsync(new HarborSimulatorOptions { Https = https });
        simulator.Faults.FailNext(2, 500);

        var report = await RunAsync(Robot(simulator));

        Assert.True(report.Ok, report.Summary);
    }

    [Fact]
    public async Task Harbor_Failing_With_500_After_Every_Retry_Says_So()
    {
        await using var simulator = await Sim.StartAsync();
        simulator.Faults.FailNext(100, 500);

        var report = await RunAsync(Robot(simulator));

        AssertFailsWithHint(report, ConnectivityCheck.Steps.Ping, "Harbor answered HTTP 500 after 3 attempts");
    }

    [Fact]
    public async Task A_Harbor_That_Never_Answers_Times_Out_With_The_Timeout_In_The_Hint()
    {
        await using var simulator = await Sim.StartAsync();
        simulator.Faults.Latency(TimeSpan.FromSeconds(30));

        var report = await RunAsync(Robot(simulator) with { Timeout = TimeSpan.FromMilliseconds(300) });

        Assert.Equal(CheckOutcome.Passed, Step(report, ConnectivityCheck.Steps.DnsTcp).Outcome);
        AssertFailsWithHint(report, ConnectivityCheck.Steps.Ping, "Harbor did not answer within 0.3 s");
        simulator.Faults.Clear();
    }

    [Fact]
    public async Task No_Step_Detail_Or_Log_Line_Carries_The_Secret()
    {
        await using var simulator = await Sim.StartAsync();
        const string wrong = "Wrong-But-Secret-Value-1234567890";

        var good = await RunAsync(Robot(simulator));
        var bad = await RunAsync(Robot(simulator, secret: wrong));

        var text = string.Join("\n", good.Steps.Concat(bad.Steps).Select(s => $"{s.Detail} {s.Hint}")) + string.Join("\n", _logs.Select(l => $"{l.Message} {l.Exception}"));
        Assert.DoesNotContain(PortalSecret, text, StringComparison.Ordinal);
        Assert.DoesNotContain(wrong, text, StringComparison.Ordinal);
    }
}
