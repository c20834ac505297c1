using HarborPortal.Features.Locations;
using HarborPortal.Harbor;

namespace HarborPortal.Tests.Features.Locations;

// The location rules: the one place that decides what the sync, the preview and the webhooks consider in scope.
public sealed class ScanLocationsTests
{
    private static readonly DateTimeOffset Monday = new(2025, 3, 3, 9, 0, 0, TimeSpan.Zero);

    // ---- IncludesProject ----

    [Fact]
    public void All_Projects_Includes_Any_Project_Even_One_Not_Listed()
    {
        var selection = new ScanLocations { AllProjects = true, Projects = [new ProjectLocation { Name = "team-a", Exclude = ["*"] }] };

        Assert.True(ScanLocations.Everything.IncludesProject("anything"));
        Assert.True(selection.IncludesProject("team-b"));
        Assert.True(selection.IncludesProject("team-a"));
    }

    [Fact]
    public void Chosen_Projects_Include_Exactly_The_Listed_Names_Case_Sensitively()
    {
        var selection = Some(new ProjectLocation { Name = "team-a" }, new ProjectLocation { Name = "library" });

        Assert.True(selection.IncludesProject("team-a"));
        Assert.True(selection.IncludesProject("library"));
        Assert.False(selection.IncludesProject("team-b"));
        Assert.False(selection.IncludesProject("Team-A"));
        Assert.False(selection.IncludesProject("team"));
    }

    // ---- IncludesRepository ----

    [Fact]
    public void A_Repository_Of_A_Project_Left_Out_Is_Left_Out()
    {
        var selection = Some(new ProjectLocation { Name = "team-a" });

        Assert.False(selection.IncludesRepository("team-b", "team-b/api"));
    }

    [Fact]
    public void With_All_Projects_An_Unlisted_Project_Keeps_Every_Repository()
    {
        var selection = new ScanLocations { Projects = [new ProjectLocation { Name = "team-a", Include = ["payments/*"] }] };

        Assert.True(selection.IncludesRepository("team-b", "team-b/anything/at/all"));
        Assert.False(selection.IncludesRepository("team-a", "team-a/tools/migrator"));
        Assert.True(selection.IncludesRepository("team-a", "team-a/payments/api"));
    }

    [Fact]
    public void A_Listed_Project_Without_Patterns_Keeps_Every_Repository()
    {
        var selection = Some(new ProjectLocation { Name = "team-a" });

        Assert.True(selection.IncludesRepository("team-a", "team-a/payments-api"));
        Assert.True(selection.IncludesRepository("team-a", "team-a/tools/migrator"));
    }

    [Theory]
    [InlineData("team-a/payments/api", true)]
    [InlineData("payments/api", true)]
    [InlineData("team-a/payments/api/v2", false)]
    [InlineData("team-a/payments-api", false)]
    [InlineData("team-a/tools/payments", false)]
    public void Include_Patterns_Match_The_Name_Inside_The_Project_Given_Full_Or_Not(string repository, bool included)
    {
        var selection = Some(new ProjectLocation { Name = "team-a", Include = ["payments/*"] });

        Assert.Equal(included, selection.IncludesRepository("team-a", repository));
    }

    [Theory]
    [InlineData("team-a/payments-api", true)]
    [InlineData("team-a/tools/migrator", false)]
    [InlineData("team-a/tools/nested/deeper", true)]
    [InlineData("team-a/tools", true)]
    public void Exclude_Patterns_Alone_Keep_Everything_Else(string repository, bool included)
    {
        var selection = Some(new ProjectLocation { Name = "team-a", Exclude = ["tools/*"] });

        Assert.Equal(included, selection.IncludesRepository("team-a", repository));
    }

    [Theory]
    [InlineData("payments/api", true)]
    [InlineData("payments/api-test", false)]
    [InlineData("payments/worker", true)]
    [InlineData("billing/api", true)]
    [InlineData("billing/api-test", false)]
    [InlineData("tools/migrator", false)]
    public void Several_Includes_Are_Or_And_An_Exclude_Wins_Over_Them(string repository, bool included)
    {
        var selection = Some(new ProjectLocation { Name = "team-a", Include = ["payments/*", "billing/*"], Exclude = ["**-test"] });

        Assert.Equal(included, selection.IncludesRepository("team-a", "team-a/" + repository));
    }

