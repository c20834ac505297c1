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
    private const string RobotSecret = "PortalSecret1234567890abcdefABCD";

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

        await ConnectionPage.OpenListAsync(page);
        await Expect(connections.Table).ToContainTextAsync("harbor-browser");
        await Expect(connections.Table).ToContainTextAsync(_harbor.BaseAddress.Host);
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
    });
}
