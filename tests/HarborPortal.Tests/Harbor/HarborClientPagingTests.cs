using HarborPortal.Harbor;
using HarborPortal.HarborSimulator;
using Microsoft.Extensions.DependencyInjection;
using Sim = HarborPortal.HarborSimulator.HarborSimulator;
using static HarborPortal.Tests.Infrastructure.SimulatorConnections;

namespace HarborPortal.Tests.Harbor;

// One page at a time, narrowed on Harbor's side: how the locations editor reads a Harbor with thousands of projects.
public sealed class HarborClientPagingTests : IAsyncLifetime
{
    private ServiceProvider _services = null!;
    private HarborClient _client = null!;
    private Sim _simulator = null!;

    public async Task InitializeAsync()
    {
        _services = new ServiceCollection().AddLogging().AddHarborClient(o => o.RetryBaseDelay = TimeSpan.FromMilliseconds(10)).BuildServiceProvider();
        _client = _services.GetRequiredService<HarborClient>();
        _simulator = await Sim.StartAsync();
        for (var i = 0; i < 30; i++)
        {
            _simulator.AddProject($"pay-{i:00}");
        }

        for (var r = 0; r < 12; r++)
        {
            _simulator.AddRepository($"pay-00/{(r % 2 == 0 ? "api" : "worker")}/svc-{r:00}");
        }
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _simulator.DisposeAsync();
    }

    [Fact]
    public async Task A_Page_Of_Projects_Carries_Harbors_Total_And_Asks_For_Just_That_Page()
    {
        var page = (await _client.ListProjectsPageAsync(Robot(_simulator), 2, 10)).GetValueOrThrow();

        Assert.Equal(34, page.Total);
        Assert.Equal(10, page.Items.Count);
        Assert.Equal((2, 10, 4), (page.Page, page.PageSize, page.PageCount));
        Assert.True(page.HasPrevious);
        Assert.True(page.HasNext);
        var request = Assert.Single(_simulator.Requests);
        Assert.Equal("/api/v2.0/projects?with_detail=false&sort=name&page=2&page_size=10", request.RawTarget);
    }

    [Fact]
    public async Task A_Name_Search_Is_Harbors_Fuzzy_Query()
    {
        var first = (await _client.ListProjectsPageAsync(Robot(_simulator), 1, 20, "pay-1")).GetValueOrThrow();
        var last = (await _client.ListProjectsPageAsync(Robot(_simulator), 1, 20, "pay-2")).GetValueOrThrow();
        var past = (await _client.ListProjectsPageAsync(Robot(_simulator), 9, 20, "pay")).GetValueOrThrow();

        Assert.Equal(10, first.Total);
        Assert.All(first.Items, p => Assert.StartsWith("pay-1", p.Name, StringComparison.Ordinal));
        Assert.Equal(10, last.Items.Count);
        Assert.Empty(past.Items);
        Assert.Equal(30, past.Total);
        Assert.False(past.HasNext);
        Assert.Contains(_simulator.Requests, r => r.RawTarget.Contains("&q=name%3D~pay-1&", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_Page_Of_Repositories_Can_Be_Narrowed_By_Name_Including_Nested_Ones()
    {
        var all = (await _client.ListRepositoriesPageAsync(Robot(_simulator), "pay-00", 1, 5)).GetValueOrThrow();
        var workers = (await _client.ListRepositoriesPageAsync(Robot(_simulator), "pay-00", 1, 100, "worker/")).GetValueOrThrow();

        Assert.Equal((12, 5, 3), (all.Total, all.Items.Count, all.PageCount));
        Assert.Equal(6, workers.Total);
        Assert.All(workers.Items, r => Assert.Contains("/worker/", r.Name, StringComparison.Ordinal));
        Assert.Contains(_simulator.Requests, r => r.RawTarget == "/api/v2.0/projects/pay-00/repositories?sort=name&q=name%3D~worker%2F&page=1&page_size=100");
    }

    [Fact]
    public async Task Page_Numbers_And_Sizes_Are_Kept_Within_Harbors_Limits()
    {
        var page = (await _client.ListProjectsPageAsync(Robot(_simulator), 0, 500)).GetValueOrThrow();

        Assert.Equal((1, 100), (page.Page, page.PageSize));
        Assert.Equal(34, page.Items.Count);
    }

    [Fact]
    public async Task A_Missing_Project_Or_A_Failing_Harbor_Is_A_Failure_Not_An_Empty_Page()
    {
        var missing = await _client.ListRepositoriesPageAsync(Robot(_simulator), "no-such-project", 1, 10);
        _simulator.Faults.FailNext(3, 500);
        var failing = await _client.ListProjectsPageAsync(Robot(_simulator), 1, 10);

        Assert.IsType<HarborForbidden>(missing.Failure);
        Assert.IsType<HarborServerError>(failing.Failure);
    }
}