    [Theory]
    [InlineData("test", true)]
    [InlineData("a/test", true)]
    [InlineData("a/b/c/test", true)]
    [InlineData("a/test/b", false)]
    [InlineData("contest", false)]
    [InlineData("a/latest", false)]
    public void Double_Star_Slash_Matches_Any_Depth_Including_None(string repository, bool excluded)
    {
        var selection = Some(new ProjectLocation { Name = "p", Exclude = ["**/test"] });

        Assert.Equal(!excluded, selection.IncludesRepository("p", "p/" + repository));
    }

    [Theory]
    [InlineData("payments/**", "payments/api", true)]
    [InlineData("payments/**", "payments/api/v2/x", true)]
    [InlineData("payments/**", "payments", false)]
    [InlineData("**", "any/thing/at/all", true)]
    [InlineData("*", "api", true)]
    [InlineData("*", "app/api", false)]
    [InlineData("*/api", "app/api", true)]
    [InlineData("*/api", "team/app/api", false)]
    [InlineData("**/api", "team/app/api", true)]
    [InlineData("app/**/api", "app/api", true)]
    [InlineData("app/**/api", "app/v1/v2/api", true)]
    [InlineData("api-v?", "api-v2", true)]
    [InlineData("api-v?", "api-v10", false)]
    [InlineData("a?b", "a/b", false)]
    public void Nested_Names_And_Globs(string pattern, string repository, bool included)
    {
        var selection = Some(new ProjectLocation { Name = "team", Include = [pattern] });

        Assert.Equal(included, selection.IncludesRepository("team", "team/" + repository));
    }

    [Fact]
    public void A_Repository_Named_Like_Its_Project_Loses_Only_The_First_Prefix()
    {
        var selection = Some(new ProjectLocation { Name = "team", Include = ["team/*"] });

        Assert.True(selection.IncludesRepository("team", "team/team/api"));
        Assert.False(selection.IncludesRepository("team", "team/api"));
    }

    // ---- SelectArtifacts ----

    [Fact]
    public void All_Tagged_Keeps_Every_Tagged_Artifact_Newest_First_And_Leaves_Untagged_Out()
    {
        var old = Artifact("a", Monday, "1.0");
        var untagged = Artifact("b", Monday.AddDays(1));
        var latest = Artifact("c", Monday.AddDays(2), "2.0", "latest");

        var selected = ScanLocations.Everything.SelectArtifacts([old, untagged, latest]);

        Assert.Equal(["c", "a"], Digests(selected));
    }

    [Fact]
    public void All_Tagged_With_Untagged_Keeps_Everything()
    {
        var selection = With(new ArtifactPolicy { IncludeUntagged = true });
        var untaggedEmpty = Artifact("b", Monday.AddDays(1));
        var untaggedNull = new HarborArtifact { Digest = "d", PushTime = Monday.AddDays(3), Tags = null };

        var selected = selection.SelectArtifacts([Artifact("a", Monday, "1.0"), untaggedEmpty, untaggedNull]);

        Assert.Equal(["d", "b", "a"], Digests(selected));
    }

    [Fact]
    public void Latest_N_Takes_The_Newest_By_Push_Time_Per_Repository()
    {
        var selection = With(new ArtifactPolicy { Kind = ArtifactPolicyKind.LatestPerRepository, LatestCount = 2 });
        var artifacts = new[]
        {
            Artifact("oldest", Monday, "1.0"),
            Artifact("newest", Monday.AddHours(3), "1.3"),
            Artifact("middle", Monday.AddHours(2), "1.2"),
            Artifact("second", Monday.AddHours(2).AddMinutes(30), "1.2.1"),
        };

        Assert.Equal(["newest", "second"], Digests(selection.SelectArtifacts(artifacts)));
    }

