using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using HarborPortal.Harbor;

namespace HarborPortal.Features.Locations;

/// <summary>Which artifacts of a selected repository are synced.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ArtifactPolicyKind>))]
public enum ArtifactPolicyKind
{
    /// <summary>Every tagged artifact.</summary>
    AllTagged,

    /// <summary>The newest N artifacts per repository, by push time.</summary>
    LatestPerRepository,

    /// <summary>Artifacts with at least one tag matching <see cref="ArtifactPolicy.TagPattern"/>.</summary>
    TagPattern,
}

/// <summary>The artifact rule applied inside every selected repository.</summary>
public sealed record ArtifactPolicy
{
    public const int MaxLatestCount = 1000;

    public ArtifactPolicyKind Kind { get; init; } = ArtifactPolicyKind.AllTagged;

    /// <summary>N for <see cref="ArtifactPolicyKind.LatestPerRepository"/>.</summary>
    public int? LatestCount { get; init; }

    /// <summary>For <see cref="ArtifactPolicyKind.TagPattern"/>: globs separated by commas (<c>v*, release-*</c>).</summary>
    public string? TagPattern { get; init; }

    /// <summary>Untagged artifacts (pushed by digest, or left behind by a re-tag) are left out unless asked for.</summary>
    public bool IncludeUntagged { get; init; }
}

/// <summary>
/// A selected project. With no <see cref="Include"/> patterns every repository is in, minus the <see cref="Exclude"/>
/// ones. Patterns are globs over the repository's name inside the project (<c>payments/*</c>, <c>**-test</c>).
/// </summary>
public sealed record ProjectLocation
{
    public required string Name { get; init; }

    public IReadOnlyList<string> Include { get; init; } = [];

    public IReadOnlyList<string> Exclude { get; init; } = [];
}

/// <summary>
/// The scanned locations of one connection: all projects or some, the repositories of each, and the artifact policy.
/// The one place that decides whether something is in scope: the sync, the preview and the webhooks all ask it.
/// </summary>
public sealed record ScanLocations
{
    public const int MaxProjects = 5000;
    public const int MaxPatternsPerProject = 50;
    public const int MaxPatternLength = 256;

    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    /// <summary>What a connection scans until an admin narrows it: every project, every tagged artifact.</summary>
    public static ScanLocations Everything { get; } = new();

    /// <summary>True: every project Harbor lists (with <see cref="Projects"/> only refining repositories); false: only <see cref="Projects"/>.</summary>
    public bool AllProjects { get; init; } = true;

    public IReadOnlyList<ProjectLocation> Projects { get; init; } = [];

    public ArtifactPolicy Artifacts { get; init; } = new();

    public bool IncludesProject(string projectName) =>
        AllProjects || Projects.Any(p => string.Equals(p.Name, projectName, StringComparison.Ordinal));

    /// <param name="projectName">The project.</param>
    /// <param name="repositoryName">The repository's full name (<c>team-a/payments/api</c>) or its name inside the project.</param>
    public bool IncludesRepository(string projectName, string repositoryName)
    {
        if (!IncludesProject(projectName))
        {
            return false;
        }

        var project = Projects.FirstOrDefault(p => string.Equals(p.Name, projectName, StringComparison.Ordinal));
        if (project is null)
        {
            return true;
        }

        var inProject = repositoryName.StartsWith(projectName + "/", StringComparison.Ordinal) ? repositoryName[(projectName.Length + 1)..] : repositoryName;
        var included = project.Include.Count == 0 || project.Include.Any(p => Glob.Matches(p, inProject));
        return included && !project.Exclude.Any(p => Glob.Matches(p, inProject));
    }

    /// <summary>The artifacts of one repository that the policy selects, newest first.</summary>
    public IReadOnlyList<HarborArtifact> SelectArtifacts(IEnumerable<HarborArtifact> artifacts)
    {
        var policy = Artifacts;
        var newestFirst = artifacts.OrderByDescending(a => a.PushTime ?? DateTimeOffset.MinValue).ThenBy(a => a.Digest, StringComparer.Ordinal);
        IEnumerable<HarborArtifact> candidates = newestFirst.Where(a => IsTagged(a) || policy.IncludeUntagged);
        return policy.Kind switch
        {
            ArtifactPolicyKind.LatestPerRepository => [.. candidates.Take(Math.Max(0, policy.LatestCount ?? 0))],
            ArtifactPolicyKind.TagPattern => [.. candidates.Where(a => !IsTagged(a) || a.Tags!.Any(t => TagMatches(policy.TagPattern, t.Name)))],
            _ => [.. candidates],
        };
    }

