namespace HarborPortal.Features.Findings;

/// <summary>A finding as <c>GET /api/v1/findings</c> lists it.</summary>
public sealed record FindingResponse(
    long Id,
    string VulnerabilityId,
    string Title,
    Severity Severity,
    Severity Priority,
    FindingStatus Status,
    double? CvssScore,
    string PackageName,
    string InstalledVersion,
    string FixedVersion,
    bool FixAvailable,
    string SourceTool,
    long ConnectionId,
    string ProjectName,
    string RepositoryName,
    string Digest,
    IReadOnlyList<string> Tags,
    DateTimeOffset FirstSeenAt,
    DateTimeOffset LastSeenAt,
    DateTimeOffset? ResolvedAt);

/// <param name="NextCursor">Pass as <c>after</c> for the next page; null on the last page.</param>
public sealed record FindingListResponse(IReadOnlyList<FindingResponse> Items, string? NextCursor);

/// <summary>One rule's effect on the priority: "Critical → High: no fix is available".</summary>
public sealed record PriorityFactorResponse(string Rule, Severity From, Severity To, string Reason, string Text);

/// <summary><c>GET /api/v1/findings/{id}</c>: the evidence and why the priority is what it is.</summary>
public sealed record FindingDetailsResponse(
    FindingResponse Finding,
    string Description,
    string? CvssVector,
    IReadOnlyList<string> Links,
    string? ScannerName,
    string? ScannerVersion,
    IReadOnlyList<string> ArtifactDigests,
    string? ResolvedReason,
    int ReopenCount,
    Severity ComputedPriority,
    IReadOnlyList<PriorityFactorResponse> PriorityFactors);

internal static class FindingApiMappings
{
    public static FindingResponse AsResponse(this Finding f) =>
        new(f.Id, f.VulnerabilityId, f.Title, f.Severity, f.Priority, f.Status, f.CvssScore, f.PackageName, f.InstalledVersion, f.FixedVersion,
            f.FixAvailable, f.SourceTool, f.ConnectionId, f.ProjectName, f.RepositoryName, f.Digest,
            f.Tags.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), f.FirstSeenAt, f.LastSeenAt, f.ResolvedAt);

    public static FindingDetailsResponse AsDetailsResponse(this Finding f, PriorityResult priority) =>
        new(f.AsResponse(), f.Description, f.CvssVector, f.LinkList(), f.ScannerName, f.ScannerVersion,
            f.ArtifactDigests.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), f.ResolvedReason, f.ReopenCount,
            priority.Priority, [.. priority.Factors.Select(x => new PriorityFactorResponse(x.Rule, x.From, x.To, x.Reason, x.Describe()))]);

    /// <summary>The scanner's links, then the advisory databases' own page for the id when the scanner gave none for it.</summary>
    public static IReadOnlyList<string> LinkList(this Finding f)
    {
        var links = f.Links.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => Uri.TryCreate(l, UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http")
            .ToList();
        var id = Uri.EscapeDataString(f.VulnerabilityId);
        string? advisory = f.VulnerabilityId.StartsWith("CVE-", StringComparison.OrdinalIgnoreCase) ? $"https://nvd.nist.gov/vuln/detail/{id}"
            : f.VulnerabilityId.StartsWith("GHSA-", StringComparison.OrdinalIgnoreCase) ? $"https://github.com/advisories/{id}"
            : null;
        if (advisory is not null && !links.Contains(advisory, StringComparer.OrdinalIgnoreCase))
        {
            links.Insert(0, advisory);
        }

        return links;
    }
}
