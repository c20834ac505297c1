using System.Net;
using Microsoft.AspNetCore.HttpOverrides;

namespace HarborPortal.Web;

/// <summary>
/// Behind a TLS-terminating reverse proxy the portal must see the public scheme and host (authentik checks the
/// redirect URI <c>https://portal.company/signin-oidc</c> strictly), but only a trusted proxy may say what they are.
/// </summary>
public static class ForwardedHeaders
{
    public static IServiceCollection AddPortalForwardedHeaders(this IServiceCollection services)
    {
        services.AddOptions<ForwardedHeadersOptions>().Configure<IConfiguration>((options, configuration) =>
        {
            options.ForwardedHeaders = Microsoft.AspNetCore.HttpOverrides.ForwardedHeaders.XForwardedFor
                | Microsoft.AspNetCore.HttpOverrides.ForwardedHeaders.XForwardedProto
                | Microsoft.AspNetCore.HttpOverrides.ForwardedHeaders.XForwardedHost;

            var proxies = configuration.GetSection("ForwardedHeaders:KnownProxies").Get<string[]>() ?? [];
            var networks = configuration.GetSection("ForwardedHeaders:KnownNetworks").Get<string[]>() ?? [];
            if (proxies.Length == 0 && networks.Length == 0)
            {
                // Nothing configured: the framework's default, a proxy on this machine (loopback) only.
                return;
            }

            // Configured: exactly these, and not loopback besides.
            options.KnownProxies.Clear();
            options.KnownIPNetworks.Clear();
            foreach (var proxy in proxies)
            {
                options.KnownProxies.Add(IPAddress.TryParse(proxy, out var address)
                    ? address
                    : throw new InvalidOperationException($"ForwardedHeaders:KnownProxies: '{proxy}' is not an IP address."));
            }

            foreach (var network in networks)
            {
                options.KnownIPNetworks.Add(System.Net.IPNetwork.TryParse(network, out var parsed)
                    ? parsed
                    : throw new InvalidOperationException($"ForwardedHeaders:KnownNetworks: '{network}' is not a network in CIDR notation (e.g. 10.0.0.0/8)."));
            }
        });
        return services;
    }
}
