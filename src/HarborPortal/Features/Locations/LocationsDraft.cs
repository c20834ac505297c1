using System.Globalization;

namespace HarborPortal.Features.Locations;

/// <summary>
/// The selection as the editor's form holds it, before it is saved: raw text where an admin types (so a wrong entry
/// comes back as typed), projects keyed by name in the field names (so htmx can add a row without renumbering).
/// The page, its fragments and the preview all read the posted form through <see cref="Read"/>.
/// </summary>
public sealed class LocationsDraft
{
    public bool AllProjects { get; set; } = true;

    /// <summary>The projects listed in the form, each with its repository rules (unticked ones are dropped on save).</summary>
    public List<DraftProject> Projects { get; } = [];

    public ArtifactPolicyKind Kind { get; set; } = ArtifactPolicyKind.AllTagged;

    public string? LatestCount { get; set; }

    public string? TagPattern { get; set; }

    public bool IncludeUntagged { get; set; }

    /// <summary>Names listed in the form, ticked or not: the tree shows these as "in the list" instead of offering them again.</summary>
    public IReadOnlySet<string> Listed => Projects.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);

    public static LocationsDraft From(ScanLocations selection)
    {
        var draft = new LocationsDraft
        {
            AllProjects = selection.AllProjects,
            Kind = selection.Artifacts.Kind,
            LatestCount = selection.Artifacts.LatestCount?.ToString(CultureInfo.InvariantCulture),
            TagPattern = selection.Artifacts.TagPattern,
            IncludeUntagged = selection.Artifacts.IncludeUntagged,
        };
        draft.Projects.AddRange(selection.Projects.Select(DraftProject.From));
        return draft;
    }

    /// <summary>The draft a form post carries (see <see cref="LocationsForm"/> for the field names).</summary>
    public static LocationsDraft Read(IFormCollection form)
    {
        var draft = new LocationsDraft
        {
            AllProjects = !string.Equals(form[LocationsForm.AllProjects], "false", StringComparison.OrdinalIgnoreCase),
            Kind = Enum.TryParse<ArtifactPolicyKind>(form[LocationsForm.Artifacts], ignoreCase: true, out var kind) && Enum.IsDefined(kind) && !int.TryParse(form[LocationsForm.Artifacts], out _)
                ? kind
                : ArtifactPolicyKind.AllTagged,
            LatestCount = form[LocationsForm.LatestCount].ToString(),
            TagPattern = form[LocationsForm.TagPattern].ToString(),
            IncludeUntagged = form[LocationsForm.IncludeUntagged].Any(v => string.Equals(v, "true", StringComparison.OrdinalIgnoreCase)),
        };

        var selected = form[LocationsForm.Selected].Where(v => v is not null).ToHashSet(StringComparer.Ordinal)!;
        foreach (var name in form[LocationsForm.Listed].Distinct(StringComparer.Ordinal))
        {
            if (name is null)
            {
                continue;
            }

            draft.Projects.Add(new DraftProject
            {
                Name = name,
                Selected = selected.Contains(name),
                AllRepositories = !string.Equals(form[LocationsForm.RepositoriesOf(name)], LocationsForm.PatternsMode, StringComparison.Ordinal),
                Include = form[LocationsForm.IncludeOf(name)].ToString(),
                Exclude = form[LocationsForm.ExcludeOf(name)].ToString(),
            });
        }

        // Ticked in the tree (without JavaScript the row below appears only after a save or a preview).
        var listed = draft.Listed;
        foreach (var name in form[LocationsForm.Add].Distinct(StringComparer.Ordinal))
        {
            if (name is not null && !listed.Contains(name))
            {
                draft.Projects.Add(new DraftProject { Name = name });
            }
        }

        return draft;
    }

    /// <summary>The selection this draft stands for (validate it before saving).</summary>
    public ScanLocations ToSelection() => LocationsInput.Normalize(new ScanLocations
    {
        AllProjects = AllProjects,
        Projects = [.. Projects.Where(p => p.Selected).Select(p => p.ToLocation())],
        Artifacts = new ArtifactPolicy
        {
            Kind = Kind,
            LatestCount = int.TryParse(LatestCount?.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var count) ? count : null,
            TagPattern = string.IsNullOrWhiteSpace(TagPattern) ? null : TagPattern.Trim(),
            IncludeUntagged = IncludeUntagged,
        },
    });
}

/// <summary>A project row of the draft.</summary>
public sealed class DraftProject
{
    public required string Name { get; init; }

    public bool Selected { get; set; } = true;

    public bool AllRepositories { get; set; } = true;

    public string? Include { get; set; }

    public string? Exclude { get; set; }

    public static DraftProject From(ProjectLocation project) => new()
    {
        Name = project.Name,
        AllRepositories = !LocationsText.HasRules(project),
        Include = LocationsText.JoinPatterns(project.Include),
        Exclude = LocationsText.JoinPatterns(project.Exclude),
    };

    public ProjectLocation ToLocation() => AllRepositories
        ? new ProjectLocation { Name = Name }
        : new ProjectLocation { Name = Name, Include = LocationsText.SplitPatterns(Include), Exclude = LocationsText.SplitPatterns(Exclude) };
}

/// <summary>The editor's form field names, shared by the page, its fragments and the tests.</summary>
public static class LocationsForm
{
    public const string FormName = "scan-locations";
    public const string Command = "Command";
    public const string SaveCommand = "save";
    public const string PreviewCommand = "preview";
    public const string AllProjects = "AllProjects";
    public const string Listed = "Listed";
    public const string Selected = "Selected";
    public const string Add = "Add";
    public const string Artifacts = "Artifacts";
    public const string LatestCount = "LatestCount";
    public const string TagPattern = "TagPattern";
    public const string IncludeUntagged = "IncludeUntagged";
    public const string TreeQuery = "TreeQuery";
    public const string TreePage = "TreePage";
    public const string AllMode = "all";
    public const string PatternsMode = "patterns";

    /// <summary>Every field a project row posts, plus slack for the rest: the form limit the editor asks for.</summary>
    public const int MaxFormValues = (ScanLocations.MaxProjects * 5) + 200;

    public static string RepositoriesOf(string project) => "Repositories." + project;

    public static string IncludeOf(string project) => "Include." + project;

    public static string ExcludeOf(string project) => "Exclude." + project;
}

/// <summary>Input from outside (the API, a form) made safe for the rules: no null lists, trimmed names and patterns.</summary>
public static class LocationsInput
{
    public static ScanLocations Normalize(ScanLocations? selection)
    {
        if (selection is null)
        {
            return ScanLocations.Everything;
        }

        var artifacts = selection.Artifacts ?? new ArtifactPolicy();
        return selection with
        {
            Projects = [.. (selection.Projects ?? []).Select(p => p is null
                ? new ProjectLocation { Name = "" }
                : p with { Name = (p.Name ?? "").Trim(), Include = Patterns(p.Include), Exclude = Patterns(p.Exclude) })],
            // Settings of the other policies would only confuse whoever reads the stored selection later.
            Artifacts = artifacts with
            {
                LatestCount = artifacts.Kind == ArtifactPolicyKind.LatestPerRepository ? artifacts.LatestCount : null,
                TagPattern = artifacts.Kind == ArtifactPolicyKind.TagPattern ? artifacts.TagPattern?.Trim() : null,
            },
        };
    }

    private static List<string> Patterns(IReadOnlyList<string>? patterns) => [.. (patterns ?? []).Select(p => (p ?? "").Trim())];
}
