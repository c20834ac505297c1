// A Harbor to try the portal against, without a Harbor: the test simulator on a loopback port.
//   dotnet run --project tests/HarborPortal.HarborSimulator.Demo -- [--port 8443] [--http] [--scenario default|large]
using HarborPortal.HarborSimulator;

var options = new HarborSimulatorOptions { Https = true, Port = 8443 };
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--port" when i + 1 < args.Length && int.TryParse(args[i + 1], out var port):
            options.Port = port;
            i++;
            break;
        case "--http":
            options.Https = false;
            break;
        case "--scenario" when i + 1 < args.Length:
            options.Scenario = args[++i];
            break;
        default:
            Console.Error.WriteLine("Usage: [--port N] [--http] [--scenario default|large]");
            return 2;
    }
}

await using var harbor = await HarborSimulator.StartAsync(options);
Console.WriteLine($"Harbor simulator ({options.Scenario}) listening on {harbor.BaseAddress}");
Console.WriteLine("Register it in the portal (Admin → Connections) with the robot account:");
Console.WriteLine($"  {DefaultScenario.PortalRobot} / {DefaultScenario.PortalRobotSecret}   (a system robot covering all projects)");
if (harbor.CaCertificatePem is { } ca)
{
    var path = Path.Combine(Path.GetTempPath(), "harbor-simulator-ca.pem");
    await File.WriteAllTextAsync(path, ca);
    Console.WriteLine($"Its private CA (paste it under Advanced → Private CA): {path}");
}

Console.WriteLine("Press Ctrl+C to stop.");
var stopped = new TaskCompletionSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stopped.TrySetResult();
};
await stopped.Task;
return 0;
