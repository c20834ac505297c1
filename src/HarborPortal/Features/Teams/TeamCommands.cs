using System.Security.Claims;
using HarborPortal.Data;
using HarborPortal.Features.Audit;
using Microsoft.EntityFrameworkCore;

namespace HarborPortal.Features.Teams;

/// <summary>What an admin submits for a team: its name, its authentik group, its projects one per line (or comma separated).</summary>
public sealed record TeamForm(string? Name, string? AuthentikGroup, string? Projects)
{
    public IReadOnlyList<string> ProjectList =>
        (Projects ?? "").Split(['\n', '\r', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal).ToList();
}

public sealed record TeamResult(Team? Team, string? Error);

/// <summary>Creates, changes and deletes teams; every change is audited with what changed.</summary>
public sealed class TeamCommands(PortalDbContext db, AuditLog audit, TimeProvider time)
{
    public async Task<TeamResult> SaveAsync(long? id, TeamForm form, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var name = form.Name?.Trim() ?? "";
        var group = form.AuthentikGroup?.Trim() ?? "";
        var projects = form.ProjectList;
        var error = name.Length == 0 ? "A team needs a name."
            : name.Length > Team.MaxNameLength ? $"A team name has at most {Team.MaxNameLength} characters."
            : group.Length == 0 ? "Name the authentik group whose members are this team."
            : group.Length > Team.MaxGroupLength ? $"A group name has at most {Team.MaxGroupLength} characters."
            : projects.FirstOrDefault(p => p.Length > 256) is { } tooLong ? $"The project name '{tooLong[..20]}…' is too long."
            : await db.Teams.AnyAsync(t => t.Name == name && t.Id != (id ?? 0), cancellationToken) ? $"There is already a team named {name}."
            : null;
        if (error is not null)
        {
            return new TeamResult(null, error);
        }

        Team? team;
        string action;
        string details;
        if (id is { } existing)
        {
            team = await db.Teams.Include(t => t.Projects).SingleOrDefaultAsync(t => t.Id == existing, cancellationToken);
            if (team is null)
            {
                return new TeamResult(null, $"There is no team {existing}.");
            }

            var before = team.Projects.Select(p => p.ProjectName).ToHashSet(StringComparer.Ordinal);
            var changes = new List<string>();
            if (team.Name != name)
            {
                changes.Add($"name {team.Name} -> {name}");
            }

            if (team.AuthentikGroup != group)
            {
                changes.Add($"group {team.AuthentikGroup} -> {group}");
            }

            var added = projects.Where(p => !before.Contains(p)).ToList();
            var removed = before.Where(p => !projects.Contains(p, StringComparer.Ordinal)).Order(StringComparer.Ordinal).ToList();
            if (added.Count > 0)
            {
                changes.Add("projects added: " + string.Join(", ", added));
            }

            if (removed.Count > 0)
            {
                changes.Add("projects removed: " + string.Join(", ", removed));
            }

            team.Name = name;
            team.AuthentikGroup = group;
            team.Projects.RemoveAll(p => removed.Contains(p.ProjectName, StringComparer.Ordinal));
            team.Projects.AddRange(added.Select(p => new TeamProject { ProjectName = p }));
            action = "team.update";
            details = changes.Count == 0 ? "no change" : string.Join("; ", changes);
        }
        else
        {
            team = new Team { Name = name, AuthentikGroup = group, Projects = [.. projects.Select(p => new TeamProject { ProjectName = p })] };
            db.Teams.Add(team);
            action = "team.create";
            details = $"group={group}; projects={string.Join(", ", projects)}";
        }

        team.UpdatedAt = time.GetUtcNow();
        team.UpdatedBy = user.Identity?.Name;
        await db.SaveChangesAsync(cancellationToken);
        await audit.WriteAsync(action, true, user.Identity?.Name, "web", $"team {team.Id} ({team.Name})", details, cancellationToken);
        return new TeamResult(team, null);
    }

    public async Task<bool> DeleteAsync(long id, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var team = await db.Teams.Include(t => t.Projects).SingleOrDefaultAsync(t => t.Id == id, cancellationToken);
        if (team is null)
        {
            return false;
        }

        db.Teams.Remove(team);
        await db.SaveChangesAsync(cancellationToken);
        await audit.WriteAsync("team.delete", true, user.Identity?.Name, "web", $"team {team.Id} ({team.Name})",
            $"group={team.AuthentikGroup}; projects={string.Join(", ", team.Projects.Select(p => p.ProjectName))}", cancellationToken);
        return true;
    }
}
