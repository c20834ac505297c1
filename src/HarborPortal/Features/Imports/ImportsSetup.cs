namespace HarborPortal.Features.Imports;

public static class ImportsSetup
{
    /// <summary>Trivy JSON and SARIF uploads that become findings of their own source tools.</summary>
    public static IServiceCollection AddImports(this IServiceCollection services)
    {
        services.AddOptions<ImportOptions>()
            .BindConfiguration(ImportOptions.SectionName)
            // The framework's multipart reader stops at 128 MB; 100 MB leaves it room for the form around the file.
            .Validate(o => o.MaxFileBytes is >= 1024 and <= 100L * 1024 * 1024, "Imports:MaxFileBytes must be between 1024 and 104857600 (100 MB).")
            .ValidateOnStart();
        services.AddScoped<ReportImporter>();
        return services;
    }
}
