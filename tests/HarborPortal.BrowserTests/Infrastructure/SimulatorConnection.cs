using HarborPortal.Data;
using HarborPortal.Features.Connections;
using HarborPortal.Features.Locations;
using HarborPortal.HarborSimulator;
using Microsoft.Extensions.DependencyInjection;

namespace HarborPortal.BrowserTests.Infrastructure;

/// <summary>Arranges a Harbor connection in the portal's database, for tests about what comes after registering one.</summary>
public static class SimulatorConnection
{
    /// <summary>The simulator as a connection of the portal robot (its CA trusted); returns the connection's id.</summary>
    public static async Task<long> AddAsync(PortalServerFixture server, HarborSimulator.HarborSimulator harbor, string name, ScanLocations? locations = null)
    {
        await using var scope = server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
        var connection = new HarborConnection
        {
            Name = name,
            BaseUrl = harbor.BaseAddress.ToString().TrimEnd('/'),
            UserName = DefaultScenario.PortalRobot,
            ProtectedSecret = scope.ServiceProvider.GetRequiredService<ConnectionSecrets>().Protect(DefaultScenario.PortalRobotSecret),
            AllowInsecureHttp = harbor.BaseAddress.Scheme == Uri.UriSchemeHttp,
            CaCertificatePem = harbor.CaCertificatePem,
            Enabled = true,
        };
        db.HarborConnections.Add(connection);
        await db.SaveChangesAsync();
        if (locations is not null)
        {
            db.ConnectionLocations.Add(new ConnectionLocations { ConnectionId = connection.Id, SelectionJson = locations.ToJson(), UpdatedAt = DateTimeOffset.UtcNow, UpdatedBy = "akadmin" });
            await db.SaveChangesAsync();
        }

        return connection.Id;
    }
}
