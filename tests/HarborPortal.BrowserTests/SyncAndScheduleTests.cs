using System.Text.RegularExpressions;
using HarborPortal.BrowserTests.Infrastructure;
using HarborPortal.BrowserTests.Pages;
using HarborPortal.HarborSimulator;
using HarborPortal.Tests.Infrastructure;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace HarborPortal.BrowserTests;

/// <summary>An admin schedules a simulator connection's syncs and runs one by hand, watching it live.</summary>
[Collection(PortalCollection.Name)]
public sealed partial class SyncAndScheduleTests(PortalServerFixture server, BrowserFixture browser, ITestOutputHelper output)
    : BrowserTest(server, browser, output), IAsyncLifetime
{
    private HarborSimulator.HarborSimulator _harbor = null!;

    public async Task InitializeAsync() => _harbor = await HarborSimulator.HarborSimulator.StartAsync(new HarborSimulatorOptions { Https = true });

    public async Task DisposeAsync() => await _harbor.DisposeAsync();

    [Fact]
    public Task Admin_Sets_A_Daily_Schedule_Sees_The_Next_Fire_Times_And_Watches_A_Scan_Finish() => WithPageAsync(async page =>
    {
        var admin = IdentityProviderFixture.User("akadmin");
        await (await LoginPage.OpenAsync(page)).LogInViaAuthentikAsync(admin.Username, admin.Password);
        var connections = await ConnectionPage.OpenListAsync(page);
        await connections.RegisterAsync("harbor-scheduled", _harbor.BaseAddress.ToString(), DefaultScenario.PortalRobot, DefaultScenario.PortalRobotSecret, _harbor.CaCertificatePem);
        // Saving verifies connectivity; when that ends the page reloads itself, which must not race the schedule form.
        await Expect(connections.VerificationState).ToContainTextAsync("✓ verified", new() { Timeout = 30_000 });
        var sync = new ConnectionSyncPanel(page);

        await sync.SetDailyScheduleAsync("02:30");

        await Expect(sync.ScheduleSaved).ToBeVisibleAsync();
        await Expect(sync.CurrentSchedule).ToHaveTextAsync("Daily at 02:30 (UTC)");
        await Expect(sync.NextFireTimes).ToHaveCountAsync(3);
        foreach (var fire in await sync.NextFireTimes.AllTextContentsAsync())
        {
            Assert.Matches(DailyFire(), fire.Trim());
        }

        await Expect(sync.TimeZone).ToContainTextAsync("UTC");
        await Expect(page.Locator("#schedule-daily")).ToBeCheckedAsync();

        // A slow Harbor keeps the run going past the page load, so the progress fragment has to poll until it ends.
        _harbor.Faults.Latency(TimeSpan.FromMilliseconds(150));
        var runId = await sync.ScanNowAsync();

        await Expect(sync.HistoryRun(runId)).ToHaveAttributeAsync("data-status", "succeeded", new() { Timeout = 60_000 });
        await Expect(sync.Progress).ToHaveCountAsync(0);
        await Expect(sync.HistoryRun(runId).GetByTestId("sync-run-trigger")).ToHaveTextAsync("Manual");
        await Expect(sync.HistoryRun(runId).GetByTestId("sync-run-findings")).Not.ToHaveTextAsync(new Regex(@"^\s*0 /"));
        _harbor.Faults.Clear();
    });

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2} 02:30 (Mon|Tue|Wed|Thu|Fri|Sat|Sun) UTC$")]
    private static partial Regex DailyFire();
}
