using HarborPortal.Features.Connections;
using HarborPortal.Features.Findings;
using HarborPortal.Features.Posture;
using HarborAuthKind = HarborPortal.Features.Connections.HarborAuthKind;
using HarborPortal.HarborSimulator;
using HarborPortal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;
using Sim = HarborPortal.HarborSimulator.HarborSimulator;

namespace HarborPortal.Tests.Features.Posture;

/// <summary>
/// The portal and a Harbor simulator on the <c>posture</c> scenario (known settings: see its comment), registered as a
/// connection with the credential a test chooses; <see cref="RunAsync"/> runs the checks as the button and the API do.
/// </summary>
internal sealed class PostureHarness : IAsyncDisposable
{
    public const string AdminUser = "admin";
    public const string AdminPassword = "Harbor12345";
    public const string AuditorUser = "auditor";
    public const string AuditorPassword = "Auditor12345";
    public const string ReaderRobot = "robot$reader";
    public const string ReaderRobotSecret = "ReaderSecret1234567890abcdefABCD";

    private PostureHarness(Sim simulator, PortalApplication app)
    {
        Simulator = simulator;
        App = app;
    }

    public Sim Simulator { get; }

    public PortalApplication App { get; }

    public long ConnectionId { get; private set; }

    public static async Task<PostureHarness> StartAsync(
        ITestOutputHelper output, HarborAuthKind kind = HarborAuthKind.Robot, string user = DefaultScenario.PortalRobot, string secret = DefaultScenario.PortalRobotSecret,
        IDictionary<string, string?>? settings = null)
    {
        var all = new Dictionary<string, string?> { ["Connections:VerifyOnSave"] = "false", ["Posture:RequireContentTrust"] = "true" };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        var harness = new PostureHarness(await Sim.StartAsync(new HarborSimulatorOptions { Scenario = "posture" }), new PortalApplication(all, output));
        await using var db = harness.App.CreateDbContext();
        var connection = new HarborConnection
        {
            Name = "sim",
            BaseUrl = harness.Simulator.BaseAddress.ToString().TrimEnd('/'),
            AuthKind = kind,
            UserName = user,
            ProtectedSecret = harness.App.Services.GetRequiredService<ConnectionSecrets>().Protect(secret),
            AllowInsecureHttp = true,
            Enabled = true,
        };
        db.HarborConnections.Add(connection);
        await db.SaveChangesAsync();
        harness.ConnectionId = connection.Id;
        return harness;
    }

    public async Task<PostureRunSummary> RunAsync()
    {
        await using var scope = App.Services.CreateAsyncScope();
        return (await scope.ServiceProvider.GetRequiredService<PostureRunner>().RunAsync(ConnectionId, "tester", null, CancellationToken.None))!;
    }

    public async Task<List<PostureResult>> ResultsAsync()
    {
        await using var db = App.CreateDbContext();
        return await db.PostureResults.AsNoTracking().Where(r => r.ConnectionId == ConnectionId).OrderBy(r => r.CheckId).ThenBy(r => r.Scope).ToListAsync();
    }

    public PostureResult Result(IEnumerable<PostureResult> results, PostureCheck check, string scope = PostureChecks.SystemScope) =>
        results.Single(r => r.CheckId == check.Id && r.Scope == scope);

    public async Task<List<Finding>> FindingsAsync()
    {
        await using var db = App.CreateDbContext();
        return await db.Findings.AsNoTracking().Where(f => f.SourceTool == PostureChecks.SourceTool).OrderBy(f => f.VulnerabilityId).ThenBy(f => f.ProjectName).ToListAsync();
    }

    public async Task<List<FindingEvent>> EventsAsync(long findingId)
    {
        await using var db = App.CreateDbContext();
        return await db.FindingEvents.AsNoTracking().Where(e => e.FindingId == findingId).OrderBy(e => e.Id).ToListAsync();
    }

    /// <summary>The open posture findings as "check id @ scope" lines, sorted: what a test compares with the expected list.</summary>
    public static List<string> Describe(IEnumerable<Finding> findings) =>
        [.. findings.Where(f => f.Status == FindingStatus.Open)
            .Select(f => $"{f.VulnerabilityId} @ {(f.PackageName.Length > 0 ? f.PackageName : f.ProjectName.Length > 0 ? f.ProjectName : PostureChecks.SystemScope)}")
            .Order(StringComparer.Ordinal)];

    public void SetProjectMetadata(string project, string key, string? value) => Simulator.Mutate(state =>
    {
        var metadata = state.Projects.Single(p => p.Name == project).Metadata;
        if (value is null)
        {
            metadata.Remove(key);
        }
        else
        {
            metadata[key] = value;
        }
    });

    public async ValueTask DisposeAsync()
    {
        await App.DisposeAsync();
        await Simulator.DisposeAsync();
    }
}
