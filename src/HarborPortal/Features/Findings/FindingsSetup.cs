using HarborPortal.Features.Teams;

namespace HarborPortal.Features.Findings;

public static class FindingsSetup
{
    /// <summary>The findings queue's reads (pages, facets, groups, type-ahead), per request.</summary>
    public static IServiceCollection AddFindings(this IServiceCollection services)
    {
        services.AddScoped<FindingQueue>();
        services.AddScoped<FindingsViewLoader>();
        services.AddScoped<TeamCommands>();
        return services;
    }
}
