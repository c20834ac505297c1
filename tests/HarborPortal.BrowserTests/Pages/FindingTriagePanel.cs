using Microsoft.Playwright;

namespace HarborPortal.BrowserTests.Pages;

/// <summary>The triage column of a finding's evidence page (<c>/findings/{id}</c>): status, decision, forms and timeline.</summary>
public sealed class FindingTriagePanel(IPage page)
{
    public ILocator Status => page.GetByTestId("status");

    public ILocator Priority => page.GetByTestId("priority");

    public ILocator PriorityFactors => page.GetByTestId("priority-factors");

    public ILocator DecisionSource => page.GetByTestId("triage-source");

    public ILocator Done => page.GetByTestId("triage-done");

    public ILocator Timeline => page.GetByTestId("timeline");

    /// <summary>"Risk accepted" until a date, with a justification, for the whole repository (the form's default scope).</summary>
    public async Task AcceptRiskAsync(DateOnly until, string justification)
    {
        await page.Locator("#triage-status-input").SelectOptionAsync("RiskAccepted");
        await page.Locator("#triage-expires").FillAsync(until.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
        await page.Locator("#triage-justification").FillAsync(justification);
        await page.GetByTestId("triage-save").ClickAndWaitForNextPageAsync(page);
    }
}
