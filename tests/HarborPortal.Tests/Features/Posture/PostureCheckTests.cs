using HarborPortal.Features.Findings;
using HarborPortal.Features.Posture;
using HarborAuthKind = HarborPortal.Features.Connections.HarborAuthKind;
using HarborPortal.HarborSimulator;
using Xunit.Abstractions;
using static HarborPortal.Features.Posture.PostureChecks;

namespace HarborPortal.Tests.Features.Posture;

// The posture checks against the simulator's posture scenario: known settings give exactly the known findings.
public sealed class PostureCheckTests(ITestOutputHelper output)
{
    private static readonly string[] ProjectProblems =
    [
        $"{ContentTrust.Id} @ unsigned",
        $"{PreventVulnerable.Id} @ critical-only",
        $"{PreventVulnerable.Id} @ no-prevent",
        $"{ProjectCveAllowlist.Id} @ allowlisted",
        $"{PublicProject.Id} @ public-project",
        $"{ScanOnPush.Id} @ no-scan-on-push",
        $"{TagRetention.Id} @ no-retention",
    ];

    [Fact]
    public async Task The_Hardened_Project_Has_No_Finding_And_Each_Other_Project_Exactly_Its_Own_Problem()
    {
        await using var harness = await PostureHarness.StartAsync(output);

        var summary = await harness.RunAsync();

        var findings = await harness.FindingsAsync();
        Assert.Equal(ProjectProblems.Order(StringComparer.Ordinal), PostureHarness.Describe(findings));
        Assert.DoesNotContain(findings, f => f.ProjectName == "hardened");
        var results = await harness.ResultsAsync();
        Assert.DoesNotContain(results, r => r.Outcome == PostureOutcome.NotAssessed);
        Assert.All(results.Where(r => r.ProjectName == "hardened"), r => Assert.Equal(PostureOutcome.Pass, r.Outcome));
        Assert.Equal(7, summary.Failed);
        Assert.Equal(7, summary.FindingsNew);
        Assert.Equal(0, summary.NotAssessed);

        // The system is hardened; the portal's robot (the credential) is the only robot checked, and it expires in 2100.
        Assert.Equal(PostureOutcome.Pass, harness.Result(results, AuthMode).Outcome);
        Assert.Contains("oidc_auth", harness.Result(results, AuthMode).Evidence, StringComparison.Ordinal);
        Assert.Equal(PostureOutcome.Pass, harness.Result(results, Scanner).Outcome);
        Assert.Equal(["robot$harbor-portal"], results.Where(r => r.CheckId == RobotExpiry.Id).Select(r => r.Scope));

        // Each finding is a Harbor setting: evidence, how to fix, the check's name and docs; no image, no package.
        var allowlisted = findings.Single(f => f.ProjectName == "allowlisted");
        Assert.Equal(SourceTool, allowlisted.SourceTool);
        Assert.Equal(ProjectCveAllowlist.Id, allowlisted.VulnerabilityId);
        Assert.Equal(ProjectCveAllowlist.Name, allowlisted.Title);
        Assert.Equal(Severity.Medium, allowlisted.Severity);
        Assert.Contains("CVE-2023-44487, CVE-2024-3094", allowlisted.Description, StringComparison.Ordinal);
        Assert.Contains("How to fix: Harbor → Projects", allowlisted.Description, StringComparison.Ordinal);
        Assert.StartsWith("https://goharbor.io/docs/", allowlisted.Links, StringComparison.Ordinal);
        Assert.All(findings, f =>
        {
            Assert.Equal("", f.RepositoryName);
            Assert.Equal("", f.Digest);
            Assert.Equal(FindingStatus.Open, f.Status);
        });
        var critical = findings.Single(f => f.ProjectName == "critical-only");
        Assert.Contains("severity = critical", critical.Description, StringComparison.Ordinal);
        Assert.Contains("block High and above", critical.Description, StringComparison.Ordinal);

        // Every finding's history starts with one Opened, by whoever asked.
        foreach (var finding in findings)
        {
            var opened = Assert.Single(await harness.EventsAsync(finding.Id));
            Assert.Equal(FindingEventKind.Opened, opened.Kind);
            Assert.Equal("tester", opened.Actor);
        }
    }

