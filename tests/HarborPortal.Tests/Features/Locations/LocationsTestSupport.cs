using AngleSharp.Html.Dom;
using AngleSharp.Html.Parser;
using HarborPortal.Data;
using HarborPortal.Features.Connections;
using HarborPortal.Features.Locations;
using HarborPortal.Harbor;
using HarborPortal.HarborSimulator;
using HarborPortal.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;
using Sim = HarborPortal.HarborSimulator.HarborSimulator;

namespace HarborPortal.Tests.Features.Locations;

/// <summary>The portal with a connection to a running simulator, set up as the locations tests need it.</summary>
internal static class LocationsTestSupport
{
    /// <summary>The portal, quick to retry a failing Harbor, never verifying on save; <paramref name="locations"/> tunes the editor.</summary>
    public static PortalApplication CreateApp(ITestOutputHelper output, Action<LocationsOptions>? locations = null) =>
        new(new Dictionary<string, string?> { ["Connections:VerifyOnSave"] = "false" }, output, services =>
        {
            services.Configure<HarborClientOptions>(o => o.RetryBaseDelay = TimeSpan.FromMilliseconds(10));
            if (locations is not null)
            {
                services.Configure(locations);
            }
        });

    public static async Task SaveAsync(PortalApplication app, long connectionId, ScanLocations selection)
    {
        await using var db = app.CreateDbContext();
        db.ConnectionLocations.Add(new ConnectionLocations { ConnectionId = connectionId, SelectionJson = selection.ToJson(), UpdatedAt = DateTimeOffset.UtcNow });
        await db.SaveChangesAsync();
    }

    public static IHtmlDocument Parse(string html) => new HtmlParser().ParseDocument(html);

    /// <summary>
    /// What the simulator holds for a selection, worked out from its state alone: the repositories kept and the artifacts
    /// the policy picks in each (the simulator's artifacts seen as Harbor lists them).
    /// </summary>
    public static (int Repositories, int Artifacts) Expected(Sim simulator, ScanLocations selection) => simulator.Read(state =>
    {
        var repositories = state.Repositories
            .Where(r => selection.IncludesProject(r.ProjectName) && selection.IncludesRepository(r.ProjectName, r.Name))
            .ToList();
        var artifacts = repositories.Sum(r => selection.SelectArtifacts(state.Artifacts
            .Where(a => a.Repository == r.Name)
            .Select(a => new HarborArtifact { Digest = a.Digest, PushTime = a.PushTime, Tags = [.. a.Tags.Select(t => new HarborTag { Name = t })] })).Count);
        return (repositories.Count, artifacts);
    });
}
