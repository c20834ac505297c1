using HarborPortal.Features.Auth;
using Microsoft.AspNetCore.Mvc;

namespace HarborPortal.Features.Teams;

/// <summary>The form posts of <c>/admin/teams</c> (Admin; antiforgery is checked for every form-bound endpoint).</summary>
public static class TeamsEndpoints
{
    public static IEndpointRouteBuilder MapTeamsEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var teams = endpoints.MapGroup("/admin/teams").RequireAuthorization(PortalPolicies.Admin).ExcludeFromDescription();
        teams.MapPost("/save", SaveAsync);
        teams.MapPost("/{id:long}/delete", DeleteAsync);
        return endpoints;
    }

    private static async Task<IResult> SaveAsync([FromForm] long? id, [FromForm] string? name, [FromForm] string? group, [FromForm] string? projects, TeamCommands commands, HttpContext context)
    {
        var result = await commands.SaveAsync(id, new TeamForm(name, group, projects), context.User, context.RequestAborted);
        return result.Team is { } team
            ? TypedResults.LocalRedirect($"/admin/teams?saved={team.Id}")
            : TypedResults.LocalRedirect($"/admin/teams?error={Uri.EscapeDataString(result.Error!)}");
    }

    private static async Task<IResult> DeleteAsync(long id, TeamCommands commands, HttpContext context)
    {
        var deleted = await commands.DeleteAsync(id, context.User, context.RequestAborted);
        return TypedResults.LocalRedirect(deleted ? "/admin/teams?deleted=1" : $"/admin/teams?error={Uri.EscapeDataString($"There is no team {id}.")}");
    }
}
