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
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<HarborHttpClients>();
        services.TryAddSingleton<HarborClient>();
        return services;
    }
}
