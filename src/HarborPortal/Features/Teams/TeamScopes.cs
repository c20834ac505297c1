using System.Security.Claims;
using HarborPortal.Data;
using HarborPortal.Features.Auth;
using HarborPortal.Features.Findings;
using Microsoft.EntityFrameworkCore;

namespace HarborPortal.Features.Teams;

/// <summary>Which findings a signed-in person may read, decided once per request before any finding is queried.</summary>
public static class TeamScopes
{
    /// <summary>
    /// Admin and Security read everything, and so does a Viewer. A Developer reads only the projects owned by the teams of
    /// their authentik groups, even when another group also makes them a Viewer: being a developer means being in a
    /// team, and the narrower grant is the one a team's lead expects.
    /// </summary>
    public static async Task<FindingScope> ForAsync(PortalDbContext db, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        if (user.IsInRole(PortalRoles.Admin) || user.IsInRole(PortalRoles.Security) || !user.IsInRole(PortalRoles.Developer))
        {
            return FindingScope.Everything with { UserName = user.Identity?.Name };
        }

        var groups = user.FindAll(PortalClaimTypes.Group).Select(c => c.Value.Trim()).ToHashSet(StringComparer.OrdinalIgnoreCase);
        if (groups.Count == 0)
        {
            return new FindingScope([]) { UserName = user.Identity?.Name };
        }

        // Teams are few: matching their groups without case here keeps the SQL simple.
        var teams = await db.Teams.AsNoTracking().Include(t => t.Projects).ToListAsync(cancellationToken);
        var projects = teams.Where(t => groups.Contains(t.AuthentikGroup))
            .SelectMany(t => t.Projects.Select(p => p.ProjectName))
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .ToList();
        return new FindingScope(projects) { UserName = user.Identity?.Name };
    }
}
