using HarborPortal.Features.Operations;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace HarborPortal.Harbor;

public static class HarborServiceCollectionExtensions
{
    /// <summary>Registers <see cref="HarborClient"/> and the per-connection <see cref="HttpClient"/> cache behind it.</summary>
    public static IServiceCollection AddHarborClient(this IServiceCollection services, Action<HarborClientOptions>? configure = null)
    {
        var options = services.AddOptions<HarborClientOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.AddLogging();
        // The client counts its failures (Harbor errors by kind) on the host's meters.
        services.AddMetrics();
        services.TryAddSingleton<PortalMetrics>();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<HarborHttpClients>();
        services.TryAddSingleton<HarborClient>();
        return services;
    }
}
