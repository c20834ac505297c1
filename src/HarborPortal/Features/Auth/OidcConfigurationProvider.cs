using System.Runtime.CompilerServices;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace HarborPortal.Features.Auth;

/// <summary>
/// The provider's discovery document and signing keys, from <c>&lt;Authority&gt;.well-known/openid-configuration</c>,
/// through the one <see cref="ConfigurationManager{T}"/> of the app (it caches, refreshes every 12 h and backs off
/// while the provider is down). Nothing is fetched until someone asks, so a provider that is down at start never
/// stops the portal.
/// </summary>
public sealed class OidcConfigurationProvider
{
    private readonly ConfigurationManager<OpenIdConnectConfiguration>? _manager;

    public OidcConfigurationProvider(IOptions<OidcOptions> options)
    {
        var oidc = options.Value;
        if (!oidc.IsConfigured)
        {
            return;
        }

        MetadataAddress = MetadataAddressFor(oidc.Authority);
        var http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(15) })
        {
            Timeout = TimeSpan.FromSeconds(10),
        };
        _manager = new ConfigurationManager<OpenIdConnectConfiguration>(
            MetadataAddress,
            new OpenIdConnectConfigurationRetriever(),
            new HttpDocumentRetriever(http) { RequireHttps = oidc.RequireHttpsMetadata });
    }

    /// <summary>Where the discovery document is read from; null when OIDC is not configured.</summary>
    public string? MetadataAddress { get; }

    /// <summary>The cached configuration, fetched on first use. Throws when the provider cannot be reached and nothing is cached.</summary>
    public Task<OpenIdConnectConfiguration> GetAsync(CancellationToken cancellationToken) =>
        Manager.GetConfigurationAsync(cancellationToken);

    /// <summary>
    /// Fetches the configuration again, for a token that names a key we do not know (the provider rotated its keys).
    /// IdentityModel honours this at most once per 5 minutes (after the first time), which keeps forged <c>kid</c>s
    /// from turning the portal into a load generator against the provider.
    /// </summary>
    public Task<OpenIdConnectConfiguration> RefreshAsync(CancellationToken cancellationToken)
    {
        Manager.RequestRefresh();
        return Manager.GetConfigurationAsync(cancellationToken);
    }

    /// <summary>The discovery URL for an authority. authentik's issuer ends with <c>/</c>; one without it still finds the document.</summary>
    public static string MetadataAddressFor(string authority) =>
        (authority.EndsWith('/') ? authority : authority + "/") + ".well-known/openid-configuration";

    private ConfigurationManager<OpenIdConnectConfiguration> Manager =>
        _manager ?? throw new InvalidOperationException("OpenID Connect is not configured: set Oidc:Authority and Oidc:ClientId.");
}

internal static class IdentityModelSwitches
{
    /// <summary>
    /// By default IdentityModel refreshes configuration in the background and hands out the stale keys meanwhile, so a
    /// retry right after RequestRefresh() would still see the old JWKS. Blocking refreshes let a sign-in signed with a
    /// rotated key succeed at once; sign-ins are rare enough that waiting for one fetch costs nothing. IdentityModel
    /// caches the switch the first time any of its code reads it (creating a token does), hence a module initializer.
    /// </summary>
    [ModuleInitializer]
    internal static void UseBlockingConfigurationRefresh() =>
        AppContext.SetSwitch("Switch.Microsoft.IdentityModel.UpdateConfigAsBlocking", true);
}
