using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace HarborPortal.Features.Auth;

/// <summary>
/// Reads discovery once after start, in the background (the provider may come up after the portal), and warns about
/// setups that sign in but should not be left as they are: authentik without a signing key (HS256 keyed with the
/// client secret), an empty JWKS, an Authority that is not the issuer.
/// </summary>
public sealed partial class OidcStartupCheck(
    OidcConfigurationProvider configuration,
    OidcHealth health,
    IOptions<OidcOptions> options,
    TimeProvider time,
    ILogger<OidcStartupCheck> logger) : BackgroundService
{
    private static readonly TimeSpan MaxDelay = TimeSpan.FromMinutes(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.IsConfigured)
        {
            return;
        }

        // Retried with backoff until discovery answers once; sign-in does not wait for this.
        var delay = TimeSpan.FromSeconds(5);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var config = await configuration.GetAsync(stoppingToken);
                var warnings = Check(config, options.Value);
                foreach (var warning in warnings)
                {
                    Log.Warning(logger, warning);
                }

                health.Report(warnings, time.GetUtcNow());
                return;
            }
            catch (InvalidOperationException ex)
            {
                Log.DiscoveryFailed(logger, configuration.MetadataAddress, delay, ex);
            }

            await Task.Delay(delay, time, stoppingToken);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxDelay.Ticks));
        }
    }

    /// <summary>The warnings for a discovery document, as an admin should read them.</summary>
    public static IReadOnlyList<string> Check(OpenIdConnectConfiguration config, OidcOptions options)
    {
        var warnings = new List<string>();
        var algorithms = config.IdTokenSigningAlgValuesSupported;
        var asymmetric = algorithms.Where(a => !a.StartsWith("HS", StringComparison.Ordinal)).ToList();
        if (algorithms.Count > 0 && asymmetric.Count == 0)
        {
            warnings.Add(
                "authentik has no signing key selected: tokens are HS256 with the client secret, so anyone who knows the secret can mint them " +
                "and rotating the secret breaks sign-in. Select a signing key (RS256 or ES256) on the provider in authentik.");
        }
        else if (config.SigningKeys.Count == 0)
        {
            warnings.Add("The provider's JWKS holds no signing key: id_tokens signed with " + string.Join(", ", asymmetric) + " cannot be verified.");
        }

        if (!string.Equals(config.Issuer, options.Authority, StringComparison.Ordinal))
        {
            warnings.Add($"Oidc:Authority '{options.Authority}' differs from the issuer '{config.Issuer}' in discovery; tokens are checked against the issuer. Set Oidc:Authority to the issuer (authentik's ends with '/').");
        }

        if (algorithms.Count > 0 && !algorithms.Any(a => OidcTokenValidator.AllowedAlgorithms.Contains(a, StringComparer.Ordinal)))
        {
            warnings.Add($"The provider signs with {string.Join(", ", algorithms)}, none of which the portal accepts.");
        }

        if (algorithms.Contains(SecurityAlgorithms.HmacSha256) && System.Text.Encoding.UTF8.GetByteCount(options.ClientSecret) < 32)
        {
            warnings.Add("HS256 needs a client secret of at least 32 bytes; Oidc:ClientSecret is shorter.");
        }

        return warnings;
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "OIDC setup: {Warning}")]
        public static partial void Warning(ILogger logger, string warning);

        [LoggerMessage(2, LogLevel.Warning, "The identity provider's discovery document at {MetadataAddress} cannot be read yet; trying again in {Delay}")]
        public static partial void DiscoveryFailed(ILogger logger, string? metadataAddress, TimeSpan delay, Exception exception);
    }
}
