using HarborPortal.Features.Locations;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace HarborPortal.Tests.Features.Locations;

// The editor's form as it is posted, and the words the summary card and the audit log use.
public sealed class LocationsDraftTests
{
    [Fact]
    public void A_Posted_Form_Becomes_The_Selection_Ticked_Rows_And_Tree_Ticks_Included()
    {
        var form = Form(
            ("AllProjects", "false"),
            ("Listed", "team-a"), ("Selected", "team-a"), ("Repositories.team-a", "patterns"), ("Include.team-a", "payments/*,  billing/*"), ("Exclude.team-a", "**/test"),
            ("Listed", "library"), ("Repositories.library", "all"),
            ("Add", "team"), ("Add", "team-a"),
            ("Artifacts", "LatestPerRepository"), ("LatestCount", " 5 "), ("IncludeUntagged", "true"));

        var draft = LocationsDraft.Read(form);
        var selection = draft.ToSelection();

        Assert.False(selection.AllProjects);
        Assert.Equal(["team-a", "team"], selection.Projects.Select(p => p.Name));
        Assert.Equal(["payments/*", "billing/*"], selection.Projects[0].Include);
        Assert.Equal(["**/test"], selection.Projects[0].Exclude);
        Assert.Empty(selection.Projects[1].Include);
        Assert.Equal(new ArtifactPolicy { Kind = ArtifactPolicyKind.LatestPerRepository, LatestCount = 5, IncludeUntagged = true }, selection.Artifacts);
        Assert.Equal(["team-a", "library", "team"], draft.Projects.Select(p => p.Name));
        Assert.False(draft.Projects[1].Selected);
        Assert.Empty(selection.Validate());
    }