    [Fact]
    public async Task Unsigned_Projects_Pass_When_Signatures_Are_Not_Required_And_A_Stricter_Minimum_Fails_More_Thresholds()
    {
        await using var harness = await PostureHarness.StartAsync(output, settings: new Dictionary<string, string?>
        {
            ["Posture:RequireContentTrust"] = "false",
            ["Posture:MinimumPreventSeverity"] = "Medium",
        });

        await harness.RunAsync();

        var results = await harness.ResultsAsync();
        var unsigned = harness.Result(results, ContentTrust, "unsigned");
        Assert.Equal(PostureOutcome.Pass, unsigned.Outcome);
        Assert.Contains("Posture:RequireContentTrust is false", unsigned.Evidence, StringComparison.Ordinal);
        // "high" blocks only High and Critical: below a Medium minimum.
        Assert.Equal(PostureOutcome.Fail, harness.Result(results, PreventVulnerable, "hardened").Outcome);
    }

    [Fact]
    public async Task System_Problems_And_Robots_Seen_By_An_Administrator_Are_Findings()
    {
        await using var harness = await PostureHarness.StartAsync(output, HarborAuthKind.User, PostureHarness.AdminUser, PostureHarness.AdminPassword);
        var soon = DateTimeOffset.UtcNow.AddDays(5).ToUnixTimeSeconds();
        harness.Simulator.Mutate(state =>
        {
            state.AuthMode = "db_auth";
            state.ScanAllSchedule = null;
            state.GcSchedule = null;
            state.Scanners = [new SimScanner { Health = "unhealthy" }];
            state.SystemCveAllowlist = System.Text.Json.Nodes.JsonNode.Parse("""{"id":1,"items":[{"cve_id":"CVE-2005-2541"}],"creation_time":"2024-05-20T07:41:09.512Z","update_time":"2024-10-02T12:00:31.044Z"}""")!.AsObject();
            state.Robots.Single(r => r.Name == "harbor-portal").ExpiresAt = soon;
            state.Robots.Add(new SimRobot { Id = 30, Name = "legacy-ci", Secret = "LegacySecret1234567890abcdefABCD", Level = "system" });
            state.Robots.Add(new SimRobot { Id = 31, Name = "no-prevent+deployer", Secret = "DeploySecret1234567890abcdefABCD", Level = "project" });
        });

        await harness.RunAsync();

        var findings = await harness.FindingsAsync();
        string[] system =
        [
            $"{AuthMode.Id} @ system", $"{GcSchedule.Id} @ system", $"{RobotExpiry.Id} @ robot$harbor-portal", $"{RobotExpiry.Id} @ robot$legacy-ci",
            $"{RobotExpiry.Id} @ robot$no-prevent+deployer", $"{ScanAllSchedule.Id} @ system", $"{Scanner.Id} @ system", $"{SystemCveAllowlist.Id} @ system",
        ];
        Assert.Equal(ProjectProblems.Concat(system).Order(StringComparer.Ordinal), PostureHarness.Describe(findings));
        var results = await harness.ResultsAsync();
        Assert.DoesNotContain(results, r => r.Outcome == PostureOutcome.NotAssessed);
        Assert.Contains("in 4 day(s)", harness.Result(results, RobotExpiry, "robot$harbor-portal").Evidence, StringComparison.Ordinal);
        Assert.Contains("Never expires", harness.Result(results, RobotExpiry, "robot$legacy-ci").Evidence, StringComparison.Ordinal);
        Assert.Equal("no-prevent", findings.Single(f => f.PackageName == "robot$no-prevent+deployer").ProjectName);
        Assert.Contains("unhealthy", harness.Result(results, Scanner).Evidence, StringComparison.Ordinal);
        Assert.Contains("CVE-2005-2541; it never expires", harness.Result(results, SystemCveAllowlist).Evidence, StringComparison.Ordinal);
        Assert.All(findings.Where(f => f.VulnerabilityId != RobotExpiry.Id && PostureChecks.Find(f.VulnerabilityId)!.ScopeKind == PostureScopeKind.System),
            f => Assert.Equal("", f.ProjectName));
    }

