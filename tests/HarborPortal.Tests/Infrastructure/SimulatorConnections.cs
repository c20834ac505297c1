using HarborPortal.Harbor;
using HarborPortal.HarborSimulator;
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
}
