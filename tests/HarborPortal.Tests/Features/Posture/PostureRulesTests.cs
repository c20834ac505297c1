using HarborPortal.Features.Findings;
using HarborPortal.Features.Posture;
using HarborPortal.Harbor;

namespace HarborPortal.Tests.Features.Posture;

// The checks' decisions on Harbor's raw values, without a Harbor.
public sealed class PostureRulesTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

    private static HarborProject Project(params (string Key, string Value)[] metadata) =>
        new() { Name = "p", Metadata = metadata.ToDictionary(m => m.Key, m => m.Value) };

    [Theory]
    [InlineData(null, Severity.High, PostureOutcome.Pass)]       // prevent_vul on without a threshold blocks anything found
    [InlineData("none", Severity.High, PostureOutcome.Pass)]
    [InlineData("low", Severity.High, PostureOutcome.Pass)]
    [InlineData("high", Severity.High, PostureOutcome.Pass)]
    [InlineData("critical", Severity.High, PostureOutcome.Fail)]
    [InlineData("high", Severity.Medium, PostureOutcome.Fail)]
    [InlineData("critical", Severity.Critical, PostureOutcome.Pass)]
    public void The_Prevent_Threshold_Must_Block_At_Least_The_Minimum(string? threshold, Severity minimum, PostureOutcome expected)
    {
        var project = threshold is null ? Project(("prevent_vul", "true")) : Project(("prevent_vul", "true"), ("severity", threshold));

        Assert.Equal(expected, PostureRules.PreventVulnerable(project, minimum).Outcome);
    }

    [Fact]
    public void Absent_Metadata_Means_Harbors_Defaults_Scan_On_Push_Off_And_Prevent_Off()
    {
        var scan = PostureRules.ScanOnPush(Project());
        var prevent = PostureRules.PreventVulnerable(Project(), Severity.High);

        Assert.Equal(PostureOutcome.Fail, scan.Outcome);
        Assert.Contains("auto_scan not set (Harbor's default: off)", scan.Evidence, StringComparison.Ordinal);
        Assert.Equal(PostureOutcome.Fail, prevent.Outcome);
        Assert.Equal(PostureOutcome.Pass, PostureRules.ScanOnPush(Project(("auto_scan", "TRUE"))).Outcome);
    }

    [Theory]
    [InlineData(false, false, false, PostureOutcome.Pass)]
    [InlineData(false, false, true, PostureOutcome.Fail)]
    [InlineData(true, false, true, PostureOutcome.Pass)]
    [InlineData(false, true, true, PostureOutcome.Pass)]
    public void Content_Trust_Fails_Only_When_Required_And_Neither_Notation_Nor_Cosign_Is_Enforced(bool notation, bool cosign, bool required, PostureOutcome expected)
    {
        var project = Project(("enable_content_trust", notation ? "true" : "false"), ("enable_content_trust_cosign", cosign ? "true" : "false"));

        Assert.Equal(expected, PostureRules.ContentTrust(project, required).Outcome);
    }

    [Fact]
    public void A_Project_Allowlist_Counts_Only_When_The_Project_Does_Not_Reuse_The_System_One_And_It_Has_Not_Expired()
    {
        var list = new HarborCveAllowlist { Items = [new("CVE-2024-1"), new("CVE-2024-2")] };
        HarborProject With(string? reuse, long? expiresAt) => new()
        {
            Name = "p",
            Metadata = reuse is null ? new Dictionary<string, string>() : new Dictionary<string, string> { ["reuse_sys_cve_allowlist"] = reuse },
            CveAllowlist = list with { ExpiresAt = expiresAt },
        };

        Assert.Equal(PostureOutcome.Pass, PostureRules.ProjectCveAllowlist(With(null, null), Now).Outcome);
        Assert.Equal(PostureOutcome.Pass, PostureRules.ProjectCveAllowlist(With("true", null), Now).Outcome);
        var never = PostureRules.ProjectCveAllowlist(With("false", null), Now);
        Assert.Equal(PostureOutcome.Fail, never.Outcome);
        Assert.Equal("The project's own allowlist ignores 2 CVE(s): CVE-2024-1, CVE-2024-2; it never expires.", never.Evidence);
        Assert.Contains("it expires on 2026-12-01", PostureRules.ProjectCveAllowlist(With("false", Now.AddDays(9).ToUnixTimeSeconds()), Now).Evidence, StringComparison.Ordinal);
        Assert.Equal(PostureOutcome.Pass, PostureRules.ProjectCveAllowlist(With("false", Now.AddDays(-1).ToUnixTimeSeconds()), Now).Outcome);
    }

    [Theory]
    [InlineData(-1, false, PostureOutcome.Fail)]     // never expires
    [InlineData(3, false, PostureOutcome.Fail)]      // within the warning
    [InlineData(14, false, PostureOutcome.Fail)]     // on the boundary: still within
    [InlineData(15, false, PostureOutcome.Pass)]
    [InlineData(-1, true, PostureOutcome.Pass)]      // disabled: cannot sign in
    public void A_Robot_Fails_When_It_Never_Expires_Or_Expires_Within_The_Warning(int days, bool disabled, PostureOutcome expected)
    {
        var robot = new HarborRobot { Name = "robot$ci", Disable = disabled, Duration = days, ExpiresAt = days == -1 ? -1 : Now.AddDays(days).ToUnixTimeSeconds() };

        var item = PostureRules.RobotExpiry(robot, "", Now, warningDays: 14);

        Assert.Equal(expected, item.Outcome);
        Assert.Equal("robot$ci", item.Scope);
    }

    [Fact]
    public void A_Scan_All_Or_Gc_Schedule_Of_Type_None_Is_No_Schedule()
    {
        var none = new HarborScheduleDetail("None", "", null);

        Assert.Equal(PostureOutcome.Fail, PostureRules.ScanAllSchedule(new HarborSchedule { Schedule = none }, noScanner: false).Outcome);
        Assert.Equal(PostureOutcome.Fail, PostureRules.GcSchedule(new HarborGcSchedule { Schedule = none }).Outcome);
        Assert.Equal(PostureOutcome.Pass, PostureRules.GcSchedule(new HarborGcSchedule { Schedule = new("Weekly", "0 0 0 * * 6", null) }).Outcome);
    }

    [Fact]
    public void The_Scanner_Check_Wants_An_Enabled_Healthy_Default()
    {
        HarborScannerRegistration Trivy(bool isDefault = true, bool disabled = false, string health = "healthy") =>
            new() { Name = "Trivy", Version = "v0.58.2", IsDefault = isDefault, Disabled = disabled, Health = health, Url = "http://trivy:8080" };

        Assert.Equal(PostureOutcome.Pass, PostureRules.Scanner([Trivy()], fromList: true).Outcome);
        Assert.Equal(PostureOutcome.Fail, PostureRules.Scanner([], fromList: true).Outcome);
        Assert.Equal(PostureOutcome.Fail, PostureRules.Scanner([Trivy(isDefault: false)], fromList: true).Outcome);
        Assert.Equal(PostureOutcome.Fail, PostureRules.Scanner([Trivy(disabled: true)], fromList: true).Outcome);
        Assert.Contains("is unhealthy", PostureRules.Scanner([Trivy(health: "unhealthy")], fromList: true).Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_Check_Has_A_Unique_Id_A_Remediation_And_Documentation()
    {
        Assert.Equal(PostureChecks.All.Count, PostureChecks.All.Select(c => c.Id).Distinct().Count());
        Assert.All(PostureChecks.All, c =>
        {
            Assert.StartsWith("HARBOR-POSTURE-", c.Id, StringComparison.Ordinal);
            Assert.InRange(c.Id.Length, 1, 64);
            Assert.StartsWith("Harbor → ", c.HowToFix, StringComparison.Ordinal);
            Assert.StartsWith("https://goharbor.io/docs/", c.DocsUrl, StringComparison.Ordinal);
        });
    }
}