    [Fact]
    public void Latest_N_Skips_Untagged_Before_Counting_Unless_They_Are_Asked_For()
    {
        var artifacts = new[] { Artifact("tagged-old", Monday, "1.0"), Artifact("untagged-new", Monday.AddDays(1)), Artifact("tagged-new", Monday.AddDays(2), "2.0") };
        var withoutUntagged = With(new ArtifactPolicy { Kind = ArtifactPolicyKind.LatestPerRepository, LatestCount = 2 });
        var withUntagged = With(new ArtifactPolicy { Kind = ArtifactPolicyKind.LatestPerRepository, LatestCount = 2, IncludeUntagged = true });

        Assert.Equal(["tagged-new", "tagged-old"], Digests(withoutUntagged.SelectArtifacts(artifacts)));
        Assert.Equal(["tagged-new", "untagged-new"], Digests(withUntagged.SelectArtifacts(artifacts)));
    }

    [Fact]
    public void Latest_N_Orders_Equal_Push_Times_By_Digest_And_A_Missing_Push_Time_Last()
    {
        var selection = With(new ArtifactPolicy { Kind = ArtifactPolicyKind.LatestPerRepository, LatestCount = 3 });
        var artifacts = new[]
        {
            new HarborArtifact { Digest = "sha256:0000", PushTime = null, Tags = [new HarborTag { Name = "never" }] },
            Artifact("sha256:bbbb", Monday, "b"),
            Artifact("sha256:aaaa", Monday, "a"),
        };

        Assert.Equal(["sha256:aaaa", "sha256:bbbb", "sha256:0000"], Digests(selection.SelectArtifacts(artifacts)));
    }

    [Fact]
    public void Latest_N_Larger_Than_The_Repository_Keeps_All_And_No_Count_Keeps_None()
    {
        var artifacts = new[] { Artifact("a", Monday, "1"), Artifact("b", Monday.AddDays(1), "2") };

        Assert.Equal(2, With(new ArtifactPolicy { Kind = ArtifactPolicyKind.LatestPerRepository, LatestCount = 50 }).SelectArtifacts(artifacts).Count);
        Assert.Empty(With(new ArtifactPolicy { Kind = ArtifactPolicyKind.LatestPerRepository, LatestCount = null }).SelectArtifacts(artifacts));
    }

    [Fact]
    public void Tag_Patterns_Keep_Artifacts_With_Any_Tag_Matching_Any_Of_Several_Globs()
    {
        var selection = With(new ArtifactPolicy { Kind = ArtifactPolicyKind.TagPattern, TagPattern = "v*, release-*,stable" });
        var artifacts = new[]
        {
            Artifact("v", Monday, "v1.2.3"),
            Artifact("release", Monday.AddHours(1), "release-2025.03"),
            Artifact("stable", Monday.AddHours(2), "stable"),
            Artifact("one-of-many", Monday.AddHours(3), "latest", "sha-abc", "v2.0.0"),
            Artifact("nightly", Monday.AddHours(4), "nightly", "latest"),
            Artifact("prefix-only", Monday.AddHours(5), "stable-2"),
            Artifact("untagged", Monday.AddHours(6)),
        };

        Assert.Equal(["one-of-many", "stable", "release", "v"], Digests(selection.SelectArtifacts(artifacts)));
    }

    [Fact]
    public void Tag_Patterns_Let_Untagged_Artifacts_In_Only_When_Asked()
    {
        var artifacts = new[] { Artifact("v", Monday, "v1"), Artifact("untagged", Monday.AddHours(1)), Artifact("dev", Monday.AddHours(2), "dev") };
        var policy = new ArtifactPolicy { Kind = ArtifactPolicyKind.TagPattern, TagPattern = "v*" };

        Assert.Equal(["v"], Digests(With(policy).SelectArtifacts(artifacts)));
        Assert.Equal(["untagged", "v"], Digests(With(policy with { IncludeUntagged = true }).SelectArtifacts(artifacts)));
    }

    [Fact]
    public void Tag_Patterns_Are_Case_Sensitive_And_Treat_Dots_Literally()
    {
        var selection = With(new ArtifactPolicy { Kind = ArtifactPolicyKind.TagPattern, TagPattern = "1.2.*" });
        var artifacts = new[] { Artifact("dot", Monday, "1.2.3"), Artifact("no-dot", Monday.AddHours(1), "1x2y3"), Artifact("upper", Monday.AddHours(2), "V1.2.3") };

        Assert.Equal(["dot"], Digests(selection.SelectArtifacts(artifacts)));
        Assert.Empty(With(new ArtifactPolicy { Kind = ArtifactPolicyKind.TagPattern, TagPattern = "v*" }).SelectArtifacts([artifacts[2]]));
    }

