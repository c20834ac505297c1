using HarborPortal.Features.Findings;

namespace HarborPortal.Features.Dashboard;

/// <summary>The dashboard's service levels: configuration section <c>Dashboard</c>.</summary>
public sealed class DashboardOptions
{
    public const string SectionName = "Dashboard";

    /// <summary>Days an open finding of each severity may stay open before it breaches its SLA.</summary>
    public SlaDaysOptions SlaDays { get; set; } = new();

    /// <summary>An artifact whose last scan completed more than this many days ago counts as stale.</summary>
    public int StaleScanDays { get; set; } = 7;

    public IReadOnlyList<(Severity Severity, int Days)> SlaBySeverity =>
        [(Severity.Critical, SlaDays.Critical), (Severity.High, SlaDays.High), (Severity.Medium, SlaDays.Medium), (Severity.Low, SlaDays.Low)];
}

public sealed class SlaDaysOptions
{
    public int Critical { get; set; } = 7;

    public int High { get; set; } = 30;

    public int Medium { get; set; } = 90;

    public int Low { get; set; } = 180;
}
