using System.Globalization;
using HarborPortal.Features.Findings;
using HarborPortal.Harbor;

namespace HarborPortal.Features.Posture;

/// <summary>
/// One check's result for one scope: <paramref name="Scope"/> is <see cref="PostureChecks.SystemScope"/>, a project name
/// or a robot name; <paramref name="ProjectName"/> is the Harbor project it belongs to ("" for system checks).
/// </summary>
public sealed record PostureItem(PostureCheck Check, string Scope, string ProjectName, PostureOutcome Outcome, string Evidence, string? NeededPermission = null)
{
    public static PostureItem Pass(PostureCheck check, string scope, string projectName, string evidence) => new(check, scope, projectName, PostureOutcome.Pass, evidence);

    public static PostureItem Fail(PostureCheck check, string scope, string projectName, string evidence) => new(check, scope, projectName, PostureOutcome.Fail, evidence);

    /// <summary>The read failed: a refusal names the permission it needs; any other failure (a Harbor 500, a timeout) says what happened.</summary>
    public static PostureItem NotAssessed(PostureCheck check, string scope, string projectName, HarborFailure failure, string permission) =>
        failure is HarborForbidden or HarborUnauthorized
            ? new(check, scope, projectName, PostureOutcome.NotAssessed, $"The connection's account may not read this: {failure.Message}", permission)
            : new(check, scope, projectName, PostureOutcome.NotAssessed, $"Harbor could not be read, so this was not assessed: {failure.Message}");
}

/// <summary>The checks' decisions, as pure functions of what Harbor returned (reference §5.1, §9).</summary>
public static class PostureRules
{
    /// <summary>Harbor's order for the prevent-vulnerable threshold: none and unknown rank 0 (block anything found).</summary>
    public static int ThresholdRank(string? severity) => severity?.Trim().ToLowerInvariant() switch
    {
        "low" => 1,
        "medium" => 2,
        "high" => 3,
        "critical" => 4,
        _ => 0,
    };

    private static int Rank(Severity severity) => severity switch
    {
        Severity.Low => 1,
        Severity.Medium => 2,
        Severity.High => 3,
        Severity.Critical => 4,
        _ => 0,
    };

    private static string? Meta(HarborProject project, string key) => project.Metadata?.GetValueOrDefault(key);

    private static bool IsTrue(string? value) => value is not null && (value.Equals("true", StringComparison.OrdinalIgnoreCase) || value == "1");

    private static string Shown(HarborProject project, string key, string absentMeans) =>
        Meta(project, key) is { } value ? $"{key} = {value}" : $"{key} not set ({absentMeans})";

