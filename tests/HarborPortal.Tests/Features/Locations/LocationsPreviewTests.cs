using HarborPortal.Features.Locations;
using HarborPortal.Harbor;
using HarborPortal.HarborSimulator;
using HarborPortal.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sim = HarborPortal.HarborSimulator.HarborSimulator;

namespace HarborPortal.Tests.Features.Locations;

// The preview counts against the simulator: they must equal what it holds, say so when Harbor fails or is slow, and
// never ask Harbor more than a few requests at a time.
public sealed class LocationsPreviewTests : IAsyncLifetime
{
    private ServiceProvider _services = null!;
    private Sim _simulator = null!;

    public async Task InitializeAsync()
    {
        _simulator = await Sim.StartAsync();
        _services = Services(new LocationsOptions());
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _simulator.DisposeAsync();
    }

    public static TheoryData<string> Selections() =>
    [
        "everything",
        "everything-with-untagged",
        "team-a-without-tools-latest-1",
        "two-projects-tags-v-or-2",
        "nested-include",
        "all-projects-with-rules-latest-1-untagged",
    ];

    [Theory]
    [MemberData(nameof(Selections))]
    public async Task The_Counts_Equal_What_The_Simulator_Holds(string name)
    {
        var selection = Selection(name);
        var (repositories, artifacts) = LocationsTestSupport.Expected(_simulator, selection);

        var result = await CountAsync(selection);

        Assert.True(result.Complete, string.Join("; ", result.Failures));
        Assert.Equal(repositories, result.Repositories);
        Assert.Equal(artifacts, result.Artifacts);
        Assert.Equal(repositories, result.RepositoriesCounted);
    }

    [Fact]
    public async Task The_Default_Scenario_In_Numbers()
    {
        // Checked by hand against Scenarios/default.json: 4 repositories; 6 tagged artifacts and 1 untagged.
        var everything = await CountAsync(ScanLocations.Everything);
        var teamA = await CountAsync(Selection("team-a-without-tools-latest-1"));

        Assert.Equal((4, 6L), (everything.Repositories, everything.Artifacts));
        Assert.Equal(everything.HarborProjects, everything.Projects);
        Assert.Equal((1, 2, 1L), (teamA.Repositories, teamA.RepositoriesInProjects, teamA.Artifacts));
        Assert.Equal(new ProjectCount("team-a", 1, 2, 1, null), Assert.Single(teamA.PerProject));
    }

    [Fact]
    public async Task A_Large_Harbor_Is_Counted_Exactly_With_At_Most_The_Configured_Requests_At_Once()
    {
        await using var large = await Sim.StartAsync(new HarborSimulatorOptions { Scenario = "large" });
        await using var services = Services(new LocationsOptions { PreviewConcurrency = 3 });
        var selection = new ScanLocations { Projects = [new ProjectLocation { Name = "gen-001", Exclude = ["app-*"] }] };
        var (repositories, artifacts) = LocationsTestSupport.Expected(large, selection);

        var result = await services.GetRequiredService<LocationsPreview>().CountAsync(SimulatorConnections.Robot(large), selection, CancellationToken.None);

        Assert.True(result.Complete);
        Assert.True(repositories > 300, $"{repositories} repositories");
        Assert.Equal(repositories, result.Repositories);
        Assert.Equal(artifacts, result.Artifacts);
        Assert.InRange(large.MaxConcurrentRequests, 1, 3);
    }

    [Fact]
    public async Task Repositories_Harbor_Fails_For_Are_Named_And_Not_Counted_As_Zero_Artifacts()
    {
        _simulator.Faults.FailNext(10, 500, "/api/v2.0/projects/team-a/repositories/payments-api/artifacts");

        var result = await CountAsync(ScanLocations.Everything);

        Assert.False(result.Complete);
        Assert.Equal(1, result.FailureCount);
        Assert.Contains("repository team-a/payments-api: Harbor failed — HTTP 500", Assert.Single(result.Failures), StringComparison.Ordinal);
        Assert.Equal(4, result.Repositories);
        Assert.Equal(3, result.RepositoriesCounted);
        Assert.Equal(4, result.Artifacts);
    }

