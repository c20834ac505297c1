namespace HarborPortal.Features.Findings;

/// <summary>
/// What the rules know about a finding besides its own evidence. Fields that no source fills yet stay null/false and
/// their rule does nothing: KEV and EPSS come from the threat-data import, risk acceptance from triage.
/// </summary>
/// <param name="Now">The clock the age rules read.</param>
/// <param name="ProjectIsPublic">The Harbor project's <c>public</c> flag (anyone may pull); null when unknown.</param>
/// <param name="ImagePushedAt">The artifact's push time in Harbor; null when unknown.</param>
/// <param name="KnownExploited">Listed in CISA's Known Exploited Vulnerabilities catalog.</param>
/// <param name="ExploitProbability">EPSS: the probability (0–1) of exploitation in the next 30 days.</param>
/// <param name="RiskAcceptedUntil">A live risk acceptance and its expiry.</param>
/// <param name="KevCatalogDate">The date of the KEV catalog that said so, for the explanation.</param>
/// <param name="EpssScoreDate">The date of the EPSS scores, for the explanation.</param>
public sealed record PriorityContext(
    DateTimeOffset Now,
    bool? ProjectIsPublic = null,
    DateTimeOffset? ImagePushedAt = null,
    bool KnownExploited = false,
    double? ExploitProbability = null,
    DateTimeOffset? RiskAcceptedUntil = null,
    DateOnly? KevCatalogDate = null,
    DateOnly? EpssScoreDate = null)
{
    /// <summary>The context a finding's own stored columns give (what the daily refresh and the evidence page use).</summary>
    public static PriorityContext For(Finding finding, DateTimeOffset now) =>
        new(now, finding.ProjectIsPublic, finding.ImagePushedAt,
            RiskAcceptedUntil: finding.Status == FindingStatus.RiskAccepted ? finding.RiskAcceptedUntil : null);
}

/// <summary>One rule that moved (or would have moved) the priority, with the sentence the evidence page shows.</summary>
public sealed record PriorityFactor(string Rule, Severity From, Severity To, string Reason)
{
    public bool Changed => From != To;

    /// <summary>"Critical → High: no fix is available".</summary>
    public string Describe() => Changed ? $"{From} → {To}: {Reason}" : $"{From}, unchanged: {Reason}";
}

public sealed record PriorityResult(Severity Priority, IReadOnlyList<PriorityFactor> Factors);

/// <summary>
/// The queue's priority: the scanner's severity, moved one step up or down by each factor that applies, in a fixed
/// order. Every rule is here and nowhere else; the sync calls <see cref="Evaluate"/> for each finding it writes, the
/// daily refresh for the age rules, and the evidence page to explain the stored value.
/// </summary>
public static class PriorityRules
{
    /// <summary>An image pushed within this long is the one being deployed now.</summary>
    public static readonly TimeSpan RecentPush = TimeSpan.FromDays(30);

    /// <summary>An image not pushed for this long is unlikely to be running.</summary>
    public static readonly TimeSpan Untouched = TimeSpan.FromDays(180);

    /// <summary>EPSS at or above this (10 %) is in the top few percent of all CVEs.</summary>
    public const double HighExploitProbability = 0.1;

