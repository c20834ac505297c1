using System.Globalization;

namespace HarborPortal.Features.Locations;

/// <summary>A selection in words: the one-line summary on the connection page, and the audit line of a change.</summary>
public static class LocationsText
{
    private const int NamesInALine = 10;

    /// <summary>"All projects · all tagged artifacts", "3 projects · latest 5 per repository + untagged".</summary>
    public static string Summary(ScanLocations selection) => $"{ProjectsPart(selection)} · {ArtifactsPart(selection.Artifacts)}";

    public static string ProjectsPart(ScanLocations selection)
    {
        var withRules = selection.Projects.Count(HasRules);
        if (selection.AllProjects)
        {
            return withRules == 0 ? "All projects" : $"All projects ({Count(withRules, "with repository rules", "with repository rules")})";
        }

        return selection.Projects.Count == 1
            ? $"1 project ({selection.Projects[0].Name})"
            : $"{selection.Projects.Count.ToString(CultureInfo.InvariantCulture)} projects";
    }

    public static string ArtifactsPart(ArtifactPolicy policy)
    {
        var kind = policy.Kind switch
        {
            ArtifactPolicyKind.LatestPerRepository => $"latest {(policy.LatestCount ?? 0).ToString(CultureInfo.InvariantCulture)} per repository",
            ArtifactPolicyKind.TagPattern => $"tags matching {policy.TagPattern}",
            _ => "all tagged artifacts",
        };
        return policy.IncludeUntagged ? kind + " + untagged" : kind;
    }

    /// <summary>One project's repositories in words: "all repositories", "include payments/*; exclude **/test".</summary>
    public static string Repositories(ProjectLocation project)
    {
        if (!HasRules(project))
        {
            return "all repositories";
        }

        var parts = new List<string>();
        if (project.Include.Count > 0)
        {
            parts.Add("include " + string.Join(", ", project.Include));
        }

        if (project.Exclude.Count > 0)
        {
            parts.Add("exclude " + string.Join(", ", project.Exclude));
        }

        return string.Join("; ", parts);
    }

    /// <summary>What changed from <paramref name="before"/> to <paramref name="after"/>, for the audit log.</summary>
    public static string Changes(ScanLocations before, ScanLocations after)
    {
        var changes = new List<string>();
        if (before.AllProjects != after.AllProjects)
        {
            changes.Add(after.AllProjects ? "projects: chosen ones → all" : "projects: all → chosen ones");
        }

        var old = before.Projects.ToDictionary(p => p.Name, StringComparer.Ordinal);
        var now = after.Projects.ToDictionary(p => p.Name, StringComparer.Ordinal);
        var added = after.Projects.Where(p => !old.ContainsKey(p.Name)).Select(p => p.Name).ToList();
        var removed = before.Projects.Where(p => !now.ContainsKey(p.Name)).Select(p => p.Name).ToList();
        if (added.Count > 0)
        {
            changes.Add("added " + Names(added));
        }

        if (removed.Count > 0)
        {
            changes.Add("removed " + Names(removed));
        }

        foreach (var project in after.Projects.Where(p => old.TryGetValue(p.Name, out var was) && Repositories(was) != Repositories(p)).Take(NamesInALine))
        {
            changes.Add($"{project.Name}: {Repositories(old[project.Name])} → {Repositories(project)}");
        }

        foreach (var project in after.Projects.Where(p => added.Contains(p.Name) && HasRules(p)).Take(NamesInALine))
        {
            changes.Add($"{project.Name}: {Repositories(project)}");
        }

        if (ArtifactsPart(before.Artifacts) != ArtifactsPart(after.Artifacts))
        {
            changes.Add($"artifacts: {ArtifactsPart(before.Artifacts)} → {ArtifactsPart(after.Artifacts)}");
        }

        var summary = $"now: {Summary(after)}";
        return changes.Count == 0 ? $"no change ({summary})" : $"{string.Join("; ", changes)} ({summary})";
    }

    /// <summary>Patterns as an admin types them: separated by commas, spaces or new lines.</summary>
    public static IReadOnlyList<string> SplitPatterns(string? text) =>
        [.. (text ?? "").Split([',', ' ', '\t', '\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal)];

    public static string JoinPatterns(IEnumerable<string> patterns) => string.Join(", ", patterns);

    public static bool HasRules(ProjectLocation project) => project.Include.Count > 0 || project.Exclude.Count > 0;

    public static string Count(int count, string singular, string plural) =>
        $"{count.ToString("N0", CultureInfo.InvariantCulture)} {(count == 1 ? singular : plural)}";

    private static string Names(List<string> names) =>
        string.Join(", ", names.Take(NamesInALine)) + (names.Count > NamesInALine ? $" and {(names.Count - NamesInALine).ToString(CultureInfo.InvariantCulture)} more" : "");
}
