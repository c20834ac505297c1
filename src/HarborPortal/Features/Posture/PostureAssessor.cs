using System.Globalization;
using HarborPortal.Features.Locations;
using HarborPortal.Harbor;
using Microsoft.Extensions.Options;

namespace HarborPortal.Features.Posture;

/// <summary>
/// What one assessment found. <see cref="ProjectsListed"/> / <see cref="RobotsListed"/> say whether the project and robot
/// listings were complete: only then does a finding whose project or robot is gone stop applying.
/// </summary>
public sealed record PostureAssessment(IReadOnlyList<PostureItem> Items, bool ProjectsListed, bool RobotsListed);

/// <summary>
/// Reads Harbor's security settings for one connection (reference §9) and applies <see cref="PostureRules"/>. Each read
/// that fails makes only its own checks "not assessed" (with the permission a refusal needs); nothing fails silently.
/// </summary>
public sealed class PostureAssessor(HarborClient harbor, IOptions<PostureOptions> options, TimeProvider time)
{
    /// <summary>The scope label used when the project list itself could not be read.</summary>
    public const string AllProjectsScope = "all projects";

    public async Task<PostureAssessment> AssessAsync(HarborConnectionSettings connection, ScanLocations locations, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var now = time.GetUtcNow();
        var items = new List<PostureItem>();

        var info = await harbor.GetSystemInfoAsync(connection, cancellationToken);
        items.Add(info.IsSuccess && info.Value?.AuthMode is not null
            ? PostureRules.AuthMode(info.Value)
            : PostureItem.NotAssessed(PostureChecks.AuthMode, PostureChecks.SystemScope, "", info.Failure ?? new HarborUnexpectedResponse(200, null, "systeminfo has no auth_mode", null), "none (systeminfo)"));

        var scanAll = await harbor.GetScanAllScheduleAsync(connection, cancellationToken);
        var noScanner = scanAll.Failure is HarborUnexpectedResponse { Status: 412 };
        items.Add(scanAll.IsSuccess || noScanner
            ? PostureRules.ScanAllSchedule(scanAll.Value, noScanner)
            : PostureItem.NotAssessed(PostureChecks.ScanAllSchedule, PostureChecks.SystemScope, "", scanAll.Failure!, "system scan-all:read"));

        var gc = await harbor.GetGcScheduleAsync(connection, cancellationToken);
        items.Add(gc.IsSuccess
            ? PostureRules.GcSchedule(gc.Value)
            : PostureItem.NotAssessed(PostureChecks.GcSchedule, PostureChecks.SystemScope, "", gc.Failure!, "system garbage-collection:read"));

        var allowlist = await harbor.GetSystemCveAllowlistAsync(connection, cancellationToken);
        items.Add(allowlist.IsSuccess
            ? PostureRules.SystemCveAllowlist(allowlist.Value ?? new HarborCveAllowlist(), now)
            : PostureItem.NotAssessed(PostureChecks.SystemCveAllowlist, PostureChecks.SystemScope, "", allowlist.Failure!, "a signed-in account"));

        var listed = await harbor.ListProjectsAsync(connection, cancellationToken: cancellationToken);
        var allProjects = listed.Value ?? [];
        var projects = allProjects.Where(p => locations.IncludesProject(p.Name)).OrderBy(p => p.Name, StringComparer.Ordinal).ToList();
        if (!listed.IsSuccess)
        {
            foreach (var check in PostureChecks.All.Where(c => c.ScopeKind == PostureScopeKind.Project))
            {
                items.Add(PostureItem.NotAssessed(check, AllProjectsScope, "", listed.Failure!, "system project:list"));
            }
        }

        foreach (var project in projects)
        {
            items.Add(PostureRules.ScanOnPush(project));
            items.Add(PostureRules.PreventVulnerable(project, settings.MinimumPreventSeverity));
            items.Add(PostureRules.ContentTrust(project, settings.RequireContentTrust));
            items.Add(PostureRules.PublicProject(project));
            items.Add(await RetentionAsync(connection, project, cancellationToken));
            items.Add(PostureRules.ProjectCveAllowlist(project, now));
        }

        items.Add(await ScannerAsync(connection, projects, cancellationToken));
        var (robots, robotsListed) = await RobotsAsync(connection, allProjects, projects, now, settings.RobotExpiryWarningDays, cancellationToken);
        items.AddRange(robots);
        return new PostureAssessment(items, listed.IsSuccess, robotsListed);
    }

