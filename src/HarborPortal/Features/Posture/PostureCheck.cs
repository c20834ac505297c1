using System.Text.Json.Serialization;
using HarborPortal.Features.Findings;

namespace HarborPortal.Features.Posture;

/// <summary>Where a check looks: Harbor as a whole, each project, or each robot account.</summary>
public enum PostureScopeKind
{
    System,
    Project,
    Robot,
}

/// <summary>A check's result for one scope. Stored as text; <see cref="NotAssessed"/> is never a pass.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<PostureOutcome>))]
public enum PostureOutcome
{
    Pass,
    Fail,
    NotAssessed,
}

/// <summary>One Harbor hardening check: what it looks at, why it matters and where in Harbor's UI to fix it.</summary>
public sealed record PostureCheck(string Id, string Name, Severity Severity, PostureScopeKind ScopeKind, string What, string Why, string HowToFix, string DocsUrl);

/// <summary>Every check the portal runs, in the order the panel lists them.</summary>
public static class PostureChecks
{
    public const string SourceTool = "Harbor posture";

    /// <summary>The scope label of a system check (findings leave the project empty).</summary>
    public const string SystemScope = "system";

    private const string Docs = "https://goharbor.io/docs/main/";

    public static readonly PostureCheck ScanOnPush = new(
        "HARBOR-POSTURE-SCAN-ON-PUSH", "Scan on push is off", Severity.Medium, PostureScopeKind.Project,
        "The project's \"Automatically scan images on push\" setting (metadata auto_scan).",
        "New images are not scanned until someone asks or scan-all runs, so their vulnerabilities stay unknown meanwhile.",
        "Harbor → Projects → the project → Configuration → Vulnerability scanning: tick \"Automatically scan images on push\" and Save.",
        Docs + "working-with-projects/project-configuration/");

    public static readonly PostureCheck PreventVulnerable = new(
        "HARBOR-POSTURE-PREVENT-VULNERABLE", "Vulnerable images may run", Severity.High, PostureScopeKind.Project,
        "The project's \"Prevent vulnerable images from running\" setting and its severity threshold (metadata prevent_vul, severity).",
        "Without it (or with a threshold above the minimum) images with known serious vulnerabilities can be pulled and deployed.",
        "Harbor → Projects → the project → Configuration → Deployment security: tick \"Prevent vulnerable images from running\", choose the severity (the minimum or stricter) and Save.",
        Docs + "working-with-projects/project-configuration/");

    public static readonly PostureCheck ContentTrust = new(
        "HARBOR-POSTURE-CONTENT-TRUST", "Signatures are not enforced", Severity.Medium, PostureScopeKind.Project,
        "The project's \"Enforce content trust\" / \"Enforce cosign signature\" settings (metadata enable_content_trust, enable_content_trust_cosign).",
        "Unsigned or tampered images can be pulled; only signed images prove where they came from.",
        "Harbor → Projects → the project → Configuration → Deployment security: tick \"Cosign\" (or \"Notation\") under \"Enforce signatures\" and Save; sign images in CI first.",
        Docs + "working-with-projects/working-with-images/sign-images/");

    public static readonly PostureCheck PublicProject = new(
        "HARBOR-POSTURE-PUBLIC-PROJECT", "Project is public", Severity.Medium, PostureScopeKind.Project,
        "The project's access level (metadata public).",
        "Anyone, without signing in, can pull every image of a public project and read its vulnerability reports.",
        "Harbor → Projects → the project → Configuration → Project registry: untick \"Public\" and Save (pullers then need an account or a robot).",
        Docs + "working-with-projects/create-projects/");

    public static readonly PostureCheck TagRetention = new(
        "HARBOR-POSTURE-TAG-RETENTION", "No tag retention policy", Severity.Low, PostureScopeKind.Project,
        "The project's tag retention policy (metadata retention_id and its rules).",
        "Old, unpatched images pile up and stay pullable; a retention policy removes what nobody should run any more.",
        "Harbor → Projects → the project → Policy → Tag Retention: Add rule (e.g. retain the 10 most recently pushed per repository) and set a schedule.",
        Docs + "working-with-projects/working-with-images/create-tag-retention-rules/");

