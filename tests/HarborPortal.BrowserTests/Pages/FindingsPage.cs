using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace HarborPortal.BrowserTests.Pages;

/// <summary><c>/findings</c>: the queue, its filters and its table; and the evidence page a row opens.</summary>
public sealed class FindingsPage(IPage page)
{
    public const string Path = "/findings";

    public ILocator Rows => page.GetByTestId("findings-table").Locator("tbody tr");

    public ILocator Occurrences => page.GetByTestId("occurrences");

    public ILocator SeverityCheckbox(string severity) => page.Locator($"[data-facet=severity] input[value='{severity}']");

    public ILocator SourceToolCheckbox(string tool) => page.Locator($"[data-facet=source] input[value='{tool}']");

    /// <summary>The severity badge of every row (the second badge; the first is the priority).</summary>
    public ILocator RowSeverities => Rows.Locator("td:nth-child(2) [data-severity]");

    public ILocator EvidenceHeading => page.GetByTestId("vulnerability-id");

    public static async Task<FindingsPage> OpenAsync(IPage page)
    {
        await page.GotoAsync(Path);
        var findings = new FindingsPage(page);
        await Expect(page.GetByTestId("findings-view")).ToBeVisibleAsync();
        return findings;
    }

    /// <summary>Ticks one severity; htmx swaps the view in place and the address bar follows.</summary>
    public async Task FilterBySeverityAsync(string severity)
    {
        await SeverityCheckbox(severity).CheckAsync();
        await Expect(page).ToHaveURLAsync(new Regex($"[?&]severity={severity}"));
        await Expect(SeverityCheckbox(severity)).ToBeCheckedAsync();
    }

    /// <summary>Ticks one source tool; htmx swaps the view in place and the address bar follows.</summary>
    public async Task FilterBySourceToolAsync(string tool)
    {
        await SourceToolCheckbox(tool).CheckAsync();
        await Expect(page).ToHaveURLAsync(new Regex("[?&]source="));
        await Expect(SourceToolCheckbox(tool)).ToBeCheckedAsync();
    }

    /// <summary>Downloads the view as CSV from the toolbar; returns the file's suggested name and its text.</summary>
    public async Task<(string FileName, string Text)> ExportCsvAsync()
    {
        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByTestId("export-csv").ClickAsync());
        var path = await download.PathAsync();
        return (download.SuggestedFilename, await File.ReadAllTextAsync(path));
    }

    /// <summary>Opens the finding of the given row and waits for its evidence page; returns its vulnerability id.</summary>
    public async Task<string> OpenFindingAsync(int row)
    {
        var link = Rows.Nth(row).GetByTestId("finding-link");
        var id = await link.InnerTextAsync();
        await link.ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex(@"/findings/\d+$"));
        await Expect(EvidenceHeading).ToHaveTextAsync(id);
        return id;
    }

    public Task GoBackAsync() => page.GoBackAsync();
}
