// The project's benchmark command (not a test):
//   dotnet run -c Release --project benchmarks/HarborPortal.Benchmarks -- <name> [options]
// Database-backed ones take --database sqlite|postgres [--postgres "connection string"], and --compare (both, one table).
// Without a name it lists the benchmarks. Micro-benchmarks use BenchmarkDotNet; end-to-end ones (a whole sync,
// the findings queue) measure wall time, throughput and memory themselves and print them next to their targets.
using System.Reflection;
using HarborPortal.Benchmarks;

var commands = typeof(IBenchmarkCommand).Assembly.GetTypes()
    .Where(t => t is { IsClass: true, IsAbstract: false } && t.IsAssignableTo(typeof(IBenchmarkCommand)))
    .Select(t => (IBenchmarkCommand)Activator.CreateInstance(t)!)
    .OrderBy(c => c.Name, StringComparer.Ordinal)
    .ToList();

var command = args.Length > 0 ? commands.FirstOrDefault(c => string.Equals(c.Name, args[0], StringComparison.OrdinalIgnoreCase)) : null;
if (command is null)
{
    Console.Error.WriteLine("Usage: dotnet run -c Release --project benchmarks/HarborPortal.Benchmarks -- <benchmark> [options]");
    Console.Error.WriteLine("  queue, dashboard, threat, ingest, sync: --database sqlite|postgres (default sqlite), --postgres \"<connection string>\" (else an own");
    Console.Error.WriteLine("  throwaway cluster), --compare (SQLite then PostgreSQL, one side-by-side table)");
    foreach (var c in commands)
    {
        Console.Error.WriteLine($"  {c.Name,-12} {c.Description}");
    }

    return args.Length == 0 ? 0 : 2;
}

using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancellation.Cancel();
};
Console.WriteLine($"{command.Name}: {command.Description}");
Console.WriteLine($"{Environment.ProcessorCount} cores, .NET {Environment.Version}, {Assembly.GetEntryAssembly()!.GetName().Version}");
try
{
    return args.Contains("--compare")
        ? await BenchmarkComparison.RunAsync(command, args[1..], cancellation.Token)
        : await command.RunAsync(args[1..], cancellation.Token);
}
catch (BenchmarkUsageException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}
