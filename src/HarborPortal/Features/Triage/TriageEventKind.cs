namespace HarborPortal.Features.Triage;

/// <summary>The finding events triage writes (beside <see cref="Findings.FindingEventKind"/>'s Opened/Resolved/Reopened).</summary>
public static class TriageEventKind
{
    /// <summary>A decision set the status (reason: "Triaged by decision #N").</summary>
    public const string Triaged = "Triaged";

    /// <summary>A person set the status (Open, In progress).</summary>
    public const string StatusChanged = "StatusChanged";

    /// <summary>The decision behind the status ended or no longer covers the finding: back to Open.</summary>
    public const string Untriaged = "Untriaged";

    /// <summary>The risk acceptance's date passed: back to Open.</summary>
    public const string RiskAcceptanceExpired = "RiskAcceptanceExpired";

    public const string Assigned = "Assigned";
}