    /// <summary>What is wrong with this selection, in words an admin can act on; empty when it can be saved.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!AllProjects && Projects.Count == 0)
        {
            errors.Add("Choose at least one project, or all projects.");
        }

        if (Projects.Count > MaxProjects)
        {
            errors.Add($"At most {MaxProjects} projects can be listed.");
        }

        foreach (var duplicate in Projects.GroupBy(p => p.Name, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            errors.Add($"Project '{duplicate.Key}' is listed twice.");
        }

        foreach (var project in Projects)
        {
            if (string.IsNullOrWhiteSpace(project.Name))
            {
                errors.Add("A project has no name.");
                continue;
            }

            if (project.Include.Count + project.Exclude.Count > MaxPatternsPerProject)
            {
                errors.Add($"Project '{project.Name}': at most {MaxPatternsPerProject} patterns.");
            }

            foreach (var pattern in project.Include.Concat(project.Exclude))
            {
                if (Glob.Problem(pattern) is { } problem)
                {
                    errors.Add($"Project '{project.Name}': pattern '{pattern}' {problem}.");
                }
            }
        }

        switch (Artifacts.Kind)
        {
            case ArtifactPolicyKind.LatestPerRepository when Artifacts.LatestCount is not (>= 1 and <= ArtifactPolicy.MaxLatestCount):
                errors.Add($"The number of latest artifacts per repository must be between 1 and {ArtifactPolicy.MaxLatestCount}.");
                break;
            case ArtifactPolicyKind.TagPattern when SplitPatterns(Artifacts.TagPattern).Count == 0:
                errors.Add("Give a tag pattern, for example v* or release-*.");
                break;
            case ArtifactPolicyKind.TagPattern:
                foreach (var pattern in SplitPatterns(Artifacts.TagPattern))
                {
                    if (Glob.Problem(pattern) is { } problem)
                    {
                        errors.Add($"Tag pattern '{pattern}' {problem}.");
                    }
                }

                break;
        }

        return errors;
    }

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>The stored selection; <see cref="Everything"/> when none was saved.</summary>
    public static ScanLocations FromJson(string? json) =>
        string.IsNullOrWhiteSpace(json) ? Everything : JsonSerializer.Deserialize<ScanLocations>(json, JsonOptions) ?? Everything;

    private static bool IsTagged(HarborArtifact artifact) => artifact.Tags is { Count: > 0 };

    private static bool TagMatches(string? patterns, string tag) => SplitPatterns(patterns).Any(p => Glob.Matches(p, tag));

    private static List<string> SplitPatterns(string? patterns) =>
        [.. (patterns ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
}

/// <summary>
/// Globs as admins write them for repository and tag names: <c>*</c> is any run of characters within one path segment,
/// <c>**</c> any run across segments (<c>**/</c> also none: <c>**/test</c> matches <c>test</c>), <c>?</c> one character. Matching is case-sensitive, as Harbor's names are lower case.
/// </summary>
public static class Glob
{
    private static readonly Dictionary<string, Regex> Cache = [];
    private static readonly Lock CacheLock = new();

    public static bool Matches(string pattern, string value) => RegexFor(pattern).IsMatch(value);

    /// <summary>Why the pattern cannot be used, or null.</summary>
    public static string? Problem(string pattern) =>
        string.IsNullOrWhiteSpace(pattern) ? "is empty"
        : pattern.Length > ScanLocations.MaxPatternLength ? $"is longer than {ScanLocations.MaxPatternLength} characters"
        : pattern.Any(char.IsWhiteSpace) ? "contains a space"
        : null;

    private static Regex RegexFor(string pattern)
    {
        lock (CacheLock)
        {
            if (Cache.TryGetValue(pattern, out var cached))
            {
                return cached;
            }

            var regex = new Regex(ToRegex(pattern), RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
            if (Cache.Count < 10_000)
            {
                Cache[pattern] = regex;
            }

            return regex;
        }
    }

    private static string ToRegex(string pattern)
    {
        var regex = new System.Text.StringBuilder("^");
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '*' && i + 1 < pattern.Length && pattern[i + 1] == '*')
            {
                // "**/" at the start or after a slash also matches no folder at all: **/test matches test as well as a/b/test.
                if (i + 2 < pattern.Length && pattern[i + 2] == '/' && (i == 0 || pattern[i - 1] == '/'))
                {
                    regex.Append("(?:.*/)?");
                    i += 2;
                }
                else
                {
                    regex.Append(".*");
                    i++;
                }
            }
            else if (c == '*')
            {
                regex.Append("[^/]*");
            }
            else if (c == '?')
            {
                regex.Append("[^/]");
            }
            else
            {
                regex.Append(Regex.Escape(c.ToString()));
            }
        }

        return regex.Append('$').ToString();
    }
}
