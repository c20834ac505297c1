using HarborPortal.Data;
using HarborPortal.Features.Connections;
using HarborPortal.Harbor;
using HarborPortal.HarborSimulator;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Sim = HarborPortal.HarborSimulator.HarborSimulator;

namespace HarborPortal.Tests.Infrastructure;

public static class SimulatorConnections
{
    /// <summary>Client settings for a robot on the simulator: its CA trusted, plain HTTP allowed only when it serves HTTP.</summary>
    public static HarborConnectionSettings Robot(Sim simulator, string name = DefaultScenario.PortalRobot, string secret = DefaultScenario.PortalRobotSecret) => new()
    {
        BaseUrl = simulator.BaseAddress,
        UserName = name,
        Secret = secret,
        AllowInsecureHttp = simulator.BaseAddress.Scheme == "http",
        CaCertificatePem = simulator.CaCertificatePem,
        Timeout = TimeSpan.FromSeconds(10),
    };

    /// <summary>
    /// Saves the simulator as the connection "sim" with the portal's robot, its secret protected by that portal's keys
    /// (on several instances: the shared keys), straight in the database. Returns the connection's id.
    /// </summary>
    /// <param name="url">Another address for it (e.g. a closed port, for a Harbor that cannot be reached).</param>
    public static async Task<long> AddAsync(IServiceProvider services, Sim simulator, string name = "sim", string secret = DefaultScenario.PortalRobotSecret, Uri? url = null)
    {
        await using var db = await services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
        var connection = new HarborConnection
        {
            Name = name,
            BaseUrl = (url ?? simulator.BaseAddress).ToString().TrimEnd('/'),
            UserName = DefaultScenario.PortalRobot,
            ProtectedSecret = services.GetRequiredService<ConnectionSecrets>().Protect(secret),
            AllowInsecureHttp = true,
            CaCertificatePem = simulator.CaCertificatePem,
            Enabled = true,
        };
        db.HarborConnections.Add(connection);
        await db.SaveChangesAsync();
        return connection.Id;
    }
}
