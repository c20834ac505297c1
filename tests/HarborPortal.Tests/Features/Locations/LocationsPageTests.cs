using System.Net;
using System.Net.Sockets;
using AngleSharp.Dom;
using AngleSharp.Html.Dom;
using HarborPortal.Features.Auth;
using HarborPortal.Features.Locations;
using HarborPortal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Xunit.Abstractions;
using static HarborPortal.Tests.Features.Locations.LocationsTestSupport;
using Sim = HarborPortal.HarborSimulator.HarborSimulator;

namespace HarborPortal.Tests.Features.Locations;

// The editor as a browser without JavaScript uses it: pages of the tree through the query string, plain form posts.
public sealed class LocationsPageTests(ITestOutputHelper output) : IAsyncLifetime
{
    private PortalApplication _app = null!;
    private Sim _simulator = null!;
    private HttpClient _admin = null!;
    private long _id;

    public async Task InitializeAsync()
    {
        _simulator = await Sim.StartAsync();
        _app = CreateApp(output);
        _admin = _app.CreateClientWithCookies();
        await _app.SignInAsAsync(_admin, "alice", PortalRoles.Admin);
        _id = await SimulatorConnections.AddAsync(_app.Services, _simulator);
    }

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        await _app.DisposeAsync();
        await _simulator.DisposeAsync();
    }

    [Theory]
    [InlineData(PortalRoles.Security)]
    [InlineData(PortalRoles.Developer)]
    [InlineData(PortalRoles.Viewer)]
    public async Task Only_Admins_May_Open_The_Editor_Or_Its_Fragments(string role)
    {
        using var someone = _app.CreateClientWithCookies();
        await _app.SignInAsAsync(someone, "bob", role);
        using var anonymous = _app.CreateClientWithCookies();

        using var page = await someone.GetAsync(Page());
        using var fragment = await someone.PostAsync($"{Page()}/tree", new FormUrlEncodedContent([]));
        using var signIn = await anonymous.GetAsync(Page());

        Assert.Equal(HttpStatusCode.Forbidden, page.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, fragment.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        Assert.StartsWith("/account/login", signIn.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
        Assert.Empty(_simulator.Requests);
    }

    [Fact]
    public async Task The_Tree_Lists_The_Simulators_Projects_With_Their_Repository_Counts()
    {
        var page = await GetAsync(Page());

        var expected = _simulator.Read(s => s.Projects.Select(p => p.Name).Order(StringComparer.Ordinal).ToList());
        Assert.Equal(expected, TreeProjects(page));
        Assert.Equal("2 repositories", page.QuerySelector("[data-project=team-a] .ms-auto")!.TextContent.Trim());
        Assert.Equal($"1–{expected.Count} of {expected.Count} projects", page.QuerySelector("[data-testid=tree-position]")!.TextContent.Trim());
        Assert.All(page.QuerySelectorAll("[data-testid=choose-project]"), box => Assert.Equal("locations-form", box.GetAttribute("form")));
        // The default: all projects, nothing listed.
        Assert.True(page.QuerySelector<IHtmlInputElement>("[data-testid=all-projects]")!.IsChecked);
        Assert.Empty(page.QuerySelectorAll("[data-testid=chosen-project]"));
        Assert.Contains(_simulator.Requests, r => r.RawTarget.StartsWith("/api/v2.0/projects?", StringComparison.Ordinal) && r.RawTarget.Contains("page=1&page_size=20", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Search_Narrows_The_Tree_On_Harbors_Side()
    {
        var team = await GetAsync(Page("?q=team"));
        var teamA = await GetAsync(Page("?q=TEAM-"));
        var none = await GetAsync(Page("?q=nothing-like-this"));

        Assert.Equal(["team", "team-a"], TreeProjects(team));
        Assert.Equal(["team-a"], TreeProjects(teamA));
        Assert.Equal("team-", teamA.QuerySelector<IHtmlInputElement>("[data-testid=project-search]")!.Value);
        Assert.Contains("No project's name contains “nothing-like-this”.", none.QuerySelector("[data-testid=tree-empty]")!.TextContent, StringComparison.Ordinal);
        Assert.Contains(_simulator.Requests, r => r.RawTarget.Contains("q=name%3D~team&page=1&page_size=20", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_Search_No_Harbor_Name_Can_Match_Is_Explained_Without_Asking_Harbor()
    {
        var page = await GetAsync(Page("?q=team%20a"));

        Assert.Contains("only lower-case letters", page.QuerySelector("[data-testid=tree-search-problem]")!.TextContent, StringComparison.Ordinal);
        Assert.DoesNotContain(_simulator.Requests, r => r.RawTarget.StartsWith("/api/v2.0/projects", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Paging_Walks_A_Large_Harbor_Twenty_Projects_At_A_Time()
    {
        for (var i = 0; i < 40; i++)
        {
            _simulator.AddProject($"bulk-{i:00}");
        }

        var first = await GetAsync(Page());
        var next = first.QuerySelector<IHtmlAnchorElement>("[data-testid=tree-next]")!;
        var second = await GetAsync(next.GetAttribute("href")!);
        var third = await GetAsync(second.QuerySelector("[data-testid=tree-next]")!.GetAttribute("href")!);

        Assert.Equal(Page("?page=2"), next.GetAttribute("href"));
        Assert.Equal($"{Page()}/tree?q=&page=2", next.GetAttribute("hx-post"));
        Assert.Null(first.QuerySelector("[data-testid=tree-previous]"));
        Assert.Equal((20, 20, 4), (TreeProjects(first).Count, TreeProjects(second).Count, TreeProjects(third).Count));
        Assert.Null(third.QuerySelector("[data-testid=tree-next]"));
        Assert.Equal("41–44 of 44 projects", third.QuerySelector("[data-testid=tree-position]")!.TextContent.Trim());
        var all = TreeProjects(first).Concat(TreeProjects(second)).Concat(TreeProjects(third)).ToList();
        Assert.Equal(_simulator.Read(s => s.Projects.Select(p => p.Name).Order(StringComparer.Ordinal).ToList()), all);
        // Never all of Harbor at once: a page of 20 per request.
        Assert.All(_simulator.Requests.Where(r => r.RawTarget.StartsWith("/api/v2.0/projects?", StringComparison.Ordinal)),
            r => Assert.Contains("page_size=20", r.RawTarget, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Saving_Persists_Audits_And_Shows_The_Selection_Again()
    {
        using var created = await PostAsync(Page(), ("AllProjects", "false"), ("Add", "team-a"), ("Artifacts", "LatestPerRepository"), ("LatestCount", "3"), ("Command", "save"));

        Assert.Equal(HttpStatusCode.Redirect, created.StatusCode);
        Assert.Equal(Page("?saved=true"), created.Headers.Location!.PathAndQuery);
        var saved = await GetAsync(created.Headers.Location!.PathAndQuery);
        Assert.Contains("1 project (team-a) · latest 3 per repository", saved.QuerySelector("[data-testid=locations-saved]")!.TextContent, StringComparison.Ordinal);
        Assert.Equal(["team-a"], saved.QuerySelectorAll("[data-testid=chosen-project]").Select(r => r.GetAttribute("data-project")));
        Assert.Contains(saved.QuerySelectorAll("[data-testid=project-listed]"), b => b.Closest("[data-project]")!.GetAttribute("data-project") == "team-a");
        Assert.Equal("3", saved.QuerySelector<IHtmlInputElement>("[data-testid=latest-count]")!.Value);

        // Narrow the project's repositories: the row's fields, as the saved page shows them.
        using var narrowed = await PostAsync(Page(), ("AllProjects", "false"), ("Listed", "team-a"), ("Selected", "team-a"), ("Repositories.team-a", "patterns"),
            ("Include.team-a", ""), ("Exclude.team-a", "tools/*"), ("Artifacts", "LatestPerRepository"), ("LatestCount", "3"), ("Command", "save"));

        Assert.Equal(HttpStatusCode.Redirect, narrowed.StatusCode);
        await using var db = _app.CreateDbContext();
        var row = await db.ConnectionLocations.SingleAsync(l => l.ConnectionId == _id);
        Assert.Equal("alice", row.UpdatedBy);
        Assert.Equal(["tools/*"], row.Selection.Projects.Single().Exclude);
        var audit = await db.AuditEvents.Where(e => e.Action == LocationsCommands.AuditAction).OrderBy(e => e.Id).Select(e => e.Details).ToListAsync();
        Assert.Equal(
        [
            "projects: all → chosen ones; added team-a; artifacts: all tagged artifacts → latest 3 per repository (now: 1 project (team-a) · latest 3 per repository)",
            "team-a: all repositories → exclude tools/* (now: 1 project (team-a) · latest 3 per repository)",
        ], audit);

        // The connection's page sums it up, with the way back here.
        var connection = await GetAsync($"/admin/connections/{_id}");
        Assert.Equal("1 project (team-a) · latest 3 per repository", connection.QuerySelector("[data-testid=locations-summary-text]")!.TextContent.Trim());
        Assert.Equal(Page(), connection.QuerySelector("[data-testid=edit-locations]")!.GetAttribute("href"));
        Assert.Contains("by alice", connection.QuerySelector("[data-testid=locations-summary]")!.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unticking_A_Listed_Project_Drops_It_On_Save()
    {
        await SaveAsync(_app, _id, new ScanLocations { AllProjects = false, Projects = [new ProjectLocation { Name = "team-a" }, new ProjectLocation { Name = "library" }] });

        using var response = await PostAsync(Page(), ("AllProjects", "false"), ("Listed", "team-a"), ("Selected", "team-a"), ("Listed", "library"), ("Command", "save"));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        await using var db = _app.CreateDbContext();
        Assert.Equal(["team-a"], (await db.ConnectionLocations.SingleAsync()).Selection.Projects.Select(p => p.Name));
    }

    [Fact]
    public async Task An_Invalid_Selection_Comes_Back_As_Typed_With_Its_Errors_And_Nothing_Is_Saved()
    {
        using var response = await PostAsync(Page(), ("AllProjects", "false"), ("Artifacts", "LatestPerRepository"), ("LatestCount", "abc"), ("Command", "save"));
        var page = Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(
            ["Choose at least one project, or all projects.", $"The number of latest artifacts per repository must be between 1 and {ArtifactPolicy.MaxLatestCount}."],
            page.QuerySelectorAll("[data-testid=locations-errors] li").Select(li => li.TextContent));
        Assert.Equal("abc", page.QuerySelector<IHtmlInputElement>("[data-testid=latest-count]")!.Value);
        Assert.True(page.QuerySelector<IHtmlInputElement>("[data-testid=some-projects]")!.IsChecked);
        Assert.True(page.QuerySelector<IHtmlInputElement>("[data-testid=artifacts-latest]")!.IsChecked);
        Assert.NotEmpty(TreeProjects(page));
        await using var db = _app.CreateDbContext();
        Assert.False(await db.ConnectionLocations.AnyAsync());
        Assert.False(await db.AuditEvents.AnyAsync(e => e.Action == LocationsCommands.AuditAction));
    }

    [Fact]
    public async Task Harbor_Answering_500_Shows_The_Error_And_The_Saved_Selection_Stays_Editable()
    {
        await SaveAsync(_app, _id, new ScanLocations { AllProjects = false, Projects = [new ProjectLocation { Name = "team-a", Exclude = ["tools/*"] }] });
        _simulator.Faults.FailNext(1000, 500, "/api/v2.0/projects");

        var page = await GetAsync(Page());
        using var save = await PostAsync(Page(), ("AllProjects", "false"), ("Listed", "team-a"), ("Selected", "team-a"), ("Repositories.team-a", "all"), ("Command", "save"));

        Assert.Contains("Harbor's projects cannot be listed. Harbor failed — HTTP 500", Normalize(page.QuerySelector("[data-testid=tree-error]")!.TextContent), StringComparison.Ordinal);
        Assert.Equal("tools/*", page.QuerySelector<IHtmlInputElement>("[data-testid=exclude-patterns]")!.Value);
        Assert.NotNull(page.QuerySelector("[data-testid=save-locations]"));
        Assert.Equal(HttpStatusCode.Redirect, save.StatusCode);
    }

    [Fact]
    public async Task Harbor_Refusing_The_Credentials_Is_Explained()
    {
        _simulator.Faults.FailNext(1000, 401, "/api/v2.0/projects");

        var page = await GetAsync(Page());

        Assert.Contains("Harbor refused the credentials", page.QuerySelector("[data-testid=tree-error]")!.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_Unreachable_Harbor_Is_Explained()
    {
        int closedPort;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            closedPort = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        var unreachable = await SimulatorConnections.AddAsync(_app.Services, _simulator, "gone", url: new Uri($"http://127.0.0.1:{closedPort}"));

        var page = await GetAsync($"/admin/connections/{unreachable}/locations");

        Assert.Contains("Harbor cannot be reached", page.QuerySelector("[data-testid=tree-error]")!.TextContent, StringComparison.Ordinal);
        Assert.NotNull(page.QuerySelector("[data-testid=save-locations]"));
    }

    [Fact]
    public async Task An_Unknown_Connection_Is_Not_Found()
    {
        using var response = await _admin.GetAsync("/admin/connections/9999/locations");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("404", Parse(await response.Content.ReadAsStringAsync()).QuerySelector("[data-testid=status-page] .display-1")?.TextContent);
    }

    [Fact]
    public async Task Preview_Without_JavaScript_Counts_The_Form_As_Posted_And_Saves_Nothing()
    {
        var draft = new ScanLocations
        {
            AllProjects = false,
            Projects = [new ProjectLocation { Name = "team-a", Exclude = ["tools/*"] }],
            Artifacts = new ArtifactPolicy { Kind = ArtifactPolicyKind.LatestPerRepository, LatestCount = 1 },
        };
        var (repositories, artifacts) = Expected(_simulator, draft);

        using var response = await PostAsync(Page(), ("AllProjects", "false"), ("Add", "team-a"), ("Artifacts", "LatestPerRepository"), ("LatestCount", "1"), ("Command", "preview"));
        var page = Parse(await response.Content.ReadAsStringAsync());
        // The ticked project became a row: its patterns can be set, then previewed again.
        using var again = await PostAsync(Page(), ("AllProjects", "false"), ("Listed", "team-a"), ("Selected", "team-a"), ("Repositories.team-a", "patterns"),
            ("Exclude.team-a", "tools/*"), ("Artifacts", "LatestPerRepository"), ("LatestCount", "1"), ("Command", "preview"));
        var narrowed = Parse(await again.Content.ReadAsStringAsync());

        Assert.Equal(["team-a"], page.QuerySelectorAll("[data-testid=chosen-project]").Select(r => r.GetAttribute("data-project")));
        Assert.Equal("2", page.QuerySelector("[data-testid=preview-repositories]")!.GetAttribute("data-count"));
        Assert.Equal(repositories.ToString(System.Globalization.CultureInfo.InvariantCulture), narrowed.QuerySelector("[data-testid=preview-repositories]")!.GetAttribute("data-count"));
        Assert.Equal(artifacts.ToString(System.Globalization.CultureInfo.InvariantCulture), narrowed.QuerySelector("[data-testid=preview-artifacts]")!.GetAttribute("data-count"));
        Assert.Equal("matches 1 of 2 repositories", narrowed.QuerySelector("[data-testid=match-count]")!.TextContent.Trim());
        Assert.Equal("true", narrowed.QuerySelector("[data-testid=preview-result]")!.GetAttribute("data-complete"));
        await using var db = _app.CreateDbContext();
        Assert.False(await db.ConnectionLocations.AnyAsync());
    }

    [Fact]
    public async Task The_Preview_Link_Counts_The_Saved_Selection()
    {
        var plain = await GetAsync(Page());
        var counted = await GetAsync(Page("?preview=true"));

        Assert.Null(plain.QuerySelector("[data-testid=preview-result]"));
        Assert.Equal(Page("?preview=true"), plain.QuerySelector("#locations-preview-body noscript a")!.GetAttribute("href"));
        Assert.Equal(Expected(_simulator, ScanLocations.Everything).Artifacts.ToString(System.Globalization.CultureInfo.InvariantCulture),
            counted.QuerySelector("[data-testid=preview-artifacts]")!.GetAttribute("data-count"));
    }

    [Fact]
    public async Task Opening_A_Project_Lists_Its_Repositories_Marked_In_Or_Out()
    {
        await SaveAsync(_app, _id, new ScanLocations { AllProjects = false, Projects = [new ProjectLocation { Name = "team-a", Exclude = ["tools/*"] }] });

        var page = await GetAsync(Page("?expand=team-a"));
        var searched = await GetAsync(Page("?expand=team-a&rq=tools"));

        var repositories = page.QuerySelectorAll("[data-project=team-a] [data-testid=tree-repository]")
            .ToDictionary(r => r.QuerySelector(".font-monospace")!.TextContent, r => r.GetAttribute("data-included"));
        Assert.Equal(new Dictionary<string, string?> { ["payments-api"] = "true", ["tools/migrator"] = "false" }, repositories);
        Assert.NotNull(page.QuerySelector("[data-project=team-a] details[open]"));
        Assert.Equal(["tools/migrator"], searched.QuerySelectorAll("[data-testid=tree-repository] .font-monospace").Select(e => e.TextContent));
    }

    [Fact]
    public async Task A_Selection_Of_Hundreds_Of_Projects_Can_Be_Posted()
    {
        var fields = new List<(string, string)> { ("AllProjects", "false"), ("Command", "save") };
        for (var i = 0; i < 400; i++)
        {
            var name = $"p-{i:000}";
            fields.AddRange([("Listed", name), ("Selected", name), ("Repositories." + name, "patterns"), ("Include." + name, "app/*"), ("Exclude." + name, "")]);
        }

        using var response = await PostAsync(Page(), [.. fields]);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        await using var db = _app.CreateDbContext();
        Assert.Equal(400, (await db.ConnectionLocations.SingleAsync()).Selection.Projects.Count);
    }

    private string Page(string query = "") => $"/admin/connections/{_id}/locations{query}";

    private async Task<IHtmlDocument> GetAsync(string path)
    {
        using var response = await _admin.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return Parse(await response.Content.ReadAsStringAsync());
    }

    /// <summary>Posts the editor's form as a browser would: its hidden fields (token, form name, tree position) plus these.</summary>
    private async Task<HttpResponseMessage> PostAsync(string path, params (string Name, string Value)[] fields)
    {
        var page = await GetAsync(path);
        var form = page.QuerySelector("form[data-testid=locations-form]")!;
        var hidden = form.QuerySelectorAll("input[type=hidden]")
            .Where(i => i.GetAttribute("name") is "__RequestVerificationToken" or "_handler" or LocationsForm.TreeQuery or LocationsForm.TreePage)
            .Select(i => new KeyValuePair<string, string>(i.GetAttribute("name")!, i.GetAttribute("value") ?? ""));
        return await _admin.PostAsync(path, new FormUrlEncodedContent([.. hidden, .. fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value))]));
    }

    private static List<string> TreeProjects(IHtmlDocument page) =>
        [.. page.QuerySelectorAll("[data-testid=tree-project]").Select(p => p.GetAttribute("data-project")!)];

    private static string Normalize(string text) => string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
}
