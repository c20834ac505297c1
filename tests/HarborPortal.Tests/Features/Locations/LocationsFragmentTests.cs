using System.Net;
using AngleSharp.Dom;
using AngleSharp.Html.Dom;
using HarborPortal.Features.Auth;
using HarborPortal.Features.Locations;
using HarborPortal.Tests.Infrastructure;
using Xunit.Abstractions;
using static HarborPortal.Tests.Features.Locations.LocationsTestSupport;
using Sim = HarborPortal.HarborSimulator.HarborSimulator;

namespace HarborPortal.Tests.Features.Locations;

// The htmx fragments, requested as htmx requests them: a POST with the editor's form and the antiforgery header.
public sealed class LocationsFragmentTests(ITestOutputHelper output) : IAsyncLifetime
{
    private PortalApplication _app = null!;
    private Sim _simulator = null!;
    private HttpClient _admin = null!;
    private string _token = null!;
    private long _id;

    public async Task InitializeAsync()
    {
        _simulator = await Sim.StartAsync();
        _app = CreateApp(output, o => o.PreviewBudget = TimeSpan.FromSeconds(2));
        _admin = _app.CreateClientWithCookies();
        await _app.SignInAsAsync(_admin, "alice", PortalRoles.Admin);
        _id = await SimulatorConnections.AddAsync(_app.Services, _simulator);
        _token = await PortalApplication.GetAntiforgeryTokenAsync(_admin, Base());
        _simulator.ResetStatistics();
    }

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        await _app.DisposeAsync();
        await _simulator.DisposeAsync();
    }

    [Fact]
    public async Task The_Tree_Fragment_Searches_Pages_And_Moves_The_Address_Bar()
    {
        for (var i = 0; i < 25; i++)
        {
            _simulator.AddProject($"team-bulk-{i:00}");
        }

        using var searched = await PostAsync("/tree?q=&page=1", ("q", "team-bulk"), ("Listed", "team-bulk-03"));
        using var paged = await PostAsync("/tree?q=team-bulk&page=2");
        var first = await FragmentAsync(searched);
        var second = await FragmentAsync(paged);

        Assert.Equal("project-tree-results", first.Body!.FirstElementChild!.Id);
        Assert.Equal(20, first.QuerySelectorAll("[data-testid=tree-project]").Length);
        Assert.Equal($"{Base()}?q=team-bulk", searched.Headers.GetValues("HX-Push-Url").Single());
        Assert.Equal(["team-bulk-20", "team-bulk-21", "team-bulk-22", "team-bulk-23", "team-bulk-24"],
            second.QuerySelectorAll("[data-testid=tree-project]").Select(p => p.GetAttribute("data-project")));
        Assert.Equal($"{Base()}?q=team-bulk&page=2", paged.Headers.GetValues("HX-Push-Url").Single());
        // A project already in the form is shown as listed, not offered again.
        Assert.NotNull(first.QuerySelector("[data-project=team-bulk-03] [data-testid=project-listed]"));
        Assert.NotNull(first.QuerySelector("[data-project=team-bulk-04] [data-testid=choose-project]"));
        Assert.Null(first.QuerySelector("html head title"));
    }

    [Fact]
    public async Task Ticking_A_Project_Returns_Its_Form_Row_Out_Of_Band_Once()
    {
        using var ticked = await PostAsync("/choose?project=team-a", ("Add", "team-a"));
        using var again = await PostAsync("/choose?project=team-a", ("Listed", "team-a"), ("Selected", "team-a"), ("Add", "team-a"));
        var first = await FragmentAsync(ticked);
        var second = await FragmentAsync(again);

        Assert.NotNull(first.QuerySelector(".tree-choose [data-testid=project-listed]"));
        var oob = first.QuerySelector("[hx-swap-oob]")!;
        Assert.Equal("beforeend:#chosen-list", oob.GetAttribute("hx-swap-oob"));
        Assert.Equal("team-a", oob.QuerySelector("[data-testid=chosen-project]")!.GetAttribute("data-project"));
        Assert.Equal("team-a", oob.QuerySelector<IHtmlInputElement>("input[name=Listed]")!.Value);
        Assert.True(oob.QuerySelector<IHtmlInputElement>("input[name=Selected]")!.IsChecked);
        Assert.Equal("locations-changed", ticked.Headers.GetValues("HX-Trigger").Single());
        Assert.Null(second.QuerySelector("[hx-swap-oob]"));
    }

    [Theory]
    [InlineData("all", "", "", "all 2 repositories")]
    [InlineData("patterns", "", "tools/*", "matches 1 of 2 repositories")]
    [InlineData("patterns", "**/migrator, payments-*", "", "matches 2 of 2 repositories")]
    [InlineData("patterns", "nothing/*", "", "matches 0 of 2 repositories")]
    public async Task The_Match_Hint_Counts_The_Patterns_As_Typed(string mode, string include, string exclude, string expected)
    {
        using var response = await PostAsync("/match?project=team-a",
            ("Listed", "team-a"), ("Selected", "team-a"), ("Repositories.team-a", mode), ("Include.team-a", include), ("Exclude.team-a", exclude));
        var hint = await FragmentAsync(response);

        Assert.Equal(expected, hint.QuerySelector("[data-testid=match-count]")!.TextContent.Trim());
    }

    [Fact]
    public async Task The_Match_Hint_Reads_A_Project_Once_A_Minute_However_Fast_One_Types()
    {
        foreach (var pattern in new[] { "t", "to", "too", "tool", "tools/*" })
        {
            using var response = await PostAsync("/match?project=team-a", ("Listed", "team-a"), ("Repositories.team-a", "patterns"), ("Exclude.team-a", pattern));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Single(_simulator.Requests, r => r.RawTarget.StartsWith("/api/v2.0/projects/team-a/repositories?", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_Match_Hint_Of_A_Project_Harbor_Does_Not_Have_Says_So()
    {
        using var response = await PostAsync("/match?project=gone", ("Listed", "gone"), ("Repositories.gone", "patterns"), ("Include.gone", "a/*"));
        var hint = await FragmentAsync(response);

        Assert.Contains("Harbor:", hint.QuerySelector("[data-testid=match-failure]")!.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_Preview_Fragment_Counts_The_Draft_Not_The_Saved_Selection()
    {
        var draft = new ScanLocations { AllProjects = false, Projects = [new ProjectLocation { Name = "team" }], Artifacts = new ArtifactPolicy { IncludeUntagged = true } };
        var (repositories, artifacts) = Expected(_simulator, draft);

        using var response = await PostAsync("/preview", ("AllProjects", "false"), ("Listed", "team"), ("Selected", "team"), ("Repositories.team", "all"), ("IncludeUntagged", "true"));
        var preview = await FragmentAsync(response);

        Assert.Equal(repositories.ToString(System.Globalization.CultureInfo.InvariantCulture), preview.QuerySelector("[data-testid=preview-repositories]")!.GetAttribute("data-count"));
        Assert.Equal(artifacts.ToString(System.Globalization.CultureInfo.InvariantCulture), preview.QuerySelector("[data-testid=preview-artifacts]")!.GetAttribute("data-count"));
        Assert.Equal("team", preview.QuerySelector("[data-testid=preview-projects] tbody tr")!.GetAttribute("data-project"));
    }

    [Fact]
    public async Task The_Preview_Of_A_Draft_That_Cannot_Be_Saved_Says_Why_Instead_Of_Counting()
    {
        using var response = await PostAsync("/preview", ("AllProjects", "false"));
        var preview = await FragmentAsync(response);

        Assert.Equal("Not counted: Choose at least one project, or all projects.", preview.QuerySelector("[data-testid=preview-error]")!.TextContent.Trim());
        Assert.Empty(_simulator.Requests);
    }

    [Fact]
    public async Task A_Slow_Harbor_Shows_In_The_Preview_With_What_Was_Counted()
    {
        _simulator.Faults.Latency(TimeSpan.FromMilliseconds(1500), "/api/v2.0/projects/team");

        using var response = await PostAsync("/preview");
        var preview = await FragmentAsync(response);

        Assert.Contains("Harbor is slow", preview.QuerySelector("[data-testid=preview-slow]")!.TextContent, StringComparison.Ordinal);
        Assert.Contains("covers at least", preview.QuerySelector("[data-testid=preview-result] p")!.TextContent, StringComparison.Ordinal);
        Assert.Equal("false", preview.QuerySelector("[data-testid=preview-result]")!.GetAttribute("data-complete"));
    }

    [Fact]
    public async Task A_Failing_Harbor_Shows_In_The_Preview_Never_As_Zero()
    {
        _simulator.Faults.FailNext(100, 500, "/api/v2.0/projects");

        using var response = await PostAsync("/preview");
        var preview = await FragmentAsync(response);

        Assert.Contains("Not counted: Listing Harbor's projects failed: Harbor failed — HTTP 500", preview.QuerySelector("[data-testid=preview-error]")!.TextContent, StringComparison.Ordinal);
        Assert.Null(preview.QuerySelector("[data-testid=preview-artifacts]"));
    }

    [Fact]
    public async Task Opening_A_Project_Returns_Its_Repositories_Marked_By_The_Draft()
    {
        using var response = await PostAsync("/repositories?project=team-a&rq=&rpage=1",
            ("AllProjects", "false"), ("Listed", "team-a"), ("Selected", "team-a"), ("Repositories.team-a", "patterns"), ("Include.team-a", "payments-*"));
        var list = await FragmentAsync(response);

        Assert.Equal(["true", "false"], list.QuerySelectorAll("[data-testid=tree-repository]").OrderBy(r => r.TextContent).Select(r => r.GetAttribute("data-included")));
        Assert.Equal("As the selection stands, 1 of these 2 are scanned.", list.QuerySelector("[data-testid=repositories-included]")!.TextContent.Trim());
    }

    [Fact]
    public async Task A_Fragment_Without_The_Antiforgery_Token_Is_Refused()
    {
        using var response = await _admin.PostAsync($"{Base()}/preview", new FormUrlEncodedContent([]));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Empty(_simulator.Requests);
    }

    [Theory]
    [InlineData("/choose?project=Not%20A%20Name")]
    [InlineData("/match")]
    [InlineData("/repositories?project=a/b")]
    public async Task A_Fragment_For_A_Name_Harbor_Cannot_Have_Is_Not_Found(string path)
    {
        using var response = await PostAsync(path);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task A_Fragment_Of_An_Unknown_Connection_Is_Not_Found()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/admin/connections/9999/locations/preview") { Content = new FormUrlEncodedContent([]) };
        request.Headers.Add("RequestVerificationToken", _token);
        using var response = await _admin.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    private string Base() => LocationsUrls.Base(_id);

    private async Task<HttpResponseMessage> PostAsync(string path, params (string Name, string Value)[] fields)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Base() + path)
        {
            Content = new FormUrlEncodedContent(fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value))),
        };
        request.Headers.Add("RequestVerificationToken", _token);
        request.Headers.Add("HX-Request", "true");
        return await _admin.SendAsync(request);
    }

    private static async Task<IHtmlDocument> FragmentAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return Parse(await response.Content.ReadAsStringAsync());
    }
}
