using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace HarborPortal.BrowserTests.Pages;

/// <summary><c>/</c>: the dashboard's server-drawn charts and the numbers that open the queue.</summary>
public sealed class DashboardPage(IPage page)
{
    public ILocator SeverityBars => page.GetByTestId("severity-chart").Locator("rect[data-chart-bar]");

    public ILocator WeeklyBars => page.GetByTestId("weekly-chart").Locator("rect[data-chart-bar]");

    public ILocator TrendPoints => page.GetByTestId("trend-chart").Locator("circle[data-chart-point]");

    public ILocator OpenBySeverity(string severity) => page.GetByTestId($"open-severity-{severity}");

    public static async Task<DashboardPage> OpenAsync(IPage page)
    {
        await page.GotoAsync("/");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Dashboard", Exact = true })).ToBeVisibleAsync();
        return new DashboardPage(page);
    }

    /// <summary>Follows the number of open findings of one severity; returns the number it showed and the queue it opened.</summary>
    public async Task<(int Shown, FindingsPage Queue)> FollowOpenBySeverityAsync(string severity)
    {
        var link = OpenBySeverity(severity);
        var shown = int.Parse((await link.InnerTextAsync()).Replace(",", "", StringComparison.Ordinal), System.Globalization.CultureInfo.InvariantCulture);
        await link.ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex($@"/findings\?severity={severity}&status=Open&status=InProgress$"));
        await Expect(page.GetByTestId("findings-view")).ToBeVisibleAsync();
        return (shown, new FindingsPage(page));
    }
}
