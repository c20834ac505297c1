namespace HarborPortal.Features.Locations;

public static class LocationsSetup
{
    /// <summary>The scanned-locations editor: Harbor browsing for the tree and hints, the preview, and saving.</summary>
    public static IServiceCollection AddScanLocations(this IServiceCollection services)
    {
        services.AddOptions<LocationsOptions>()
            .BindConfiguration(LocationsOptions.SectionName)
            .Validate(o => o.PreviewConcurrency is >= 1 and <= 16, "Locations:PreviewConcurrency must be between 1 and 16.")
            .Validate(o => o.ProjectsPerPage is >= 1 and <= 100 && o.RepositoriesPerPage is >= 1 and <= 100, "Locations:ProjectsPerPage and RepositoriesPerPage must be between 1 and 100 (Harbor's largest page).")
            .ValidateOnStart();
        services.AddSingleton<RepositoryNameCache>();
        services.AddSingleton<LocationsHarbor>();
        services.AddSingleton<LocationsPreview>();
        services.AddScoped<LocationsCommands>();
        return services;
    }
}
