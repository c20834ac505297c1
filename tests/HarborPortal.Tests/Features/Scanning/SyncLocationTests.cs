using HarborPortal.Features.Findings;
using HarborPortal.Features.Locations;
using HarborPortal.Features.Scanning;
using Xunit.Abstractions;

namespace HarborPortal.Tests.Features.Scanning;

// The scanned locations decide what a sync reads: projects and repositories left out are not even listed, and the
// artifact policy picks within each repository.
public sealed class SyncLocationTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly DateTimeOffset Epoch = new(2025, 6, 1, 0, 0, 0, TimeSpan.Zero);
    private SyncHarness _harness = null!;

    public async Task InitializeAsync()
    {
        _harness = await SyncHarness.StartAsync(output);
        var simulator = _harness.Simulator;
        simulator.AddProject("rules");
        foreach (var repository in new[] { "rules/app", "rules/app-test", "rules/legacy/old" })
        {
            simulator.AddRepository(repository);
        }

        // Oldest first; each with the three nginx vulnerabilities.
        Push("rules/app", "v1.0", 1);
        Push("rules/app", "v1.1", 2);
        Push("rules/app", "v2.0", 3);
        Push("rules/app", "dev-123", 4);
        Push("rules/app", null, 5);
        Push("rules/app-test", "v1.0", 1);
        Push("rules/app-test", "v1.1", 2);
        Push("rules/legacy/old", "v0.9", 1);
    }

    public async Task DisposeAsync() => await _harness.DisposeAsync();

    public static TheoryData<string, ScanLocations, string[]> Rules => new()
    {
        {
            "include and exclude patterns",
            Only(new ProjectLocation { Name = "rules", Include = ["app*"], Exclude = ["*-test"] }),
            ["rules/app:v1.0", "rules/app:v1.1", "rules/app:v2.0", "rules/app:dev-123"]
        },
        {
            "an exclude pattern across segments",
            Only(new ProjectLocation { Name = "rules", Exclude = ["legacy/**", "app"] }),
            ["rules/app-test:v1.0", "rules/app-test:v1.1"]
        },
        {
            "the latest 2 per repository, untagged left out",
            Only(new ProjectLocation { Name = "rules" }) with { Artifacts = new ArtifactPolicy { Kind = ArtifactPolicyKind.LatestPerRepository, LatestCount = 2 } },
            ["rules/app:v2.0", "rules/app:dev-123", "rules/app-test:v1.0", "rules/app-test:v1.1", "rules/legacy/old:v0.9"]
        },
        {
            "the latest 1 with untagged asked for",
            Only(new ProjectLocation { Name = "rules", Include = ["app"] }) with
            {
                Artifacts = new ArtifactPolicy { Kind = ArtifactPolicyKind.LatestPerRepository, LatestCount = 1, IncludeUntagged = true },
            },
            ["rules/app:"]
        },
        {
            "tags matching a pattern",
            Only(new ProjectLocation { Name = "rules" }) with { Artifacts = new ArtifactPolicy { Kind = ArtifactPolicyKind.TagPattern, TagPattern = "v1.*, v0.*" } },
            ["rules/app:v1.0", "rules/app:v1.1", "rules/app-test:v1.0", "rules/app-test:v1.1", "rules/legacy/old:v0.9"]
        },
        {
            "every tagged artifact plus the untagged",
            Only(new ProjectLocation { Name = "rules", Include = ["app"] }) with { Artifacts = new ArtifactPolicy { IncludeUntagged = true } },
            ["rules/app:v1.0", "rules/app:v1.1", "rules/app:v2.0", "rules/app:dev-123", "rules/app:"]
        },
    };

    [Theory]
    [MemberData(nameof(Rules))]
    public async Task Location_Rules_Select_Exactly_The_Expected_Artifacts(string rule, ScanLocations locations, string[] expected)
    {
        output.WriteLine(rule);
        await _harness.SetLocationsAsync(locations);

        var run = await _harness.SyncAsync();

        Assert.Equal(SyncRunStatus.Succeeded, run.Status);
        var synced = await SyncedAsync();
        Assert.Equal(expected.Order(), synced.Order());
        Assert.Equal(expected.Length, run.ArtifactsTotal);
        Assert.Equal(expected.Length * 3, run.FindingsNew);
        Assert.All(await _harness.FindingsAsync(), f => Assert.Contains($"{f.RepositoryName}:{f.Tags}", synced));

        // Only the chosen project was listed, and no excluded repository's artifacts.
        var paths = _harness.Simulator.Requests.Select(r => r.RawTarget.Split('?')[0]).ToList();
        Assert.DoesNotContain(paths, p => p.StartsWith("/api/v2.0/projects/library/", StringComparison.Ordinal) || p.StartsWith("/api/v2.0/projects/team-a/", StringComparison.Ordinal));
        foreach (var repository in new[] { "app", "app-test", "legacy%252Fold" })
        {
            var listed = paths.Contains($"/api/v2.0/projects/rules/repositories/{repository}/artifacts");
            Assert.Equal(locations.IncludesRepository("rules", Uri.UnescapeDataString(Uri.UnescapeDataString(repository))), listed);
        }
    }

    [Fact]
    public async Task Artifacts_That_Leave_The_Scanned_Locations_Are_Resolved_And_Come_Back_When_They_Return()
    {
        await _harness.SyncAsync();
        var appTest = (await _harness.FindingsAsync()).Where(f => f.RepositoryName == "rules/app-test").ToList();
        Assert.Equal(6, appTest.Count);

        await _harness.SetLocationsAsync(ScanLocations.Everything with { Projects = [new ProjectLocation { Name = "rules", Exclude = ["app-test"] }] });
        var narrowed = await _harness.SyncAsync();

        Assert.Equal(SyncRunStatus.Succeeded, narrowed.Status);
        Assert.Equal(2, narrowed.ArtifactsRemoved);
        Assert.Equal(6, narrowed.FindingsResolved);
        var findings = await _harness.FindingsAsync();
        Assert.All(findings.Where(f => f.RepositoryName == "rules/app-test"), f =>
        {
            Assert.Equal(FindingStatus.Resolved, f.Status);
            Assert.Equal(Finding.LeftScannedLocations, f.ResolvedReason);
        });
        Assert.All(findings.Where(f => f.RepositoryName != "rules/app-test"), f => Assert.Equal(FindingStatus.Open, f.Status));
        Assert.DoesNotContain(await _harness.ScannedArtifactsAsync(), a => a.RepositoryName == "rules/app-test");

        await _harness.SetLocationsAsync(ScanLocations.Everything);
        var widened = await _harness.SyncAsync();

        Assert.Equal(6, widened.FindingsReopened);
        Assert.Equal(0, widened.FindingsNew);
        Assert.All(await _harness.FindingsAsync(), f => Assert.Equal(FindingStatus.Open, f.Status));
        var history = (await _harness.EventsAsync()).Where(e => e.FindingId == appTest[0].Id).Select(e => (e.Kind, e.Reason)).ToList();
        Assert.Equal([(FindingEventKind.Opened, null), (FindingEventKind.Resolved, Finding.LeftScannedLocations), (FindingEventKind.Reopened, null)], history);
    }

    [Fact]
    public async Task An_Artifact_Leaving_The_Tag_Pattern_Leaves_With_Its_Findings_While_It_Stays_In_Harbor()
    {
        await _harness.SetLocationsAsync(ScanLocations.Everything with { Artifacts = new ArtifactPolicy { Kind = ArtifactPolicyKind.TagPattern, TagPattern = "v*" } });
        await _harness.SyncAsync();
        _harness.Simulator.Mutate(state => state.Artifacts.Single(a => a.Repository == "rules/app" && a.Tags.Contains("v2.0")).Tags[0] = "nightly");

        var run = await _harness.SyncAsync();

        Assert.Equal(1, run.ArtifactsRemoved);
        Assert.Equal(3, run.FindingsResolved);
        Assert.All((await _harness.FindingsAsync()).Where(f => f.Status == FindingStatus.Resolved), f => Assert.Equal(Finding.LeftScannedLocations, f.ResolvedReason));
    }

    private static ScanLocations Only(ProjectLocation project) => new() { AllProjects = false, Projects = [project] };

    // "repository:tags" of every artifact the sync recorded in the rules project.
    private async Task<List<string>> SyncedAsync() =>
        [.. (await _harness.ScannedArtifactsAsync()).Where(a => a.ProjectName == "rules").Select(a => $"{a.RepositoryName}:{a.Tags}")];

    private void Push(string repository, string? tag, int day)
    {
        var artifact = _harness.Simulator.AddArtifact(repository, tag ?? $"untagged-{day}", "nginx");
        _harness.Simulator.Mutate(_ =>
        {
            artifact.PushTime = Epoch.AddDays(day);
            artifact.ScanStartTime = Epoch.AddDays(day).AddMinutes(1);
            artifact.ScanEndTime = Epoch.AddDays(day).AddMinutes(2);
            if (tag is null)
            {
                artifact.Tags.Clear();
            }
        });
    }
}