    public static readonly PostureCheck ProjectCveAllowlist = new(
        "HARBOR-POSTURE-PROJECT-CVE-ALLOWLIST", "Project CVE allowlist in use", Severity.Medium, PostureScopeKind.Project,
        "The project's own CVE allowlist (cve_allowlist, used when metadata reuse_sys_cve_allowlist is false).",
        "Allowlisted CVEs are ignored by \"prevent vulnerable images\": each entry is an accepted risk that should be reviewed and expire.",
        "Harbor → Projects → the project → Configuration → CVE allowlist: remove entries that are fixed or no longer accepted, set an expiry date, or choose \"System allowlist\".",
        Docs + "working-with-projects/project-configuration/configure-project-allowlist/");

    public static readonly PostureCheck AuthMode = new(
        "HARBOR-POSTURE-AUTH-MODE", "Local database authentication", Severity.Medium, PostureScopeKind.System,
        "Harbor's authentication mode (systeminfo auth_mode).",
        "With db_auth every person has a Harbor-only password: no single sign-on, no central off-boarding, no MFA.",
        "Harbor → Administration → Configuration → Authentication: set Auth Mode to OIDC (or LDAP) — only possible while no user other than admin exists.",
        Docs + "administration/configure-authentication/");

    public static readonly PostureCheck ScanAllSchedule = new(
        "HARBOR-POSTURE-SCAN-ALL-SCHEDULE", "No scan-all schedule", Severity.Medium, PostureScopeKind.System,
        "The schedule of \"Scan all\" (GET /system/scanAll/schedule).",
        "New vulnerabilities are published every day; without a periodic re-scan, old images keep their old (clean-looking) reports.",
        "Harbor → Interrogation Services → Vulnerability: set the schedule to Daily (or Custom) and Save.",
        Docs + "administration/vulnerability-scanning/scan-all-artifacts/");

    public static readonly PostureCheck GcSchedule = new(
        "HARBOR-POSTURE-GC-SCHEDULE", "No garbage collection schedule", Severity.Low, PostureScopeKind.System,
        "The schedule of garbage collection (GET /system/gc/schedule).",
        "Deleted images' layers stay on disk and can still be fetched by digest until garbage collection removes them.",
        "Harbor → Administration → Clean Up → Garbage Collection: choose a schedule (e.g. Weekly) and Save.",
        Docs + "administration/garbage-collection/");

    public static readonly PostureCheck Scanner = new(
        "HARBOR-POSTURE-SCANNER", "No healthy vulnerability scanner", Severity.High, PostureScopeKind.System,
        "The scanner registrations (GET /scanners, or the scanner a project uses): a default one, enabled and healthy.",
        "Without a working scanner nothing is scanned and every report the portal reads goes stale.",
        "Harbor → Interrogation Services → Scanners: add (or fix the URL and credentials of) the Trivy adapter, enable it and set it as default; check it answers \"Healthy\".",
        Docs + "administration/vulnerability-scanning/pluggable-scanners/");

    public static readonly PostureCheck SystemCveAllowlist = new(
        "HARBOR-POSTURE-SYSTEM-CVE-ALLOWLIST", "System CVE allowlist in use", Severity.Medium, PostureScopeKind.System,
        "The system-wide CVE allowlist (GET /system/CVEAllowlist): its entries and its expiry.",
        "Every project that reuses the system allowlist ignores these CVEs when preventing vulnerable images; without an expiry the exception never ends.",
        "Harbor → Administration → Configuration → Security: remove entries that are no longer accepted and set \"Expires at\".",
        Docs + "administration/vulnerability-scanning/configure-system-allowlist/");

    public static readonly PostureCheck RobotExpiry = new(
        "HARBOR-POSTURE-ROBOT-EXPIRY", "Robot account never expires or expires soon", Severity.Medium, PostureScopeKind.Robot,
        "Each robot account's expiry (expires_at) — with a robot credential, only the portal's own robot (robots cannot list other robots).",
        "A robot secret that never expires is a credential that works forever once leaked; one about to expire breaks automation (the portal's own sync included).",
        "Harbor → Administration → Robot Accounts (or the project → Robot Accounts): select the robot → Refresh secret / edit its expiration; update the new secret where it is used.",
        Docs + "administration/robot-accounts/");

    public static IReadOnlyList<PostureCheck> All { get; } =
    [
        ScanOnPush, PreventVulnerable, ContentTrust, PublicProject, TagRetention, ProjectCveAllowlist,
        AuthMode, ScanAllSchedule, GcSchedule, Scanner, SystemCveAllowlist, RobotExpiry,
    ];

    public static PostureCheck? Find(string id) => All.FirstOrDefault(c => c.Id == id);
}
