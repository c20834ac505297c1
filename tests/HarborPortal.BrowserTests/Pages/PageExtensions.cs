using HarborPortal.BrowserTests.Infrastructure;
using Microsoft.Playwright;

namespace HarborPortal.BrowserTests.Pages;

internal static class PageExtensions
{
    /// <summary>
    /// Clicks and waits for the next document to load. A form that posts and comes back to the same address
    /// (a wrong password) would satisfy a URL wait or an auto-waiting assertion on the old page.
    /// </summary>
    public static async Task ClickAndWaitForNextPageAsync(this ILocator target, IPage page)
    {
        var loaded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnLoad(object? sender, IPage e) => loaded.TrySetResult();

        page.Load += OnLoad;
        try
        {
            await target.ClickAsync();
            await loaded.Task.WaitAsync(BrowserFixture.Timeout);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"No new page loaded within {BrowserFixture.Timeout.TotalSeconds} s of the click; the browser is at {page.Url}.", ex);
        }
        finally
        {
            page.Load -= OnLoad;
        }
    }

    /// <summary><c>scheme://host:port</c> of a URL.</summary>
    public static string Origin(string url) => new Uri(url).GetLeftPart(UriPartial.Authority);
}
