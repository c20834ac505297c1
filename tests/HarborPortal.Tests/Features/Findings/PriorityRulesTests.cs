using HarborPortal.Features.Findings;

namespace HarborPortal.Tests.Features.Findings;

/// <summary>Each rule of the explained priority on its own, then together.</summary>
public sealed class PriorityRulesTests
{
    private static readonly DateTimeOffset Now = new(2025, 6, 1, 0, 0, 0, TimeSpan.Zero);

    // A finding that no rule adjusts: a fix exists, the vector needs privileges, no context.
    private static Finding Plain(Severity severity = Severity.High, string fixedVersion = "1.2.3", string? vector = "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", double? score = 7.5) => new()
    {
        Identity = "x",
        ProjectName = "team-a",
        RepositoryName = "team-a/api",
        Digest = "sha256:00",
        VulnerabilityId = "CVE-2024-1",
        PackageName = "openssl",
        Severity = severity,
        FixedVersion = fixedVersion,
        CvssVector = vector,
        CvssScore = score,
    };

    [Theory]
    [InlineData(Severity.Critical)]
    [InlineData(Severity.High)]
    [InlineData(Severity.Medium)]
    [InlineData(Severity.Low)]
    [InlineData(Severity.None)]
    public void Priority_Starts_From_The_Scanners_Severity(Severity severity)
    {
        var result = PriorityRules.Evaluate(Plain(severity), new PriorityContext(Now));

        Assert.Equal(severity, result.Priority);
        var only = Assert.Single(result.Factors);
        Assert.Equal("severity", only.Rule);
        Assert.False(only.Changed);
    }

    [Theory]
    [InlineData(9.8, Severity.Critical)]
    [InlineData(7.0, Severity.High)]
    [InlineData(5.3, Severity.Medium)]
    [InlineData(2.1, Severity.Low)]
    [InlineData(null, Severity.Medium)]
    public void An_Unknown_Severity_Starts_From_The_Cvss_Score_Or_Medium(double? score, Severity expected)
    {
        var result = PriorityRules.Evaluate(Plain(Severity.Unknown, score: score), new PriorityContext(Now));

        Assert.Equal(expected, result.Priority);
        Assert.Equal(Severity.Unknown, result.Factors[0].From);
    }

    [Fact]
    public void No_Fix_Available_Lowers_It_One_Step()
    {
        var result = PriorityRules.Evaluate(Plain(Severity.Critical, fixedVersion: ""), new PriorityContext(Now));

        Assert.Equal(Severity.High, result.Priority);
        Assert.Equal("Critical → High: no fix is available", result.Factors.Single(f => f.Rule == "no-fix").Describe());
    }

    [Fact]
    public void A_Harbor_Setting_Is_Not_Lowered_For_Having_No_Package_Fix()
    {
        var setting = Plain(Severity.High, fixedVersion: "");
        setting.SourceTool = HarborPortal.Features.Posture.PostureChecks.SourceTool;

        var result = PriorityRules.Evaluate(setting, new PriorityContext(Now));

        Assert.Equal(Severity.High, result.Priority);
        Assert.DoesNotContain(result.Factors, f => f.Rule == "no-fix");
    }

    [Theory]
    [InlineData("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", true)]
    [InlineData("CVSS:3.0/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:L/A:N", true)]
    [InlineData("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", false)]
    [InlineData("CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", false)]
    [InlineData("AV:N/AC:L/Au:N/C:P/I:P/A:P", false)]
    [InlineData(null, false)]
    [InlineData("garbage", false)]
    public void Network_Exploitable_Without_Privileges_Raises_It_One_Step(string? vector, bool raised)
    {
        var result = PriorityRules.Evaluate(Plain(Severity.Medium, vector: vector), new PriorityContext(Now));

        Assert.Equal(raised ? Severity.High : Severity.Medium, result.Priority);
        Assert.Equal(raised, result.Factors.Any(f => f.Rule == "network-no-privileges"));
    }

