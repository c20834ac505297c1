using HarborPortal.Features.Scanning;
using HarborPortal.HarborSimulator;
using Xunit.Abstractions;

namespace HarborPortal.Tests.Features.Scanning;

// Artifacts without a report: counted as not scanned, or — when the connection allows it — sent to Harbor's scanner.
public sealed class ScanUnscannedTests(ITestOutputHelper output) : IAsyncLifetime
{
    private SyncHarness _harness = null!;
    private SimArtifact _unscanned = null!;

    public async Task InitializeAsync()
    {
        _harness = await SyncHarness.StartAsync(output);
        _unscanned = _harness.Simulator.AddArtifact("team-a/payments-api", "1.9.0", "api", scanStatus: null);
    }

    public async Task DisposeAsync() => await _harness.DisposeAsync();

    [Fact]
    public async Task Off_Unscanned_Artifacts_Are_Only_Counted()
    {
        var run = await _harness.SyncAsync();

        Assert.Equal(SyncRunStatus.Succeeded, run.Status);
        Assert.Equal(1, run.ArtifactsNotScanned);
        Assert.Equal(0, run.ArtifactsScanRequested);
        Assert.Equal(1, run.ArtifactsScanFailed);
        Assert.DoesNotContain(_harness.Simulator.Requests, r => r.Method == "POST");
    }

    [Fact]
    public async Task On_The_Sync_Asks_Harbor_To_Scan_And_The_Next_Sync_Reads_The_Report()
    {
        await _harness.SetScanUnscannedAsync(true);

        var asking = await _harness.SyncAsync();

        Assert.Equal(SyncRunStatus.Succeeded, asking.Status);
        Assert.Equal(1, asking.ArtifactsScanRequested);
        Assert.Equal(0, asking.ArtifactsNotScanned);
        var scan = Assert.Single(_harness.Simulator.Requests, r => r.Method == "POST");
        Assert.Equal($"/api/v2.0/projects/team-a/repositories/payments-api/artifacts/{Uri.EscapeDataString(_unscanned.Digest)}/scan", scan.RawTarget);
        Assert.DoesNotContain(await _harness.FindingsAsync(), f => f.Digest == _unscanned.Digest);

        await WaitForScanAsync();
        var reading = await _harness.SyncAsync();

        Assert.Equal(1, reading.ReportsFetched);
        Assert.Equal(0, reading.ArtifactsScanRequested);
        Assert.Equal(4, (await _harness.FindingsAsync()).Count(f => f.Digest == _unscanned.Digest));
    }

    [Fact]
    public async Task Without_Scan_Permission_The_Run_Says_So_Once_And_Stops_Asking()
    {
        await _harness.SetScanUnscannedAsync(true);
        _harness.Simulator.AddArtifact("team-a/payments-api", "1.9.1", "api", scanStatus: null);
        _harness.Simulator.AddArtifact("library/nginx", "1.28", "nginx", scanStatus: null);
        _harness.Simulator.Mutate(state => state.Robots.Single(r => r.Name == "harbor-portal").Permissions
            .ForEach(p => p.Access.RemoveAll(a => a is { Resource: "scan", Action: "create" })));

        var run = await _harness.SyncAsync();

        Assert.Equal(SyncRunStatus.Partial, run.Status);
        var error = Assert.Single(run.ErrorList);
        Assert.Contains("scan:create", error, StringComparison.Ordinal);
        Assert.Equal(0, run.ArtifactsScanRequested);
        Assert.Equal(3, run.ArtifactsNotScanned);
        Assert.Single(_harness.Simulator.Requests, r => r.Method == "POST");
    }

    private async Task WaitForScanAsync()
    {
        for (var i = 0; i < 300 && _harness.Simulator.Read(_ => _unscanned.ScanStatus) != "Success"; i++)
        {
            await Task.Delay(50);
        }

        Assert.Equal("Success", _harness.Simulator.Read(_ => _unscanned.ScanStatus));
    }
}