    private async Task<PostureItem> RetentionAsync(HarborConnectionSettings connection, HarborProject project, CancellationToken cancellationToken)
    {
        if (project.Metadata?.GetValueOrDefault("retention_id") is not { } idText
            || !long.TryParse(idText, NumberStyles.None, CultureInfo.InvariantCulture, out var id) || id <= 0)
        {
            return PostureRules.TagRetention(project, null);
        }

        var policy = await harbor.GetRetentionPolicyAsync(connection, id, cancellationToken);
        return policy.IsSuccess ? PostureRules.TagRetention(project, policy.Value)
            : policy.Failure is HarborNotFound ? PostureItem.Fail(PostureChecks.TagRetention, project.Name, project.Name, $"retention_id = {id} points to no policy: every tag is kept forever.")
            : PostureItem.NotAssessed(PostureChecks.TagRetention, project.Name, project.Name, policy.Failure!, $"tag-retention:read on {project.Name}");
    }

    // Every registration needs system scanner:list, which the recommended robot lacks: the scanner a project uses (the
    // default, unless the project chose its own) answers the same question with project scanner:read.
    private async Task<PostureItem> ScannerAsync(HarborConnectionSettings connection, IReadOnlyList<HarborProject> projects, CancellationToken cancellationToken)
    {
        var list = await harbor.ListScannersAsync(connection, cancellationToken);
        if (list.IsSuccess)
        {
            return PostureRules.Scanner(list.Value ?? [], fromList: true);
        }

        if (list.Failure is not (HarborForbidden or HarborUnauthorized) || projects.Count == 0)
        {
            return PostureItem.NotAssessed(PostureChecks.Scanner, PostureChecks.SystemScope, "", list.Failure!, "system scanner:list (or scanner:read on a project)");
        }

        var used = await harbor.GetProjectScannerAsync(connection, projects[0].Name, cancellationToken);
        return used.IsSuccess
            ? PostureRules.Scanner(used.Value is null ? [] : [used.Value], fromList: false)
            : PostureItem.NotAssessed(PostureChecks.Scanner, PostureChecks.SystemScope, "", used.Failure!, "system scanner:list (or scanner:read on a project)");
    }

    // A robot credential checks only itself (robots may not list robots unless granted robot:list, and other robots are
    // not the portal's business); a user checks the system robots and those of every scanned project.
    private async Task<(List<PostureItem> Items, bool Complete)> RobotsAsync(
        HarborConnectionSettings connection, IReadOnlyList<HarborProject> allProjects, IReadOnlyList<HarborProject> projects, DateTimeOffset now, int warningDays, CancellationToken cancellationToken)
    {
        var check = PostureChecks.RobotExpiry;
        var items = new List<PostureItem>();
        if (connection.AuthKind == HarborAuthKind.Robot)
        {
            var own = connection.UserName;
            var plus = own.IndexOf('+', StringComparison.Ordinal);
            var dollar = own.IndexOf('$', StringComparison.Ordinal);
            var ownProject = plus > 0 ? own[(dollar + 1)..plus] : null;
            HarborResult<IReadOnlyList<HarborRobot>> robots;
            string permission;
            if (ownProject is null)
            {
                robots = await harbor.ListSystemRobotsAsync(connection, cancellationToken);
                permission = "system robot:list";
            }
            else if (allProjects.FirstOrDefault(p => p.Name == ownProject) is { } project)
            {
                robots = await harbor.ListProjectRobotsAsync(connection, project.ProjectId, cancellationToken);
                permission = $"robot:list on {ownProject}";
            }
            else
            {
                items.Add(new PostureItem(check, own, ownProject, PostureOutcome.NotAssessed, $"The project {ownProject} of this robot is not visible to it."));
                return (items, false);
            }

            if (!robots.IsSuccess)
            {
                items.Add(PostureItem.NotAssessed(check, own, ownProject ?? "", robots.Failure!, permission));
                return (items, false);
            }

            items.Add(robots.Value!.FirstOrDefault(r => r.Name == own) is { } self
                ? PostureRules.RobotExpiry(self, ownProject ?? "", now, warningDays)
                : new PostureItem(check, own, ownProject ?? "", PostureOutcome.NotAssessed, "The connection's own robot is not in Harbor's robot list (a legacy robot?)."));
            return (items, true);
        }

        var complete = true;
        var system = await harbor.ListSystemRobotsAsync(connection, cancellationToken);
        if (system.IsSuccess)
        {
            items.AddRange(system.Value!.Select(r => PostureRules.RobotExpiry(r, "", now, warningDays)));
        }
        else
        {
            complete = false;
            items.Add(PostureItem.NotAssessed(check, "system robots", "", system.Failure!, "system robot:list"));
        }

        foreach (var project in projects)
        {
            var robots = await harbor.ListProjectRobotsAsync(connection, project.ProjectId, cancellationToken);
            if (robots.IsSuccess)
            {
                items.AddRange(robots.Value!.Select(r => PostureRules.RobotExpiry(r, project.Name, now, warningDays)));
            }
            else
            {
                complete = false;
                items.Add(PostureItem.NotAssessed(check, $"robots of {project.Name}", project.Name, robots.Failure!, $"robot:list on {project.Name}"));
            }
        }

        return (items, complete);
    }
}