    [Fact]
    public void All_Repositories_Drops_Typed_Patterns_And_An_Unreadable_Number_Stays_As_Typed()
    {
        var draft = LocationsDraft.Read(Form(
            ("Listed", "p"), ("Selected", "p"), ("Repositories.p", "all"), ("Include.p", "x/*"),
            ("Artifacts", "LatestPerRepository"), ("LatestCount", "five")));

        var selection = draft.ToSelection();

        Assert.Empty(selection.Projects[0].Include);
        Assert.Equal("five", draft.LatestCount);
        Assert.Null(selection.Artifacts.LatestCount);
        Assert.Contains("between 1 and", Assert.Single(selection.Validate()), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("2")]
    [InlineData("Unknown")]
    [InlineData("")]
    public void An_Unknown_Artifact_Policy_Reads_As_All_Tagged(string posted)
    {
        Assert.Equal(ArtifactPolicyKind.AllTagged, LocationsDraft.Read(Form(("Artifacts", posted))).Kind);
    }

    [Fact]
    public void A_Saved_Selection_Fills_The_Form_And_Comes_Back_Unchanged()
    {
        var saved = new ScanLocations
        {
            AllProjects = false,
            Projects = [new ProjectLocation { Name = "team-a", Include = ["payments/*"], Exclude = ["**/test"] }, new ProjectLocation { Name = "library" }],
            Artifacts = new ArtifactPolicy { Kind = ArtifactPolicyKind.TagPattern, TagPattern = "v*, release-*" },
        };

        var draft = LocationsDraft.From(saved);

        Assert.False(draft.Projects[0].AllRepositories);
        Assert.True(draft.Projects[1].AllRepositories);
        Assert.Equal("payments/*", draft.Projects[0].Include);
        Assert.Equal(saved.ToJson(), draft.ToSelection().ToJson());
    }

    [Fact]
    public void Api_Input_With_Nulls_Is_Made_Safe_For_The_Rules()
    {
        var selection = System.Text.Json.JsonSerializer.Deserialize<ScanLocations>(
            """{"allProjects":false,"projects":[{"name":" team-a ","include":null,"exclude":[" **/test "]},null],"artifacts":null}""", ScanLocations.JsonOptions);

        var normalized = LocationsInput.Normalize(selection);

        Assert.Equal("team-a", normalized.Projects[0].Name);
        Assert.Empty(normalized.Projects[0].Include);
        Assert.Equal(["**/test"], normalized.Projects[0].Exclude);
        Assert.Equal(["A project has no name."], normalized.Validate());
        Assert.Equal(ArtifactPolicyKind.AllTagged, normalized.Artifacts.Kind);
        Assert.Same(ScanLocations.Everything, LocationsInput.Normalize(null));
    }

    [Fact]
    public void Settings_Of_Another_Artifact_Policy_Are_Not_Kept()
    {
        var normalized = LocationsInput.Normalize(new ScanLocations { Artifacts = new ArtifactPolicy { Kind = ArtifactPolicyKind.AllTagged, LatestCount = 5, TagPattern = "v*" } });

        Assert.Null(normalized.Artifacts.LatestCount);
        Assert.Null(normalized.Artifacts.TagPattern);
    }

    [Theory]
    [InlineData(true, "", "All projects · all tagged artifacts")]
    [InlineData(false, "latest", "3 projects · latest 5 per repository")]
    [InlineData(false, "tags", "3 projects · tags matching v*, release-* + untagged")]
    [InlineData(true, "rules", "All projects (1 with repository rules) · all tagged artifacts")]
    public void The_Summary_Says_What_Is_Scanned_In_One_Line(bool allProjects, string variant, string expected)
    {
        ProjectLocation[] projects = variant == "rules"
            ? [new ProjectLocation { Name = "team-a", Exclude = ["tools/*"] }]
            : allProjects ? [] : [new ProjectLocation { Name = "a" }, new ProjectLocation { Name = "b" }, new ProjectLocation { Name = "c" }];
        var artifacts = variant switch
        {
            "latest" => new ArtifactPolicy { Kind = ArtifactPolicyKind.LatestPerRepository, LatestCount = 5 },
            "tags" => new ArtifactPolicy { Kind = ArtifactPolicyKind.TagPattern, TagPattern = "v*, release-*", IncludeUntagged = true },
            _ => new ArtifactPolicy(),
        };

        Assert.Equal(expected, LocationsText.Summary(new ScanLocations { AllProjects = allProjects, Projects = projects, Artifacts = artifacts }));
    }

    [Fact]
    public void One_Chosen_Project_Is_Named()
    {
        Assert.Equal("1 project (team-a) · all tagged artifacts", LocationsText.Summary(new ScanLocations { AllProjects = false, Projects = [new ProjectLocation { Name = "team-a" }] }));
    }

    [Fact]
    public void The_Audit_Line_Names_Each_Change()
    {
        var before = new ScanLocations { AllProjects = false, Projects = [new ProjectLocation { Name = "library" }, new ProjectLocation { Name = "team-a" }] };
        var after = new ScanLocations
        {
            AllProjects = false,
            Projects = [new ProjectLocation { Name = "team-a", Exclude = ["tools/*"] }, new ProjectLocation { Name = "team", Include = ["app/*"] }],
            Artifacts = new ArtifactPolicy { Kind = ArtifactPolicyKind.LatestPerRepository, LatestCount = 5 },
        };

        var changes = LocationsText.Changes(before, after);

        Assert.Equal(
            "added team; removed library; team-a: all repositories → exclude tools/*; team: include app/*; " +
            "artifacts: all tagged artifacts → latest 5 per repository (now: 2 projects · latest 5 per repository)",
            changes);
        Assert.Equal("projects: all → chosen ones; added library (now: 1 project (library) · all tagged artifacts)",
            LocationsText.Changes(ScanLocations.Everything, new ScanLocations { AllProjects = false, Projects = [new ProjectLocation { Name = "library" }] }));
        Assert.StartsWith("no change", LocationsText.Changes(after, after), StringComparison.Ordinal);
    }

    private static FormCollection Form(params (string Name, string Value)[] fields) =>
        new(fields.GroupBy(f => f.Name).ToDictionary(g => g.Key, g => new StringValues([.. g.Select(f => f.Value)])));
}