    [Fact]
    public void Selecting_From_No_Artifacts_Gives_None()
    {
        Assert.Empty(ScanLocations.Everything.SelectArtifacts([]));
    }

    // ---- Validate ----

    [Fact]
    public void The_Default_And_A_Sensible_Selection_Are_Valid()
    {
        var selection = new ScanLocations
        {
            AllProjects = false,
            Projects = [new ProjectLocation { Name = "team-a", Include = ["payments/*"], Exclude = ["**/test"] }, new ProjectLocation { Name = "library" }],
            Artifacts = new ArtifactPolicy { Kind = ArtifactPolicyKind.LatestPerRepository, LatestCount = 5, IncludeUntagged = true },
        };

        Assert.Empty(ScanLocations.Everything.Validate());
        Assert.Empty(selection.Validate());
    }

    [Fact]
    public void Chosen_Projects_Need_At_Least_One()
    {
        Assert.Equal(["Choose at least one project, or all projects."], new ScanLocations { AllProjects = false }.Validate());
    }

    [Fact]
    public void Too_Many_Projects_Are_Refused()
    {
        var selection = Some([.. Enumerable.Range(0, ScanLocations.MaxProjects + 1).Select(i => new ProjectLocation { Name = $"p{i}" })]);

        Assert.Contains($"At most {ScanLocations.MaxProjects} projects can be listed.", selection.Validate());
        Assert.Empty(Some([.. Enumerable.Range(0, ScanLocations.MaxProjects).Select(i => new ProjectLocation { Name = $"p{i}" })]).Validate());
    }

    [Fact]
    public void A_Project_Listed_Twice_Or_Without_A_Name_Is_Named()
    {
        var errors = Some(new ProjectLocation { Name = "team-a" }, new ProjectLocation { Name = "team-a" }, new ProjectLocation { Name = " ", Include = [""] }).Validate();

        Assert.Equal(["Project 'team-a' is listed twice.", "A project has no name."], errors);
    }

    [Fact]
    public void Too_Many_Patterns_For_One_Project_Are_Refused()
    {
        var include = Enumerable.Range(0, 30).Select(i => $"a{i}/*").ToList();
        var exclude = Enumerable.Range(0, 21).Select(i => $"b{i}/*").ToList();

        var errors = Some(new ProjectLocation { Name = "big", Include = include, Exclude = exclude }).Validate();

        Assert.Equal([$"Project 'big': at most {ScanLocations.MaxPatternsPerProject} patterns."], errors);
    }

    [Fact]
    public void Unusable_Patterns_Are_Named_With_The_Reason()
    {
        var errors = Some(new ProjectLocation { Name = "p", Include = ["", "pay ments"], Exclude = [new string('x', ScanLocations.MaxPatternLength + 1)] }).Validate();

        Assert.Equal(
        [
            "Project 'p': pattern '' is empty.",
            "Project 'p': pattern 'pay ments' contains a space.",
            $"Project 'p': pattern '{new string('x', ScanLocations.MaxPatternLength + 1)}' is longer than {ScanLocations.MaxPatternLength} characters.",
        ], errors);
    }

    [Theory]
    [InlineData(null, false)]
    [InlineData(0, false)]
    [InlineData(-3, false)]
    [InlineData(1, true)]
    [InlineData(ArtifactPolicy.MaxLatestCount, true)]
    [InlineData(ArtifactPolicy.MaxLatestCount + 1, false)]
    public void Latest_N_Must_Be_Between_One_And_The_Maximum(int? count, bool valid)
    {
        var errors = With(new ArtifactPolicy { Kind = ArtifactPolicyKind.LatestPerRepository, LatestCount = count }).Validate();

        string[] expected = valid ? [] : [$"The number of latest artifacts per repository must be between 1 and {ArtifactPolicy.MaxLatestCount}."];
        Assert.Equal(expected, errors);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(" , ,")]
    public void A_Tag_Pattern_Policy_Needs_A_Pattern(string? pattern)
    {
        var errors = With(new ArtifactPolicy { Kind = ArtifactPolicyKind.TagPattern, TagPattern = pattern }).Validate();

        Assert.Equal(["Give a tag pattern, for example v* or release-*."], errors);
    }

