using Microsoft.Playwright;

namespace HarborPortal.BrowserTests.Pages;

/// <summary><c>/admin/jobs</c>: the background jobs and their triggers.</summary>
public sealed class JobsPage(IPage page)
{
    public ILocator Table => page.GetByTestId("jobs-table");

    public ILocator Job(string key) => Table.Locator($"tr[data-job='{key}']");
}
