using Microsoft.Playwright;

namespace HarborPortal.BrowserTests.Pages;

/// <summary><c>/admin/connections/{id}/locations</c>: Harbor's projects on the left, the selection being edited on the right.</summary>
public sealed class LocationsEditorPage(IPage page)
{
    public ILocator TreeProjects => page.GetByTestId("tree-project");

    public ILocator Saved => page.GetByTestId("locations-saved");

    public ILocator Errors => page.GetByTestId("locations-errors");

    public ILocator PreviewRepositories => page.GetByTestId("preview-repositories");

    public ILocator PreviewArtifacts => page.GetByTestId("preview-artifacts");

    public ILocator ListedProjects => page.GetByTestId("chosen-project");

    public ILocator OnlyListedProjects => page.GetByTestId("some-projects");

    public ILocator LatestCount => page.GetByTestId("latest-count");

    public static async Task<LocationsEditorPage> OpenAsync(IPage page, long connectionId)
    {
        await page.GotoAsync($"/admin/connections/{connectionId}/locations");
        return new LocationsEditorPage(page);
    }

    public ILocator Listed(string project) => page.Locator($"[data-testid=chosen-project][data-project='{project}']");

    public ILocator MatchHint(string project) => Listed(project).GetByTestId("match-count");

    public ILocator ExcludePatterns(string project) => Listed(project).GetByTestId("exclude-patterns");

    /// <summary>Types into the search box; htmx replaces the list as Harbor answers.</summary>
    public async Task SearchAsync(string text)
    {
        await page.GetByTestId("project-search").FillAsync(text);
    }

    /// <summary>Ticks a project in Harbor's list; its row appears in the form at once.</summary>
    public async Task ChooseAsync(string project)
    {
        await page.Locator($"[data-testid=tree-project][data-project='{project}']").GetByTestId("choose-project").ClickAsync();
    }

    public async Task OnlyListedProjectsAsync() => await OnlyListedProjects.CheckAsync();

    public async Task ExcludeAsync(string project, string patterns)
    {
        await Listed(project).GetByTestId("some-repositories").CheckAsync();
        await ExcludePatterns(project).FillAsync(patterns);
    }

    public async Task LatestPerRepositoryAsync(int count)
    {
        await page.GetByTestId("artifacts-latest").CheckAsync();
        await LatestCount.FillAsync(count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        // Leaving the field is what a person does next; it also tells the preview the form changed.
        await LatestCount.BlurAsync();
    }

    public async Task SaveAsync() => await page.GetByTestId("save-locations").ClickAndWaitForNextPageAsync(page);
}
