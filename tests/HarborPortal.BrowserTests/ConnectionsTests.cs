using HarborPortal.BrowserTests.Infrastructure;
using HarborPortal.BrowserTests.Pages;
using HarborPortal.HarborSimulator;
using HarborPortal.Tests.Infrastructure;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace HarborPortal.BrowserTests;

/// <summary>An admin registers Harbors through the form, against the Harbor simulator over HTTPS with its private CA.</summary>
[Collection(PortalCollection.Name)]
public sealed class ConnectionsTests(PortalServerFixture server, BrowserFixture browser, ITestOutputHelper output)
    : BrowserTest(server, browser, output), IAsyncLifetime
{
    private const string RobotSecret = DefaultScenario.PortalRobotSecret;

    private HarborSimulator.HarborSimulator _harbor = null!;

    public async Task InitializeAsync() => _harbor = await HarborSimulator.HarborSimulator.StartAsync(new HarborSimulatorOptions { Https = true });

    public async Task DisposeAsync() => await _harbor.DisposeAsync();

    [Fact]
    public Task Admin_Registers_A_Harbor_And_Sees_It_In_The_List() => WithPageAsync(async page =>
    {
        var admin = IdentityProviderFixture.User("akadmin");
        await (await LoginPage.OpenAsync(page)).LogInViaAuthentikAsync(admin.Username, admin.Password);
        var connections = await ConnectionPage.OpenListAsync(page);

        await connections.RegisterAsync("harbor-browser", _harbor.BaseAddress.ToString(), "robot$harbor-portal", RobotSecret, _harbor.CaCertificatePem);

        await Expect(connections.Saved).ToBeVisibleAsync();
        await Expect(connections.RobotNameWarning).ToBeHiddenAsync();
        await Expect(page.Locator("#secret")).ToHaveValueAsync("");
        Assert.DoesNotContain(RobotSecret, await page.ContentAsync(), StringComparison.Ordinal);

        // Verify connectivity: the steps appear and turn green while the job runs (htmx polls the fragment).
        // A slow Harbor makes the run (usually) outlast the page load, so the page has to poll.
        _harbor.Faults.Latency(TimeSpan.FromMilliseconds(200));
        await connections.VerifyAsync();
        await Expect(connections.Checklist).ToBeVisibleAsync();
        await Expect(connections.VerificationResult).ToHaveTextAsync("✓ all checks passed", new() { Timeout = 30_000 });
        await Expect(connections.Steps).ToHaveCountAsync(10);
        Assert.DoesNotContain("failed", await connections.Steps.EvaluateAllAsync<string[]>("steps => steps.map(s => s.dataset.outcome)"));
        await Expect(connections.Hints).ToHaveCountAsync(0);
        // When the run ends the page reloads whole, so the status card agrees with the checklist.
        await Expect(connections.VerificationState).ToContainTextAsync("✓ verified");
        _harbor.Faults.Clear();

        await ConnectionPage.OpenListAsync(page);
        await Expect(connections.Table).ToContainTextAsync("harbor-browser");
        await Expect(connections.Table).ToContainTextAsync(_harbor.BaseAddress.Host);
        await Expect(connections.LastVerification("harbor-browser")).ToContainTextAsync("✓");
    });

    [Fact]
    public Task A_Robot_Name_Without_Its_Prefix_Gets_A_Warning_Proposing_The_Full_Name() => WithPageAsync(async page =>
    {
        var admin = IdentityProviderFixture.User("akadmin");
        await (await LoginPage.OpenAsync(page)).LogInViaAuthentikAsync(admin.Username, admin.Password);
        var connections = await ConnectionPage.OpenListAsync(page);

        await connections.RegisterAsync("harbor-no-prefix", _harbor.BaseAddress.ToString(), "harbor-portal", RobotSecret, _harbor.CaCertificatePem);

        await Expect(connections.RobotNameWarning).ToBeVisibleAsync();
        await Expect(connections.RobotNameSuggestion).ToHaveTextAsync("robot$harbor-portal");

        // Harbor treats the prefix-less name as anonymous: the checklist fails at authentication and names the fix.
        await connections.VerifyAsync();
        await Expect(connections.VerificationResult).ToHaveTextAsync("✗ failed", new() { Timeout = 30_000 });
        await Expect(page.Locator("[data-testid=check-step][data-step=Authentication]")).ToHaveAttributeAsync("data-outcome", "failed");
        await Expect(connections.VerificationState).ToContainTextAsync("✗ failed");
        await Expect(connections.Hints.First).ToContainTextAsync("robot$harbor-portal");
    });
}
