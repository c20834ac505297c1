using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace HarborPortal.Features.Connections;

/// <summary>
/// Decides whether a connection may target a URL under <see cref="ConnectionsOptions.AllowedTargets"/>. A host name is
/// allowed when it matches a host entry, or when every address it resolves to lies in an allowed range (so a name that
/// points inside the network is refused as its address would be).
/// </summary>
public sealed class OutboundAllowList(IOptions<ConnectionsOptions> options)
{
    private readonly IReadOnlyList<AllowedTarget> _targets = [.. options.Value.AllowedTargets.Select(ParseEntry).OfType<AllowedTarget>()];

    public bool IsRestricted => _targets.Count > 0;

    /// <summary>Null when the URL may be targeted, else the reason it may not.</summary>
    public async Task<string?> CheckAsync(string baseUrl, CancellationToken cancellationToken)
    {
        if (!IsRestricted)
        {
            return null;
        }

        var host = new Uri(baseUrl).IdnHost.Trim('[', ']').ToLowerInvariant();
        if (IPAddress.TryParse(host, out var literal))
        {
            return IsAllowed(literal) ? null : $"{host} is not in the allowed targets (Connections:AllowedTargets). Ask the portal's operator to add it.";
        }

        if (_targets.Any(t => t.HostPattern is { } pattern && HostMatches(pattern, host)))
        {
            return null;
        }

        IPAddress[] addresses;
        try
        {
            addresses = await Dns.GetHostAddressesAsync(host, cancellationToken);
        }
        catch (SocketException)
        {
            return $"{host} is not in the allowed targets (Connections:AllowedTargets), and it does not resolve, so its address cannot be checked either.";
        }

        return addresses.Length > 0 && addresses.All(IsAllowed)
            ? null
            : $"{host} is not in the allowed targets (Connections:AllowedTargets), nor are all the addresses it resolves to ({string.Join(", ", addresses.Select(a => a.ToString()))}).";
    }

    /// <summary>True when an address (e.g. the one a connection is about to open) lies in an allowed range.</summary>
    public bool IsAllowed(IPAddress address)
    {
        if (!IsRestricted)
        {
            return true;
        }

        var normalised = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        return _targets.Any(t => t.Network is { } network && network.Contains(normalised));
    }

    internal static AllowedTarget? ParseEntry(string? entry)
    {
        var text = entry?.Trim().ToLowerInvariant() ?? "";
        if (text.Length == 0)
        {
            return null;
        }

        if (IPAddress.TryParse(text, out var address))
        {
            return new AllowedTarget(null, new IPNetwork(address, address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128));
        }

        if (text.Contains('/', StringComparison.Ordinal))
        {
            return IPNetwork.TryParse(text, out var network) ? new AllowedTarget(null, network) : null;
        }

        var name = text.StartsWith("*.", StringComparison.Ordinal) ? text[2..] : text;
        return Uri.CheckHostName(name) == UriHostNameType.Dns ? new AllowedTarget(text, null) : null;
    }

    private static bool HostMatches(string pattern, string host) =>
        pattern.StartsWith("*.", StringComparison.Ordinal)
            ? host.EndsWith(pattern[1..], StringComparison.Ordinal)
            : host == pattern;
}