    public static PostureItem ScanOnPush(HarborProject project) =>
        IsTrue(Meta(project, "auto_scan"))
            ? PostureItem.Pass(PostureChecks.ScanOnPush, project.Name, project.Name, "auto_scan = true: images are scanned when pushed.")
            : PostureItem.Fail(PostureChecks.ScanOnPush, project.Name, project.Name, $"{Shown(project, "auto_scan", "Harbor's default: off")}: pushed images are not scanned automatically.");

    public static PostureItem PreventVulnerable(HarborProject project, Severity minimum)
    {
        var check = PostureChecks.PreventVulnerable;
        if (!IsTrue(Meta(project, "prevent_vul")))
        {
            return PostureItem.Fail(check, project.Name, project.Name, $"{Shown(project, "prevent_vul", "Harbor's default: off")}: images run whatever their vulnerabilities.");
        }

        var threshold = Meta(project, "severity");
        var thresholdText = threshold ?? "not set (blocks any vulnerability)";
        if (ThresholdRank(threshold) > Rank(minimum))
        {
            return PostureItem.Fail(check, project.Name, project.Name,
                $"prevent_vul = true, severity = {thresholdText}: only images with {threshold} vulnerabilities are blocked; the minimum asks to block {minimum} and above (Posture:MinimumPreventSeverity).");
        }

        return PostureItem.Pass(check, project.Name, project.Name, $"prevent_vul = true, severity = {thresholdText}: blocks {minimum} and above as required.");
    }

    public static PostureItem ContentTrust(HarborProject project, bool required)
    {
        var check = PostureChecks.ContentTrust;
        var notation = IsTrue(Meta(project, "enable_content_trust"));
        var cosign = IsTrue(Meta(project, "enable_content_trust_cosign"));
        var evidence = $"{Shown(project, "enable_content_trust", "off")}, {Shown(project, "enable_content_trust_cosign", "off")}";
        if (notation || cosign)
        {
            return PostureItem.Pass(check, project.Name, project.Name, $"{evidence}: signatures are enforced.");
        }

        return required
            ? PostureItem.Fail(check, project.Name, project.Name, $"{evidence}: unsigned images can be pulled.")
            : PostureItem.Pass(check, project.Name, project.Name, $"{evidence}: not enforced, which is accepted here (Posture:RequireContentTrust is false).");
    }

    public static PostureItem PublicProject(HarborProject project) =>
        project.IsPublic
            ? PostureItem.Fail(PostureChecks.PublicProject, project.Name, project.Name, "public = true: anyone may pull its images without signing in.")
            : PostureItem.Pass(PostureChecks.PublicProject, project.Name, project.Name, "public = false: pulling needs an account or a robot.");

    /// <summary>The retention policy read from the project's <c>retention_id</c>; null when the project has none.</summary>
    public static PostureItem TagRetention(HarborProject project, HarborRetentionPolicy? policy)
    {
        var check = PostureChecks.TagRetention;
        if (policy is null)
        {
            return PostureItem.Fail(check, project.Name, project.Name, "No retention policy (no retention_id): every tag is kept forever.");
        }

        var rules = policy.Rules ?? [];
        var active = rules.Count(r => !(r.TryGetProperty("disabled", out var disabled) && disabled.ValueKind == System.Text.Json.JsonValueKind.True));
        return active == 0
            ? PostureItem.Fail(check, project.Name, project.Name, $"Retention policy {policy.Id} has no enabled rule: every tag is kept forever.")
            : PostureItem.Pass(check, project.Name, project.Name, $"Retention policy {policy.Id} with {active} enabled rule(s).");
    }

    public static PostureItem ProjectCveAllowlist(HarborProject project, DateTimeOffset now)
    {
        var check = PostureChecks.ProjectCveAllowlist;
        var reuse = Meta(project, "reuse_sys_cve_allowlist");
        if (reuse is null || IsTrue(reuse))
        {
            return PostureItem.Pass(check, project.Name, project.Name, $"{Shown(project, "reuse_sys_cve_allowlist", "true")}: the system allowlist applies (see its own check).");
        }

        var items = project.CveAllowlist?.Items?.Select(i => i.CveId).Where(c => !string.IsNullOrWhiteSpace(c)).ToList() ?? [];
        if (items.Count == 0)
        {
            return PostureItem.Pass(check, project.Name, project.Name, "The project's own CVE allowlist is empty.");
        }

        var expiry = AllowlistExpiry(project.CveAllowlist?.ExpiresAt, now, out var expired);
        return expired
            ? PostureItem.Pass(check, project.Name, project.Name, $"The project's own allowlist ({string.Join(", ", items)}) {expiry}: Harbor ignores it.")
            : PostureItem.Fail(check, project.Name, project.Name, $"The project's own allowlist ignores {items.Count} CVE(s): {string.Join(", ", items)}; {expiry}.");
    }

    public static PostureItem AuthMode(HarborSystemInfo info)
    {
        var check = PostureChecks.AuthMode;
        var mode = info.AuthMode ?? "unknown";
        var provider = string.IsNullOrEmpty(info.OidcProviderName) ? "" : $" (provider {info.OidcProviderName})";
        return mode == "db_auth"
            ? PostureItem.Fail(check, PostureChecks.SystemScope, "", "auth_mode = db_auth: people sign in with passwords kept in Harbor's own database.")
            : PostureItem.Pass(check, PostureChecks.SystemScope, "", $"auth_mode = {mode}{provider}.");
    }

    /// <summary>The scan-all schedule; null = disabled (Harbor's empty body). <paramref name="noScanner"/>: Harbor answered 412.</summary>
    public static PostureItem ScanAllSchedule(HarborSchedule? schedule, bool noScanner)
    {
        var check = PostureChecks.ScanAllSchedule;
        if (noScanner)
        {
            return PostureItem.Fail(check, PostureChecks.SystemScope, "", "Harbor answered \"no scanner is configured\": scan-all cannot run at all.");
        }

        var type = schedule?.Schedule?.Type;
        return schedule is null || string.IsNullOrEmpty(type) || type is "None" or "Manual"
            ? PostureItem.Fail(check, PostureChecks.SystemScope, "", $"No scan-all schedule ({(schedule is null ? "disabled" : $"type {type ?? "none"}")}): artifacts are only re-scanned on request.")
            : PostureItem.Pass(check, PostureChecks.SystemScope, "", $"Scan-all runs {type} (cron {schedule.Schedule?.Cron}).");
    }

    public static PostureItem GcSchedule(HarborGcSchedule? schedule)
    {
        var check = PostureChecks.GcSchedule;
        var type = schedule?.Schedule?.Type;
        if (schedule is null || string.IsNullOrEmpty(type) || type is "None" or "Manual")
        {
            return PostureItem.Fail(check, PostureChecks.SystemScope, "", "No garbage collection schedule: deleted images' blobs stay in storage.");
        }

        var next = schedule.Schedule?.NextScheduledTime is { } at ? $", next {at.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC" : "";
        return PostureItem.Pass(check, PostureChecks.SystemScope, "", $"Garbage collection runs {type} (cron {schedule.Schedule?.Cron}{next}).");
    }

    /// <summary>From every registration (<paramref name="fromList"/>) or from the scanner one project uses (which is the default).</summary>
    public static PostureItem Scanner(IReadOnlyList<HarborScannerRegistration> registrations, bool fromList)
    {
        var check = PostureChecks.Scanner;
        var scanner = fromList ? registrations.FirstOrDefault(r => r.IsDefault) : registrations.FirstOrDefault();
        if (scanner is null)
        {
            return PostureItem.Fail(check, PostureChecks.SystemScope, "", registrations.Count == 0
                ? "No scanner is registered: nothing can be scanned."
                : $"{registrations.Count} scanner(s) registered, none is the default: projects without their own scanner are not scanned.");
        }

        var name = $"{scanner.Name} {scanner.Version}".Trim();
        if (scanner.Disabled)
        {
            return PostureItem.Fail(check, PostureChecks.SystemScope, "", $"The default scanner {name} is disabled.");
        }

        if (!string.IsNullOrEmpty(scanner.Health) && !scanner.Health.Equals("healthy", StringComparison.OrdinalIgnoreCase))
        {
            return PostureItem.Fail(check, PostureChecks.SystemScope, "", $"The default scanner {name} is {scanner.Health}: Harbor cannot reach its adapter at {scanner.Url}.");
        }

        return PostureItem.Pass(check, PostureChecks.SystemScope, "", $"Default scanner {name}, enabled{(string.IsNullOrEmpty(scanner.Health) ? "" : $", {scanner.Health}")}.");
    }

    public static PostureItem SystemCveAllowlist(HarborCveAllowlist allowlist, DateTimeOffset now)
    {
        var check = PostureChecks.SystemCveAllowlist;
        var items = allowlist.Items?.Select(i => i.CveId).Where(c => !string.IsNullOrWhiteSpace(c)).ToList() ?? [];
        if (items.Count == 0)
        {
            return PostureItem.Pass(check, PostureChecks.SystemScope, "", "The system CVE allowlist is empty.");
        }

        var expiry = AllowlistExpiry(allowlist.ExpiresAt, now, out var expired);
        return expired
            ? PostureItem.Pass(check, PostureChecks.SystemScope, "", $"The system allowlist ({string.Join(", ", items)}) {expiry}: Harbor ignores it.")
            : PostureItem.Fail(check, PostureChecks.SystemScope, "", $"The system allowlist ignores {items.Count} CVE(s): {string.Join(", ", items)}; {expiry}.");
    }

    public static PostureItem RobotExpiry(HarborRobot robot, string projectName, DateTimeOffset now, int warningDays)
    {
        var check = PostureChecks.RobotExpiry;
        if (robot.Disable)
        {
            return PostureItem.Pass(check, robot.Name, projectName, "Disabled: it cannot sign in.");
        }

        if (robot.ExpiresAt == -1 || (robot.Duration == -1 && robot.ExpiresAt <= 0))
        {
            return PostureItem.Fail(check, robot.Name, projectName, "Never expires (duration -1): its secret works until someone revokes it.");
        }

        var expires = DateTimeOffset.FromUnixTimeSeconds(robot.ExpiresAt);
        var date = expires.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        if (expires <= now)
        {
            return PostureItem.Pass(check, robot.Name, projectName, $"Expired on {date}: it cannot sign in.");
        }

        var days = (int)Math.Floor((expires - now).TotalDays);
        return expires - now <= TimeSpan.FromDays(warningDays)
            ? PostureItem.Fail(check, robot.Name, projectName, $"Expires on {date}, in {days} day(s) (warning at {warningDays} days, Posture:RobotExpiryWarningDays): whatever uses it will stop working.")
            : PostureItem.Pass(check, robot.Name, projectName, $"Expires on {date}, in {days} days.");
    }

    private static string AllowlistExpiry(long? expiresAt, DateTimeOffset now, out bool expired)
    {
        expired = false;
        if (expiresAt is not { } seconds || seconds <= 0)
        {
            return "it never expires";
        }

        var at = DateTimeOffset.FromUnixTimeSeconds(seconds);
        expired = at <= now;
        var date = at.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        return expired ? $"expired on {date}" : $"it expires on {date}";
    }
}