    public static PriorityResult Evaluate(Finding finding, PriorityContext context)
    {
        ArgumentNullException.ThrowIfNull(finding);
        ArgumentNullException.ThrowIfNull(context);

        var factors = new List<PriorityFactor>();
        var priority = Start(finding, factors);

        // FixedVersion, not FixAvailable: the database computes that one, and a finding about to be inserted has none yet.
        // A Harbor setting (posture) has no package to upgrade: its fix is the remediation, always available.
        if (string.IsNullOrWhiteSpace(finding.FixedVersion) && finding.SourceTool != Posture.PostureChecks.SourceTool)
        {
            priority = Step(factors, "no-fix", priority, -1, "no fix is available");
        }

        if (Cvss3.IsNetworkExploitableWithoutPrivileges(finding.CvssVector))
        {
            priority = Step(factors, "network-no-privileges", priority, +1, "exploitable over the network without privileges (CVSS AV:N/PR:N)");
        }

        if (context.ProjectIsPublic == true)
        {
            priority = Step(factors, "public-project", priority, +1, $"the Harbor project {finding.ProjectName} is public: anyone can pull the image");
        }

        if (context.ImagePushedAt is { } pushed)
        {
            var age = context.Now - pushed;
            if (age <= RecentPush)
            {
                priority = Step(factors, "pushed-recently", priority, +1, $"the image was pushed {Days(age)} ago: it is the one being deployed");
            }
            else if (age >= Untouched)
            {
                priority = Step(factors, "untouched", priority, -1, $"the image has not been pushed for {Days(age)}: it is unlikely to be running");
            }
        }

        if (context.ExploitProbability is { } epss && epss >= HighExploitProbability)
        {
            priority = Step(factors, "epss", priority, +1, $"EPSS {epss * 100:0} %{Dated("scores", context.EpssScoreDate)}: a high chance of exploitation within 30 days");
        }

        if (context.KnownExploited)
        {
            factors.Add(new PriorityFactor("kev", priority, Severity.Critical, $"known to be exploited in the wild (CISA KEV{(context.KevCatalogDate is { } catalog ? $", catalog of {catalog:yyyy-MM-dd}" : "")})"));
            priority = Severity.Critical;
        }

        if (context.RiskAcceptedUntil is { } until && until > context.Now)
        {
            factors.Add(new PriorityFactor("risk-accepted", priority, Severity.None, $"the risk is accepted until {until:yyyy-MM-dd}"));
            priority = Severity.None;
        }

        return new PriorityResult(priority, factors);
    }

    /// <summary>Evaluates and stores the priority on the finding; true when it changed.</summary>
    public static bool Apply(Finding finding, PriorityContext context)
    {
        var priority = Evaluate(finding, context).Priority;
        var changed = finding.Priority != priority;
        finding.Priority = priority;
        return changed;
    }

    private static Severity Start(Finding finding, List<PriorityFactor> factors)
    {
        if (finding.Severity != Severity.Unknown)
        {
            factors.Add(new PriorityFactor("severity", finding.Severity, finding.Severity, $"the scanner rates it {finding.Severity}"));
            return finding.Severity;
        }

        // No rating from the scanner: the CVSS score is the next best, else the middle of the scale until one exists.
        var fromScore = finding.CvssScore switch
        {
            >= 9.0 => Severity.Critical,
            >= 7.0 => Severity.High,
            >= 4.0 => Severity.Medium,
            > 0 => Severity.Low,
            _ => (Severity?)null,
        };
        var start = fromScore ?? Severity.Medium;
        var reason = fromScore is null
            ? "the scanner gave no severity and there is no CVSS score: treated as Medium"
            : $"the scanner gave no severity: CVSS {finding.CvssScore:0.0} is {start}";
        factors.Add(new PriorityFactor("severity", Severity.Unknown, start, reason));
        return start;
    }

    // One step along None < Low < Medium < High < Critical, never past either end.
    private static Severity Step(List<PriorityFactor> factors, string rule, Severity from, int by, string reason)
    {
        var to = (Severity)Math.Clamp((int)from + by, (int)Severity.None, (int)Severity.Critical);
        factors.Add(new PriorityFactor(rule, from, to, reason));
        return to;
    }

    private static string Dated(string what, DateOnly? date) => date is { } day ? $" ({what} of {day:yyyy-MM-dd})" : "";

    private static string Days(TimeSpan age) => age.TotalDays < 1 ? "less than a day" : $"{(int)age.TotalDays} days";
}

/// <summary>The two metrics of a CVSS v3 vector the priority reads (<c>CVSS:3.1/AV:N/AC:L/PR:N/…</c>).</summary>
public static class Cvss3
{
    public static bool IsNetworkExploitableWithoutPrivileges(string? vector)
    {
        if (vector is null || !vector.StartsWith("CVSS:3", StringComparison.OrdinalIgnoreCase))
        {
            // A v2 vector (or none) does not say enough in the same terms: no adjustment.
            return false;
        }

        string? attackVector = null, privileges = null;
        foreach (var part in vector.Split('/', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var pair = part.Split(':', 2);
            if (pair.Length != 2)
            {
                continue;
            }

            if (pair[0].Equals("AV", StringComparison.OrdinalIgnoreCase))
            {
                attackVector = pair[1];
            }
            else if (pair[0].Equals("PR", StringComparison.OrdinalIgnoreCase))
            {
                privileges = pair[1];
            }
        }

        return string.Equals(attackVector, "N", StringComparison.OrdinalIgnoreCase) && string.Equals(privileges, "N", StringComparison.OrdinalIgnoreCase);
    }
}
