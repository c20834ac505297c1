namespace HarborPortal.HarborSimulator;

/// <summary>How to start a <see cref="HarborSimulator"/>.</summary>
public sealed class HarborSimulatorOptions
{
    /// <summary>Serve HTTPS with a server certificate signed by a CA generated at start (see <see cref="HarborSimulator.CaCertificatePem"/>).</summary>
    public bool Https { get; set; }

    /// <summary>A scenario file name under <c>Scenarios/</c> (<c>default</c>, <c>large</c>); ignored when <see cref="State"/> is set.</summary>
    public string Scenario { get; set; } = "default";

    /// <summary>A state built in code, used instead of <see cref="Scenario"/>.</summary>
    public SimulatorState? State { get; set; }

    /// <summary>Harbor release to imitate; decides version-dependent behaviour (default report types, <c>harbor_version</c> visibility).</summary>
    public string Version { get; set; } = "v2.11.0";

    /// <summary>How long a triggered scan stays Running before it succeeds.</summary>
    public TimeSpan ScanDuration { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Harbor (db_auth) sleeps 1.5 s after a failed basic-auth login; zero by default to keep tests fast.</summary>
    public TimeSpan FailedLoginDelay { get; set; } = TimeSpan.Zero;

    /// <summary>The loopback port to listen on; 0 (the default, for tests) picks a free one.</summary>
    public int Port { get; set; }

    /// <summary>The <c>external_url</c> reported by systeminfo; defaults to the simulator's own address.</summary>
    public string? ExternalUrl { get; set; }
}
