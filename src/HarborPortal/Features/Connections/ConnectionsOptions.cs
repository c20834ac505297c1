using System.Net;

namespace HarborPortal.Features.Connections;

/// <summary>The <c>Connections</c> section.</summary>
public sealed class ConnectionsOptions
{
    public const string SectionName = "Connections";

    /// <summary>
    /// Hosts (<c>harbor.example.com</c>, <c>*.example.com</c>), IP addresses and CIDR ranges (<c>10.20.0.0/16</c>) that
    /// connections may target. Empty: any. Set it where the admin form must not become a probe of the internal network.
    /// </summary>
    public List<string> AllowedTargets { get; set; } = [];

    /// <summary>Verify connectivity after every create, update and secret rotation.</summary>
    public bool VerifyOnSave { get; set; } = true;

    /// <summary>How long each request to Harbor (and each connect/handshake of the checklist) may take.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The entries that are neither a host name, an IP address nor a CIDR range (reported at start).</summary>
    public IEnumerable<string> InvalidTargets() => AllowedTargets.Where(t => OutboundAllowList.ParseEntry(t) is null);
}

/// <summary>One allow-list entry: a host name pattern or an IP range.</summary>
internal sealed record AllowedTarget(string? HostPattern, IPNetwork? Network);
