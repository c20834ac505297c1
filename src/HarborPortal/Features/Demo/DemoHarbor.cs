using System.Security.Claims;
using System.Text;
using HarborPortal.Features.Auth;
using HarborPortal.Features.Connections;
using HarborPortal.Features.Scanning;
using HarborPortal.HarborSimulator;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Sim = HarborPortal.HarborSimulator.HarborSimulator;

namespace HarborPortal.Features.Demo;

/// <summary>
/// Demo mode's Harbor: the test suite's simulator (default scenario, HTTP on a free loopback port, in this process) is
/// registered as "Demo Harbor" through the same commands an admin's form uses (so it is audited and verified), a first
/// sync is requested, and — once the portal listens — how to sign in is printed. A restarted demo keeps its data and
/// points the connection at the new simulator's port.
/// </summary>
internal sealed partial class DemoHarbor(
    IServiceScopeFactory scopes, DemoSignIn signIn, IHostApplicationLifetime lifetime, IServer server, IOptions<OidcOptions> oidc,
    IOptions<LocalAdminOptions> localAdminOptions, LocalAdminAvailability localAdmin, IOptions<PortalOptions> portal, IWebHostEnvironment environment,
    ILogger<DemoHarbor> logger) : IHostedService, IAsyncDisposable
{
    public const string ConnectionName = "Demo Harbor";
    public const string Actor = "demo";

    private Sim? _simulator;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _simulator = await Sim.StartAsync(new HarborSimulatorOptions { Https = false, Scenario = "default" }, cancellationToken);
        await using var scope = scopes.CreateAsyncScope();
        var services = scope.ServiceProvider;
        var db = services.GetRequiredService<Data.PortalDbContext>();
        var commands = services.GetRequiredService<ConnectionCommands>();
        var user = new ClaimsPrincipal(new ClaimsIdentity([new Claim(PortalClaimTypes.Name, Actor), new Claim(PortalClaimTypes.AuthMethod, Actor)], Actor, PortalClaimTypes.Name, PortalClaimTypes.Role));
        var form = new ConnectionForm
        {
            Name = ConnectionName,
            Url = _simulator.BaseAddress.ToString(),
            AuthKind = HarborAuthKind.Robot,
            UserName = DefaultScenario.PortalRobot,
            Secret = DefaultScenario.PortalRobotSecret,
            RobotPrefix = HarborConnection.DefaultRobotPrefix,
            AllowInsecureHttp = true,
            Enabled = true,
        };

        var existing = await db.HarborConnections.AsNoTracking().Where(c => c.Name == ConnectionName).Select(c => (long?)c.Id).SingleOrDefaultAsync(cancellationToken);
        var saved = existing is { } id
            ? await commands.UpdateAsync(id, form, user, cancellationToken)
            : await commands.CreateAsync(form, user, cancellationToken);
        if (saved.Connection is not { } connection)
        {
            // E.g. Connections:AllowedTargets excludes loopback: the portal still runs, and says why the demo Harbor is missing.
            Log.NotRegistered(logger, string.Join(" ", saved.Errors?.All.SelectMany(e => e.Value) ?? []));
            return;
        }

        var sync = await services.GetRequiredService<SyncRequests>().StartAsync(connection.Id, Actor, cancellationToken, SyncTrigger.Demo);
        var harbor = $"\"{ConnectionName}\" is the Harbor simulator at {_simulator.BaseAddress} (robot {DefaultScenario.PortalRobot}); "
            + (sync is null ? "no sync was started." : $"{(sync.AlreadyRunning ? "a sync is already under way" : "its first sync is requested")} (run {sync.RunId}).");
        lifetime.ApplicationStarted.Register(() => Log.Ready(logger, Instructions(connection.Id, harbor)));
    }

    public async Task StopAsync(CancellationToken cancellationToken) => await DisposeAsync();

    public async ValueTask DisposeAsync()
    {
        if (_simulator is not null)
        {
            await _simulator.DisposeAsync();
            _simulator = null;
        }
    }

    private string Instructions(long connectionId, string harbor)
    {
        var address = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()?.TrimEnd('/') ?? "the portal's address";
        var text = new StringBuilder()
            .AppendLine("HarborPortal demo mode — nobody is signed in automatically.")
            .AppendLine($"  Open {address}/ and sign in:");
        if (localAdmin.IsEnabled)
        {
            var userName = localAdminOptions.Value.UserName;
            text.AppendLine(signIn.GeneratedPassword is { } password
                ? $"    the break-glass administrator: user '{userName}', password '{password}' (set for this demo run)"
                : $"    the break-glass administrator: user '{userName}' with the LocalAdmin:Password you configured");
        }

        if (oidc.Value.IsConfigured)
        {
            text.AppendLine($"    or \"Log in via {oidc.Value.DisplayName}\" ({oidc.Value.Authority}): your groups decide your role");
        }

        return text
            .AppendLine($"  {harbor}")
            .AppendLine($"  Watch it on {address}/admin/connections/{connectionId}#sync, then browse the findings.")
            .Append($"  Demo data lives in {portal.Value.ResolveDataDirectory(environment.ContentRootPath)} — delete that folder to start over.")
            .ToString();
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "{Instructions}")]
        public static partial void Ready(ILogger logger, string instructions);

        [LoggerMessage(2, LogLevel.Error, "Demo mode could not register the Harbor simulator: {Reason}")]
        public static partial void NotRegistered(ILogger logger, string reason);
    }
}
