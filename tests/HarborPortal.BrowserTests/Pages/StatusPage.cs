using Microsoft.Playwright;

namespace HarborPortal.BrowserTests.Pages;

/// <summary>The page the portal shows for 403, 404 and 500: what happened, never how.</summary>
public sealed class StatusPage(IPage page)
{
    public ILocator Root => page.GetByTestId("status-page");

    public ILocator Title => Root.GetByRole(AriaRole.Heading, new() { Level = 1 });
}
