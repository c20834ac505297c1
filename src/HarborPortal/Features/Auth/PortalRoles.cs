using Microsoft.AspNetCore.Authorization;

namespace HarborPortal.Features.Auth;

/// <summary>The portal's four roles, most powerful first.</summary>
public static class PortalRoles
{
    public const string Admin = "Admin";
    public const string Security = "Security";
    public const string Developer = "Developer";
    public const string Viewer = "Viewer";

    public static readonly IReadOnlyList<string> All = [Admin, Security, Developer, Viewer];

    /// <summary>The canonical spelling of a role name, or null when it is not one of ours.</summary>
    public static string? Normalize(string? role) =>
        All.FirstOrDefault(r => string.Equals(r, role?.Trim(), StringComparison.OrdinalIgnoreCase));
}

/// <summary>
/// Authorization policies, one per "at least this role" level. Every page, form and endpoint names one of
/// these (or is explicitly anonymous); the fallback policy makes anything unnamed need <see cref="Viewer"/>.
/// </summary>
public static class PortalPolicies
{
    public const string Admin = "RequireAdmin";
    public const string Security = "RequireSecurity";
    public const string Developer = "RequireDeveloper";
    public const string Viewer = "RequireViewer";

    public static IServiceCollection AddPortalAuthorization(this IServiceCollection services)
    {
        services.AddAuthorizationBuilder()
            .AddPolicy(Admin, p => p.RequireAuthenticatedUser().RequireRole(PortalRoles.Admin))
            .AddPolicy(Security, p => p.RequireAuthenticatedUser().RequireRole(PortalRoles.Admin, PortalRoles.Security))
            .AddPolicy(Developer, p => p.RequireAuthenticatedUser().RequireRole(PortalRoles.Admin, PortalRoles.Security, PortalRoles.Developer))
            .AddPolicy(Viewer, ViewerPolicy)
            .SetFallbackPolicy(ViewerPolicy);
        return services;
    }

    private static readonly AuthorizationPolicy ViewerPolicy = new AuthorizationPolicyBuilder()
        .RequireAuthenticatedUser()
        .RequireRole(PortalRoles.All)
        .Build();
}
