using HarborPortal.Data;
using HarborPortal.Features.Api;
using HarborPortal.Features.Auth;
using HarborPortal.Features.Teams;

namespace HarborPortal.Features.Dashboard;

/// <summary><c>GET /api/v1/dashboard</c>: the dashboard's figures as JSON, scoped like the page.</summary>
public static class DashboardEndpoints
{
    public const string ApiPath = ApiEndpoints.Prefix + "/dashboard";

    public static IEndpointRouteBuilder MapDashboardEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet(ApiPath, GetAsync)
            .RequireAuthorization(PortalPolicies.Viewer)
            .WithTags("Dashboard")
            .WithSummary("The dashboard's figures (open findings by severity and tool, trend, new versus resolved, top 10s, MTTR, SLA breaches, last syncs, scan coverage), scoped to the caller's teams for a developer.");
        return endpoints;
    }

    private static async Task<DashboardFigures> GetAsync(HttpContext context, PortalDbContext db, DashboardQuery query)
    {
        var scope = await TeamScopes.ForAsync(db, context.User, context.RequestAborted);
        return await query.LoadAsync(scope, context.RequestAborted);
    }
}