    [Theory]
    [InlineData(true, Severity.High)]
    [InlineData(false, Severity.Medium)]
    [InlineData(null, Severity.Medium)]
    public void A_Public_Harbor_Project_Raises_It_One_Step(bool? isPublic, Severity expected)
    {
        var result = PriorityRules.Evaluate(Plain(Severity.Medium), new PriorityContext(Now, ProjectIsPublic: isPublic));

        Assert.Equal(expected, result.Priority);
        if (isPublic == true)
        {
            Assert.Contains("team-a is public", result.Factors.Single(f => f.Rule == "public-project").Describe(), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(3, Severity.High, "pushed-recently")]
    [InlineData(30, Severity.High, "pushed-recently")]
    [InlineData(90, Severity.Medium, null)]
    [InlineData(180, Severity.Low, "untouched")]
    [InlineData(400, Severity.Low, "untouched")]
    public void A_Recent_Push_Raises_It_And_Months_Untouched_Lower_It(int daysAgo, Severity expected, string? rule)
    {
        var result = PriorityRules.Evaluate(Plain(Severity.Medium), new PriorityContext(Now, ImagePushedAt: Now.AddDays(-daysAgo)));

        Assert.Equal(expected, result.Priority);
        Assert.Equal(rule, result.Factors.Skip(1).SingleOrDefault()?.Rule);
    }

    [Fact]
    public void A_High_Exploit_Probability_Raises_It_One_Step()
    {
        Assert.Equal(Severity.High, PriorityRules.Evaluate(Plain(Severity.Medium), new PriorityContext(Now, ExploitProbability: 0.42)).Priority);
        Assert.Equal(Severity.Medium, PriorityRules.Evaluate(Plain(Severity.Medium), new PriorityContext(Now, ExploitProbability: 0.01)).Priority);
    }

    [Fact]
    public void Known_Exploited_Makes_It_Critical()
    {
        var result = PriorityRules.Evaluate(Plain(Severity.Low, fixedVersion: ""), new PriorityContext(Now, KnownExploited: true));

        Assert.Equal(Severity.Critical, result.Priority);
        Assert.Equal("None → Critical: known to be exploited in the wild (CISA KEV)", result.Factors[^1].Describe());
    }

    [Fact]
    public void An_Accepted_Risk_Drops_It_To_None_Until_It_Expires()
    {
        var accepted = PriorityRules.Evaluate(Plain(Severity.Critical), new PriorityContext(Now, RiskAcceptedUntil: Now.AddDays(30)));
        var expired = PriorityRules.Evaluate(Plain(Severity.Critical), new PriorityContext(Now, RiskAcceptedUntil: Now.AddDays(-1)));

        Assert.Equal(Severity.None, accepted.Priority);
        Assert.Equal("Critical → None: the risk is accepted until 2025-07-01", accepted.Factors[^1].Describe());
        Assert.Equal(Severity.Critical, expired.Priority);
    }

    [Fact]
    public void Steps_Stop_At_Both_Ends_Of_The_Scale_And_Say_So()
    {
        var top = PriorityRules.Evaluate(Plain(Severity.Critical, vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"), new PriorityContext(Now, ProjectIsPublic: true));
        var bottom = PriorityRules.Evaluate(Plain(Severity.None, fixedVersion: ""), new PriorityContext(Now, ImagePushedAt: Now.AddYears(-2)));

        Assert.Equal(Severity.Critical, top.Priority);
        Assert.StartsWith("Critical, unchanged:", top.Factors.Single(f => f.Rule == "public-project").Describe(), StringComparison.Ordinal);
        Assert.Equal(Severity.None, bottom.Priority);
    }

    [Fact]
    public void Factors_Combine_In_Order_Each_Listed_With_Its_Effect()
    {
        var finding = Plain(Severity.Critical, fixedVersion: "", vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H");

        var result = PriorityRules.Evaluate(finding, new PriorityContext(Now, ProjectIsPublic: true, ImagePushedAt: Now.AddDays(-300)));

        Assert.Equal(
            ["severity", "no-fix", "network-no-privileges", "public-project", "untouched"],
            result.Factors.Select(f => f.Rule));
        Assert.Equal(
            [Severity.Critical, Severity.High, Severity.Critical, Severity.Critical, Severity.High],
            result.Factors.Select(f => f.To));
        Assert.Equal(Severity.High, result.Priority);
    }

    [Fact]
    public void Apply_Stores_The_Priority_And_Says_Whether_It_Changed()
    {
        var finding = Plain(Severity.High, fixedVersion: "");

        Assert.True(PriorityRules.Apply(finding, new PriorityContext(Now)));
        Assert.Equal(Severity.Medium, finding.Priority);
        Assert.False(PriorityRules.Apply(finding, new PriorityContext(Now)));
    }
}
