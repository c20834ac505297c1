using Microsoft.Playwright;

namespace HarborPortal.BrowserTests.Pages;

/// <summary>The connections list and the register/edit form under <c>/admin/connections</c>.</summary>
public sealed class ConnectionPage(IPage page)
{
    public ILocator Table => page.GetByTestId("connections-table");

    public ILocator Saved => page.GetByTestId("connection-saved");

    public ILocator RobotNameWarning => page.GetByTestId("robot-name-warning");

    public ILocator RobotNameSuggestion => page.GetByTestId("robot-name-suggestion");

    public ILocator VerificationState => page.GetByTestId("verification-state");

    public ILocator Checklist => page.GetByTestId("connectivity-checklist");

    public ILocator VerificationResult => page.GetByTestId("verification-result");

    public ILocator Steps => page.GetByTestId("check-step");

    public ILocator Hints => page.GetByTestId("check-hint");

    public ILocator LastVerification(string connectionName) =>
        page.Locator("[data-testid=connections-table] tr", new() { HasText = connectionName }).GetByTestId("last-verification");

    /// <summary>"Verify connectivity": a form post, then the checklist fragment polls (htmx) until the run ends.</summary>
    public async Task VerifyAsync()
    {
        await page.GetByTestId("verify-connection").ClickAndWaitForNextPageAsync(page);
    }

    public static async Task<ConnectionPage> OpenListAsync(IPage page)
    {
        await page.GotoAsync("/admin/connections");
        return new ConnectionPage(page);
    }

    /// <summary>"Register a Harbor", the form filled in as an admin would, and "Register".</summary>
    public async Task RegisterAsync(string name, string url, string robotName, string secret, string? caPem = null)
    {
        await page.GetByTestId("new-connection").First.ClickAsync();
        await page.Locator("#name").FillAsync(name);
        await page.Locator("#url").FillAsync(url);
        await page.Locator("#auth-kind").SelectOptionAsync("Robot");
        await page.Locator("#user-name").FillAsync(robotName);
        await page.Locator("#secret").FillAsync(secret);
        if (caPem is not null)
        {
            await page.GetByText("Advanced: robot prefix, private CA").ClickAsync();
            await page.Locator("#ca-pem").FillAsync(caPem);
        }

        await page.GetByTestId("save-connection").ClickAndWaitForNextPageAsync(page);
    }
}