    [Fact]
    public async Task No_Scanner_At_All_Fails_The_Scanner_And_Scan_All_Checks()
    {
        await using var harness = await PostureHarness.StartAsync(output, HarborAuthKind.User, PostureHarness.AdminUser, PostureHarness.AdminPassword);
        harness.Simulator.Mutate(state => state.ScannerConfigured = false);

        await harness.RunAsync();

        var results = await harness.ResultsAsync();
        Assert.Equal(PostureOutcome.Fail, harness.Result(results, Scanner).Outcome);
        Assert.Contains("No scanner is registered", harness.Result(results, Scanner).Evidence, StringComparison.Ordinal);
        Assert.Equal(PostureOutcome.Fail, harness.Result(results, ScanAllSchedule).Outcome);
        Assert.Contains("no scanner is configured", harness.Result(results, ScanAllSchedule).Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fixing_A_Setting_Resolves_Its_Finding_At_The_Next_Run_And_Undoing_It_Reopens_It()
    {
        await using var harness = await PostureHarness.StartAsync(output);
        await harness.RunAsync();
        var before = (await harness.FindingsAsync()).Single(f => f.ProjectName == "no-scan-on-push");

        harness.SetProjectMetadata("no-scan-on-push", "auto_scan", "true");
        var fixedRun = await harness.RunAsync();

        var resolved = (await harness.FindingsAsync()).Single(f => f.Id == before.Id);
        Assert.Equal(FindingStatus.Resolved, resolved.Status);
        Assert.Equal(PostureRunner.SettingFixed, resolved.ResolvedReason);
        Assert.Equal(1, fixedRun.FindingsResolved);
        Assert.Equal(0, fixedRun.FindingsNew);
        Assert.Equal(PostureOutcome.Pass, harness.Result(await harness.ResultsAsync(), ScanOnPush, "no-scan-on-push").Outcome);
        // The other problems are untouched.
        Assert.Equal(6, (await harness.FindingsAsync()).Count(f => f.Status == FindingStatus.Open));

        harness.SetProjectMetadata("no-scan-on-push", "auto_scan", null);
        var undone = await harness.RunAsync();

        var reopened = (await harness.FindingsAsync()).Single(f => f.Id == before.Id);
        Assert.Equal(FindingStatus.Open, reopened.Status);
        Assert.Equal(1, reopened.ReopenCount);
        Assert.Null(reopened.ResolvedAt);
        Assert.Contains("auto_scan not set", reopened.Description, StringComparison.Ordinal);
        Assert.Equal(1, undone.FindingsReopened);
        Assert.Equal(
            [(FindingEventKind.Opened, (string?)null), (FindingEventKind.Resolved, PostureRunner.SettingFixed), (FindingEventKind.Reopened, "setting changed back")],
            (await harness.EventsAsync(before.Id)).Select(e => (e.Kind, e.Reason)));
    }

    [Fact]
    public async Task A_Project_Left_Out_Of_The_Scanned_Locations_Is_Not_Checked_And_Its_Findings_No_Longer_Apply()
    {
        await using var harness = await PostureHarness.StartAsync(output);
        await harness.RunAsync();

        await using (var db = harness.App.CreateDbContext())
        {
            var locations = new HarborPortal.Features.Locations.ScanLocations
            {
                AllProjects = false,
                Projects = [new HarborPortal.Features.Locations.ProjectLocation { Name = "hardened" }, new HarborPortal.Features.Locations.ProjectLocation { Name = "public-project" }],
            };
            db.ConnectionLocations.Add(new HarborPortal.Features.Locations.ConnectionLocations { ConnectionId = harness.ConnectionId, SelectionJson = locations.ToJson(), UpdatedAt = DateTimeOffset.UtcNow });
            await db.SaveChangesAsync();
        }

        await harness.RunAsync();

        Assert.Equal([$"{PublicProject.Id} @ public-project"], PostureHarness.Describe(await harness.FindingsAsync()));
        Assert.Equal(["hardened", "public-project"], (await harness.ResultsAsync()).Where(r => r.ProjectName.Length > 0 && r.CheckId != RobotExpiry.Id).Select(r => r.ProjectName).Distinct().Order());
        Assert.All((await harness.FindingsAsync()).Where(f => f.Status == FindingStatus.Resolved), f => Assert.Equal(PostureRunner.NoLongerApplies, f.ResolvedReason));
    }
}