    [Fact]
    public void Each_Unusable_Tag_Pattern_Is_Named()
    {
        var errors = With(new ArtifactPolicy { Kind = ArtifactPolicyKind.TagPattern, TagPattern = "v*, rel ease-*" }).Validate();

        Assert.Equal(["Tag pattern 'rel ease-*' contains a space."], errors);
    }

    [Fact]
    public void Settings_Of_Another_Policy_Are_Not_Checked()
    {
        Assert.Empty(With(new ArtifactPolicy { Kind = ArtifactPolicyKind.AllTagged, LatestCount = -1, TagPattern = "a b" }).Validate());
        Assert.Empty(With(new ArtifactPolicy { Kind = ArtifactPolicyKind.TagPattern, TagPattern = "v*", LatestCount = 0 }).Validate());
        Assert.Empty(With(new ArtifactPolicy { Kind = ArtifactPolicyKind.LatestPerRepository, LatestCount = 3, TagPattern = "" }).Validate());
    }

    // ---- Glob ----

    [Theory]
    [InlineData("a.b", "a.b", true)]
    [InlineData("a.b", "aXb", false)]
    [InlineData("a+b", "a+b", true)]
    [InlineData("a+b", "aab", false)]
    [InlineData("(x)", "(x)", true)]
    [InlineData("v[1]", "v[1]", true)]
    [InlineData("API", "api", false)]
    [InlineData("api", "api-v2", false)]
    [InlineData("*api", "my-api", true)]
    [InlineData("**", "", true)]
    public void Globs_Escape_Everything_But_Their_Wildcards_And_Match_The_Whole_Name(string pattern, string value, bool matches)
    {
        Assert.Equal(matches, Glob.Matches(pattern, value));
    }

    [Theory]
    [InlineData("payments/*", null)]
    [InlineData("", "is empty")]
    [InlineData("  ", "is empty")]
    [InlineData("a b", "contains a space")]
    [InlineData("a\tb", "contains a space")]
    public void Glob_Problems(string pattern, string? problem)
    {
        Assert.Equal(problem, Glob.Problem(pattern));
    }

    // ---- JSON ----

    [Fact]
    public void A_Selection_Round_Trips_Through_Its_Json()
    {
        var selection = new ScanLocations
        {
            AllProjects = false,
            Projects = [new ProjectLocation { Name = "team-a", Include = ["payments/*"], Exclude = ["**/test"] }],
            Artifacts = new ArtifactPolicy { Kind = ArtifactPolicyKind.TagPattern, TagPattern = "v*", IncludeUntagged = true },
        };

        var json = selection.ToJson();
        var back = ScanLocations.FromJson(json);

        Assert.Contains("\"allProjects\":false", json, StringComparison.Ordinal);
        Assert.Contains("\"kind\":\"TagPattern\"", json, StringComparison.Ordinal);
        Assert.Equal(json, back.ToJson());
        Assert.Equal(["payments/*"], back.Projects[0].Include);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("null")]
    public void Nothing_Stored_Reads_As_Everything(string? json)
    {
        Assert.Same(ScanLocations.Everything, ScanLocations.FromJson(json));
    }

    private static ScanLocations Some(params ProjectLocation[] projects) => new() { AllProjects = false, Projects = projects };

    private static ScanLocations With(ArtifactPolicy policy) => new() { Artifacts = policy };

    private static HarborArtifact Artifact(string digest, DateTimeOffset pushed, params string[] tags) =>
        new() { Digest = digest, PushTime = pushed, Tags = [.. tags.Select(t => new HarborTag { Name = t })] };

    private static string[] Digests(IEnumerable<HarborArtifact> artifacts) => [.. artifacts.Select(a => a.Digest)];
}
