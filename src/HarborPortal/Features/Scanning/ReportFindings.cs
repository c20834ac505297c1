using HarborPortal.Features.Findings;
using HarborPortal.Features.ThreatData;
using HarborPortal.Harbor;

namespace HarborPortal.Features.Scanning;

/// <summary>Turns one Harbor vulnerability report into findings: one per identity, the evidence normalised.</summary>
public static class ReportFindings
{
    /// <param name="repositoryName">The full repository name, project included.</param>
    public static List<Finding> From(
        HarborVulnerabilityReport report, HarborScanOverview? overview, long connectionId, string projectName, string repositoryName, string digest, string tags,
        PriorityContext priority, ThreatIntel? threats = null)
    {
        var now = priority.Now;
        var scanner = report.Scanner ?? overview?.Scanner;

        // An image index lists a vulnerability once per child (artifact_digests names them): one finding, the children kept as evidence.
        var reported = new Dictionary<string, Finding>(StringComparer.Ordinal);
        var findings = new List<Finding>(report.Vulnerabilities?.Count ?? 0);
        foreach (var vulnerability in report.Vulnerabilities ?? [])
        {
            var identity = Finding.IdentityOf(connectionId, repositoryName, digest, vulnerability.Id, vulnerability.Package, vulnerability.Version);
            var digests = vulnerability.ArtifactDigests?.Where(d => !string.IsNullOrEmpty(d)) ?? [];
            if (reported.TryGetValue(identity, out var twin))
            {
                twin.ArtifactDigests = string.Join('\n', twin.ArtifactDigests.Split('\n', StringSplitOptions.RemoveEmptyEntries).Union(digests));
                continue;
            }

            var finding = Normalise(vulnerability, identity, connectionId, projectName, repositoryName, digest, tags, scanner, digests, now);
            finding.ProjectIsPublic = priority.ProjectIsPublic;
            finding.ImagePushedAt = priority.ImagePushedAt;
            reported[identity] = finding;
            findings.Add(finding);
        }

        // After the loop: an index's twins only add evidence digests, which no priority rule reads.
        foreach (var finding in findings)
        {
            PriorityRules.Apply(finding, threats?.Annotate(priority, finding.VulnerabilityId) ?? priority);
        }

        return findings;
    }

    private static Finding Normalise(
        HarborVulnerability vulnerability, string identity, long connectionId, string projectName, string repositoryName, string digest, string tags,
        HarborScanner? scanner, IEnumerable<string> digests, DateTimeOffset now)
    {
        var cvss = vulnerability.PreferredCvss;
        var description = (vulnerability.Description ?? "").Trim();
        return new Finding
        {
            Identity = identity,
            ConnectionId = connectionId,
            ProjectName = projectName,
            RepositoryName = repositoryName,
            Digest = digest,
            Tags = tags,
            VulnerabilityId = vulnerability.Id,
            PackageName = vulnerability.Package,
            InstalledVersion = vulnerability.Version,
            FixedVersion = vulnerability.FixVersion ?? "",
            Severity = Finding.ParseSeverity(vulnerability.Severity),
            CvssScore = cvss?.ScoreV3 is > 0 ? cvss.ScoreV3 : cvss?.ScoreV2 is > 0 ? cvss.ScoreV2 : null,
            CvssVector = !string.IsNullOrEmpty(cvss?.VectorV3) ? cvss.VectorV3 : !string.IsNullOrEmpty(cvss?.VectorV2) ? cvss.VectorV2 : null,
            Title = Truncate(FirstSentence(description) is { Length: > 0 } title ? title : vulnerability.Id, Finding.MaxTitleLength),
            Description = Truncate(description, Finding.MaxDescriptionLength),
            Links = string.Join('\n', vulnerability.Links?.Where(l => !string.IsNullOrWhiteSpace(l)).Select(l => l.Trim()) ?? []),
            ArtifactDigests = string.Join('\n', digests.Distinct(StringComparer.Ordinal)),
            SourceTool = Finding.HarborSource,
            ScannerName = scanner?.Name,
            ScannerVersion = scanner?.Version,
            Status = FindingStatus.Open,
            FirstSeenAt = now,
            LastSeenAt = now,
        };
    }

    private static string FirstSentence(string text)
    {
        var line = text.Split('\n', 2)[0].Trim();
        var stop = line.IndexOf(". ", StringComparison.Ordinal);
        return stop > 0 ? line[..(stop + 1)] : line;
    }

    private static string Truncate(string value, int max) => value.Length > max ? value[..(max - 1)] + "…" : value;
}
