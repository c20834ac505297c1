using HarborPortal.BrowserTests.Infrastructure;
using HarborPortal.BrowserTests.Pages;
using HarborPortal.HarborSimulator;
using HarborPortal.Tests.Infrastructure;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace HarborPortal.BrowserTests;

/// <summary>An admin chooses what a simulator connection scans, with htmx doing the searching, ticking, counting.</summary>
[Collection(PortalCollection.Name)]
public sealed class LocationsTests(PortalServerFixture server, BrowserFixture browser, ITestOutputHelper output)
    : BrowserTest(server, browser, output), IAsyncLifetime
{
    private HarborSimulator.HarborSimulator _harbor = null!;
    private long _connectionId;

    public async Task InitializeAsync()
    {
        _harbor = await HarborSimulator.HarborSimulator.StartAsync(new HarborSimulatorOptions { Https = true });
        _connectionId = await SimulatorConnection.AddAsync(Server, _harbor, $"harbor-locations-{Guid.NewGuid():n}"[..24]);
    }

    public async Task DisposeAsync() => await _harbor.DisposeAsync();

    [Fact]
    public Task Admin_Narrows_A_Connection_To_One_Project_Without_Its_Tools_And_The_Latest_Artifact() => WithPageAsync(async page =>
    {
        var admin = IdentityProviderFixture.User("akadmin");
        await (await LoginPage.OpenAsync(page)).LogInViaAuthentikAsync(admin.Username, admin.Password);
        var locations = await LocationsEditorPage.OpenAsync(page, _connectionId);
        await Expect(locations.TreeProjects).ToHaveCountAsync(4);
        await Expect(locations.PreviewArtifacts).ToHaveAttributeAsync("data-count", "6");

        await locations.SearchAsync("team-");
        await Expect(locations.TreeProjects).ToHaveCountAsync(1);
        await locations.ChooseAsync("team-a");
        await Expect(locations.Listed("team-a")).ToBeVisibleAsync();
        await locations.OnlyListedProjectsAsync();
        await locations.ExcludeAsync("team-a", "tools/*");
        await Expect(locations.MatchHint("team-a")).ToHaveTextAsync("matches 1 of 2 repositories");
        await locations.LatestPerRepositoryAsync(1);

        await Expect(locations.PreviewRepositories).ToHaveAttributeAsync("data-count", "1");
        await Expect(locations.PreviewArtifacts).ToHaveAttributeAsync("data-count", "1");

        await locations.SaveAsync();
        await Expect(locations.Saved).ToContainTextAsync("1 project (team-a) · latest 1 per repository");

        await page.ReloadAsync();
        await Expect(locations.ListedProjects).ToHaveCountAsync(1);
        await Expect(locations.ExcludePatterns("team-a")).ToHaveValueAsync("tools/*");
        await Expect(locations.LatestCount).ToHaveValueAsync("1");
        await Expect(locations.OnlyListedProjects).ToBeCheckedAsync();
        await Expect(locations.PreviewArtifacts).ToHaveAttributeAsync("data-count", "1");
    });
}
