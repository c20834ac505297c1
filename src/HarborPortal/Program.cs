using HarborPortal;
using HarborPortal.Features.AdminCli;
using HarborPortal.Features.Demo;
using HarborPortal.Web;

// `HarborPortal healthcheck`: the container's probe, answered before anything else starts.
if (HealthProbe.IsHealthCheckCommand(args))
{
    return await HealthProbe.RunAsync(args);
}

// `--demo` becomes configuration here, so that tests can start the demo through the same path (Demo:Enabled=true).
var builder = WebApplication.CreateBuilder(DemoMode.ReadSwitch(args));
try
{
    builder.AddHarborPortal();
}
catch (DemoModeRefusedException refused)
{
    // A refused `--demo` is a wrong command line, not a crash: say why and exit 2, as `admin …` does.
    await Console.Error.WriteLineAsync(refused.Message);
    return 2;
}

var app = builder.Build();

// `dotnet run -- admin …`: the same binary and configuration, a command instead of the web server.
if (AdminCommandLine.IsAdminCommand(args))
{
    return await AdminCommandLine.RunAsync(app, args, Console.Out, Console.Error);
}

await app.UseHarborPortalAsync();
await app.RunAsync();
return 0;