    [Fact]
    public async Task A_Chosen_Project_That_Harbor_Does_Not_Have_Is_Reported()
    {
        var result = await CountAsync(new ScanLocations { AllProjects = false, Projects = [new ProjectLocation { Name = "team-a" }, new ProjectLocation { Name = "gone" }] });

        Assert.False(result.Complete);
        Assert.Contains("project gone: not found in Harbor, or the connection's account may not read it", Assert.Single(result.Failures), StringComparison.Ordinal);
        Assert.NotNull(result.PerProject.Single(p => p.Name == "gone").Failure);
        Assert.Equal(2, result.Repositories);
    }

    [Fact]
    public async Task When_Harbor_Cannot_List_Projects_Nothing_Is_Counted_And_It_Says_Why()
    {
        _simulator.Faults.FailNext(10, 503, "/api/v2.0/projects");

        var result = await CountAsync(ScanLocations.Everything);

        Assert.False(result.Complete);
        Assert.StartsWith("Listing Harbor's projects failed: Harbor failed — HTTP 503", result.Fatal, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_Slow_Harbor_Ends_The_Count_At_The_Budget_And_Says_So()
    {
        await using var services = Services(new LocationsOptions { PreviewBudget = TimeSpan.FromMilliseconds(600), PreviewConcurrency = 1 });
        _simulator.Faults.Latency(TimeSpan.FromMilliseconds(250), "/api/v2.0/projects/team");

        var result = await services.GetRequiredService<LocationsPreview>().CountAsync(SimulatorConnections.Robot(_simulator), ScanLocations.Everything, CancellationToken.None);

        Assert.True(result.TimedOut);
        Assert.False(result.Complete);
        Assert.True(result.RepositoriesCounted < 4);
    }

    private Task<PreviewResult> CountAsync(ScanLocations selection) =>
        _services.GetRequiredService<LocationsPreview>().CountAsync(SimulatorConnections.Robot(_simulator), selection, CancellationToken.None);

    private static ScanLocations Selection(string name) => name switch
    {
        "everything" => ScanLocations.Everything,
        "everything-with-untagged" => new ScanLocations { Artifacts = new ArtifactPolicy { IncludeUntagged = true } },
        "team-a-without-tools-latest-1" => new ScanLocations
        {
            AllProjects = false,
            Projects = [new ProjectLocation { Name = "team-a", Exclude = ["tools/*"] }],
            Artifacts = new ArtifactPolicy { Kind = ArtifactPolicyKind.LatestPerRepository, LatestCount = 1 },
        },
        "two-projects-tags-v-or-2" => new ScanLocations
        {
            AllProjects = false,
            Projects = [new ProjectLocation { Name = "team" }, new ProjectLocation { Name = "team-a" }],
            Artifacts = new ArtifactPolicy { Kind = ArtifactPolicyKind.TagPattern, TagPattern = "1.8.*, 2.*" },
        },
        "nested-include" => new ScanLocations { AllProjects = false, Projects = [new ProjectLocation { Name = "team", Include = ["app/**"] }, new ProjectLocation { Name = "team-a", Include = ["**/migrator"] }] },
        "all-projects-with-rules-latest-1-untagged" => new ScanLocations
        {
            Projects = [new ProjectLocation { Name = "library", Exclude = ["**"] }],
            Artifacts = new ArtifactPolicy { Kind = ArtifactPolicyKind.LatestPerRepository, LatestCount = 1, IncludeUntagged = true },
        },
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    private static ServiceProvider Services(LocationsOptions options) => new ServiceCollection()
        .AddLogging()
        .AddHarborClient(o => o.RetryBaseDelay = TimeSpan.FromMilliseconds(10))
        .AddSingleton(Options.Create(options))
        .AddSingleton<LocationsPreview>()
        .BuildServiceProvider();
}
