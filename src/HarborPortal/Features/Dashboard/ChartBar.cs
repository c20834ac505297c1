using HarborPortal.Features.Findings;

namespace HarborPortal.Features.Dashboard;

/// <summary>One bar of a server-drawn chart; <see cref="CssClass"/> picks its colour in dashboard.css.</summary>
public sealed record ChartBar(string Label, long Value, string CssClass)
{
    public static string SeverityClass(string severity) => "chart-" + severity.ToLowerInvariant();

    public static string SeverityClass(Severity severity) => SeverityClass(severity.ToString());
}
