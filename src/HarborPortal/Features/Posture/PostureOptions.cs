using HarborPortal.Features.Findings;

namespace HarborPortal.Features.Posture;

/// <summary>The <c>Posture</c> section: what the Harbor posture checks expect.</summary>
public sealed class PostureOptions
{
    public const string SectionName = "Posture";

    /// <summary>"Prevent vulnerable images" must block at least this severity (a threshold of Critical lets High images run).</summary>
    public Severity MinimumPreventSeverity { get; set; } = Severity.High;

    /// <summary>Whether every project must enforce signatures (content trust or cosign); off, an unsigned project passes with a note.</summary>
    public bool RequireContentTrust { get; set; }

    /// <summary>A robot expiring within this many days fails the robot expiry check (as one that never expires does).</summary>
    public int RobotExpiryWarningDays { get; set; } = 14;
}
