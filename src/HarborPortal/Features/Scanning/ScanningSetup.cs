namespace HarborPortal.Features.Scanning;

public static class ScanningSetup
{
    /// <summary>The sync engine: runs requested through <see cref="SyncRequests"/>, executed by <see cref="SyncJob"/>.</summary>
    public static IServiceCollection AddScanning(this IServiceCollection services)
    {
        services.AddScoped<SyncRequests>();
        services.AddScoped<SyncRunner>();
        services.AddOptions<SyncOptions>().BindConfiguration(SyncOptions.SectionName);
        services.AddSingleton<PortalInstance>();
        services.AddSingleton<SyncRunLiveness>();
        return services;
    }
}
