using HarborPortal.BrowserTests.Infrastructure;
using HarborPortal.BrowserTests.Pages;
using HarborPortal.Features.Locations;
using HarborPortal.HarborSimulator;
using HarborPortal.Tests.Infrastructure;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace HarborPortal.BrowserTests;

/// <summary>
/// The README's screenshots, taken from the real portal at 1280×800 into <c>docs/screenshots/</c>. Values that
/// change on every run (times, request ids) are pinned first, so that a re-run leaves the committed images alone.
/// </summary>
[Collection(PortalCollection.Name)]
public sealed class DocsScreenshots(PortalServerFixture server, BrowserFixture browser, ITestOutputHelper output)
    : BrowserTest(server, browser, output)
{
    [Fact]
    public Task Login() => WithPageAsync(async page =>
    {
        await LoginPage.OpenAsync(page);
        await SaveAsync(page, "login");
    });

    [Fact]
    public Task Admin_Dashboard_And_Jobs() => WithPageAsync(async page =>
    {
        var admin = IdentityProviderFixture.User("akadmin");
        var shell = await (await LoginPage.OpenAsync(page)).LogInViaAuthentikAsync(admin.Username, admin.Password);
        await SaveAsync(page, "dashboard-admin");

        var jobs = await shell.OpenJobsAsync();
        await Expect(jobs.Table).ToBeVisibleAsync();
        await jobs.Table.Locator("td").EvaluateAllAsync<int>(
            """cells => cells.filter(c => /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/.test(c.textContent.trim())).map(c => c.textContent = '2026-01-01 06:00:00').length""");
        await SaveAsync(page, "jobs");
    });

    [Fact]
    public Task Access_Denied() => WithPageAsync(async page =>
    {
        var developer = IdentityProviderFixture.User("dev");
        await (await LoginPage.OpenAsync(page)).LogInViaAuthentikAsync(developer.Username, developer.Password);
        await page.GotoAsync("/admin/connections");
        var status = new StatusPage(page);
        await Expect(status.Root).ToBeVisibleAsync();
        await status.Root.Locator("code").EvaluateAllAsync<int>("codes => codes.map(c => c.textContent = '00-4f1c2a9e0d3b47c8a6e5f7d2c1b0a9e8-3c2b1a0f9e8d7c6b-01').length");
        await SaveAsync(page, "access-denied");
    });

    [Fact]
    public Task Scanned_Locations() => WithPageAsync(async page =>
    {
        await using var harbor = await HarborSimulator.HarborSimulator.StartAsync(new HarborSimulatorOptions { Https = true });
        var id = await SimulatorConnection.AddAsync(Server, harbor, "harbor-prod-locations", new ScanLocations
        {
            AllProjects = false,
            Projects = [new ProjectLocation { Name = "team-a", Exclude = ["tools/*"] }, new ProjectLocation { Name = "team", Include = ["app/**"] }],
            Artifacts = new ArtifactPolicy { Kind = ArtifactPolicyKind.LatestPerRepository, LatestCount = 3 },
        });
        var admin = IdentityProviderFixture.User("akadmin");
        await (await LoginPage.OpenAsync(page)).LogInViaAuthentikAsync(admin.Username, admin.Password);
        await page.GotoAsync($"/admin/connections/{id}/locations?expand=team-a");
        var locations = new LocationsEditorPage(page);
        await Expect(locations.PreviewArtifacts).ToBeVisibleAsync();
        await Expect(locations.MatchHint("team-a")).ToBeVisibleAsync();
        await Expect(locations.MatchHint("team")).ToBeVisibleAsync();
        await page.GetByTestId("preview-result").Locator("p.small").EvaluateAllAsync<int>("ps => ps.map(p => p.textContent = 'Counted in 0.1 s, with the rules the sync applies.').length");
        await SaveAsync(page, "locations");
    });

    private async Task SaveAsync(IPage page, string name)
    {
        // Fonts and icons finish loading after the load event.
        await page.EvaluateAsync("() => document.fonts.ready");
        var path = Path.Combine(RepositoryPaths.DocsScreenshots, name + ".png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, Animations = ScreenshotAnimations.Disabled, Caret = ScreenshotCaret.Hide });
        Output.WriteLine($"[docs] {path}");
    }
}
