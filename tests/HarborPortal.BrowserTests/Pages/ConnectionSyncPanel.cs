using Microsoft.Playwright;

namespace HarborPortal.BrowserTests.Pages;

/// <summary>The Sync and Schedule panels on a connection's page (<c>/admin/connections/{id}</c>).</summary>
public sealed class ConnectionSyncPanel(IPage page)
{
    public ILocator ScheduleSaved => page.GetByTestId("schedule-saved");

    public ILocator CurrentSchedule => page.GetByTestId("schedule-current");

    public ILocator NextFireTimes => page.GetByTestId("next-fire-time");

    public ILocator TimeZone => page.GetByTestId("schedule-time-zone");

    public ILocator ScheduleErrors => page.GetByTestId("schedule-errors");

    /// <summary>The run under way: its progress bar, counts and Cancel button.</summary>
    public ILocator Progress => page.GetByTestId("sync-panel").GetByTestId("sync-progress");

    public ILocator History => page.GetByTestId("sync-history");

    public ILocator HistoryRun(string runId) => History.Locator($"[data-testid=sync-run][data-run-id='{runId}']");

    /// <summary>"Daily" at the given time (HH:mm), then "Save schedule": a form post that comes back to the page.</summary>
    public async Task SetDailyScheduleAsync(string time)
    {
        await page.Locator("#schedule-daily").CheckAsync();
        await page.Locator("#schedule-time").FillAsync(time);
        await page.GetByTestId("save-schedule").ClickAndWaitForNextPageAsync(page);
    }

    /// <summary>"Scan now"; returns the id of the run it requested (from the page's address).</summary>
    public async Task<string> ScanNowAsync()
    {
        await page.GetByTestId("scan-now").ClickAndWaitForNextPageAsync(page);
        var query = System.Web.HttpUtility.ParseQueryString(new Uri(page.Url).Query);
        return query["syncing"] ?? throw new InvalidOperationException($"Scan now did not name its run: {page.Url}");
    }
}
