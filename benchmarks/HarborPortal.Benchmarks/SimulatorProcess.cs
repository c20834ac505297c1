using System.Diagnostics;
using System.Globalization;
using HarborPortal.HarborSimulator;

namespace HarborPortal.Benchmarks;

/// <summary>
/// The Harbor simulator in a child process, so that the portal's memory and CPU are measured without Harbor's. The
/// child is this program with <see cref="ServeArgument"/>; it talks over its standard streams: it prints
/// <c>READY url ca-file</c>, answers <c>stats</c> with <c>STATS requests reports max-concurrent cpu-ms</c> and <c>reset</c> with
/// <c>OK</c>, and stops when its input closes.
/// </summary>
internal sealed class SimulatorProcess : IAsyncDisposable
{
    public const string ServeArgument = "--serve-simulator";

    private readonly Process _process;

    private SimulatorProcess(Process process, Uri baseAddress, string? caPem)
    {
        _process = process;
        BaseAddress = baseAddress;
        CaCertificatePem = caPem;
    }

    public Uri BaseAddress { get; }

    public string? CaCertificatePem { get; }

    public static async Task<SimulatorProcess> StartAsync(string command, SimGenerate generate, bool https, CancellationToken cancellationToken)
    {
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("The benchmark cannot find its own executable.");
        var start = new ProcessStartInfo(self)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            start.ArgumentList.Add(typeof(SimulatorProcess).Assembly.Location);
        }

        foreach (var argument in new[]
        {
            command, ServeArgument, generate.Projects.ToString(CultureInfo.InvariantCulture), generate.RepositoriesPerProject.ToString(CultureInfo.InvariantCulture),
            generate.ArtifactsPerRepository.ToString(CultureInfo.InvariantCulture), generate.VulnerabilitiesPerArtifact.ToString(CultureInfo.InvariantCulture), https ? "https" : "http",
        })
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("The simulator process did not start.");
        // The command line's own banner comes first.
        string? ready;
        do
        {
            ready = await process.StandardOutput.ReadLineAsync(cancellationToken);
        }
        while (ready is not null && !ready.StartsWith("READY ", StringComparison.Ordinal));

        if (ready?.Split(' ') is not ["READY", var url, var caFile])
        {
            process.Kill();
            throw new InvalidOperationException($"The simulator process said '{ready}' instead of READY.");
        }

        return new SimulatorProcess(process, new Uri(url), caFile == "-" ? null : await File.ReadAllTextAsync(caFile, cancellationToken));
    }

    public async Task<SimulatorStatistics> StatisticsAsync()
    {
        await _process.StandardInput.WriteLineAsync("stats");
        var line = await _process.StandardOutput.ReadLineAsync();
        return line?.Split(' ') is ["STATS", var requests, var reports, var concurrent, var cpu]
            ? new SimulatorStatistics(
                int.Parse(requests, CultureInfo.InvariantCulture), int.Parse(reports, CultureInfo.InvariantCulture), int.Parse(concurrent, CultureInfo.InvariantCulture),
                TimeSpan.FromMilliseconds(double.Parse(cpu, CultureInfo.InvariantCulture)))
            : throw new InvalidOperationException($"The simulator process answered '{line}'.");
    }

    public async Task ResetStatisticsAsync()
    {
        await _process.StandardInput.WriteLineAsync("reset");
        await _process.StandardOutput.ReadLineAsync();
    }

    public async ValueTask DisposeAsync()
    {
        _process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill();
        }

        _process.Dispose();
    }

    /// <summary>The child's side: runs the simulator with a generated scenario until its input closes.</summary>
    public static async Task<int> ServeAsync(string[] args)
    {
        if (args is not [var projects, var repositories, var artifacts, var vulnerabilities, var scheme])
        {
            await Console.Error.WriteLineAsync($"{ServeArgument} <projects> <repositories per project> <artifacts per repository> <vulnerabilities per artifact> <http|https>");
            return 2;
        }

        var state = SimulatorState.Generated(new SimGenerate
        {
            Projects = int.Parse(projects, CultureInfo.InvariantCulture),
            RepositoriesPerProject = int.Parse(repositories, CultureInfo.InvariantCulture),
            ArtifactsPerRepository = int.Parse(artifacts, CultureInfo.InvariantCulture),
            VulnerabilitiesPerArtifact = int.Parse(vulnerabilities, CultureInfo.InvariantCulture),
            DetailedVulnerabilities = true,
        });
        await using var simulator = await HarborSimulator.HarborSimulator.StartAsync(new HarborSimulatorOptions { State = state, Https = scheme == "https" });
        var caFile = "-";
        if (simulator.CaCertificatePem is { } pem)
        {
            caFile = Path.Combine(Path.GetTempPath(), $"harborportal-bench-ca-{Environment.ProcessId}.pem");
            await File.WriteAllTextAsync(caFile, pem);
        }

        Console.WriteLine($"READY {simulator.BaseAddress} {caFile}");
        while (await Console.In.ReadLineAsync() is { } command)
        {
            switch (command)
            {
                case "stats":
                    var requests = simulator.Requests;
                    var reports = requests.Count(r => r.RawTarget.Contains("/additions/vulnerabilities", StringComparison.Ordinal));
                    var cpu = Process.GetCurrentProcess().TotalProcessorTime.TotalMilliseconds.ToString("F0", CultureInfo.InvariantCulture);
                    Console.WriteLine($"STATS {requests.Count} {reports} {simulator.MaxConcurrentRequests} {cpu}");
                    break;
                case "reset":
                    simulator.ResetStatistics();
                    Console.WriteLine("OK");
                    break;
            }
        }

        if (caFile != "-")
        {
            File.Delete(caFile);
        }

        return 0;
    }
}

/// <param name="ProcessorTime">CPU time of the simulator's process since it started.</param>
internal sealed record SimulatorStatistics(int Requests, int Reports, int MaxConcurrentRequests, TimeSpan ProcessorTime);
