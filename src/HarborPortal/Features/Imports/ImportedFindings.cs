using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using HarborPortal.Features.Findings;

namespace HarborPortal.Features.Imports;

/// <summary>The image an import writes to, and what the priority rules know about it.</summary>
/// <param name="Threats">KEV and EPSS, as the sync reads them (null: no threat data).</param>
public sealed record ImportTarget(long ConnectionId, string ProjectName, string RepositoryName, string Digest, string Tags, PriorityContext Priority, ThreatData.ThreatIntel? Threats = null);

/// <summary>The findings one source tool reported in an upload (a SARIF log may hold several tools).</summary>
public sealed record ToolFindings(string SourceTool, IReadOnlyList<Finding> Findings);

/// <summary>
/// Imported reports as findings: their source tools, their identity (which includes the source tool, so that a Trivy
/// import and Harbor's own report of the same CVE in the same image are two findings), and the evidence normalised the
/// way the sync normalises Harbor's (<see cref="Scanning.ReportFindings"/>).
/// </summary>
public static partial class ImportedFindings
{
    public const string TrivySource = "Trivy (import)";
    public const string SarifPrefix = "SARIF: ";
    public const string NoLongerReported = "no longer reported by the import";
    public const string ReportedAgain = "reported again by an import";

    /// <summary>The width of the SourceTool column (and of FindingCounts' key).</summary>
    public const int MaxSourceToolLength = 32;

    /// <summary>
    /// "SARIF: &lt;driver name&gt;", within the column's 32 characters: a longer name keeps its first 20 characters and gets
    /// "~" and 4 hex digits of its SHA-256, so the same tool always gets the same name and two long names sharing a
    /// prefix stay apart.
    /// </summary>
    public static string SarifSource(string driverName)
    {
        // A comma would split the queue's source= filter (several values are comma separated).
        var name = Whitespace().Replace(driverName.Replace(',', ' ').Trim(), " ");
        var room = MaxSourceToolLength - SarifPrefix.Length;
        if (name.Length <= room)
        {
            return SarifPrefix + name;
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name)))[..4];
        return SarifPrefix + name[..(room - 5)].TrimEnd() + "~" + hash;
    }

    /// <summary>SHA-256 (hex) of import | source tool | connection | repository | digest | vulnerability | package | installed version.</summary>
    public static string IdentityOf(string sourceTool, long connectionId, string repositoryName, string digest, string vulnerabilityId, string packageName, string installedVersion)
    {
        var key = string.Join('|', "import", sourceTool, connectionId.ToString(CultureInfo.InvariantCulture), repositoryName, digest, vulnerabilityId, packageName, installedVersion);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
    }

    public static ToolFindings FromTrivy(UploadedReport report, ImportTarget target)
    {
        var found = new Dictionary<string, Finding>(StringComparer.Ordinal);
        foreach (var result in report.Results ?? [])
        {
            foreach (var vulnerability in result.Vulnerabilities ?? [])
            {
                var id = vulnerability.VulnerabilityID!.Trim();
                var package = vulnerability.PkgName!.Trim();
                var installed = vulnerability.InstalledVersion?.Trim() ?? "";
                var identity = IdentityOf(TrivySource, target.ConnectionId, target.RepositoryName, target.Digest, id, package, installed);

                // The same package in several targets (a library copied into two layers, a binary listed twice) is one finding.
                if (found.ContainsKey(identity))
                {
                    continue;
                }

                var (score, vector) = PreferredCvss(vulnerability);
                var links = new[] { vulnerability.PrimaryURL }.Concat(vulnerability.References ?? []);
                found[identity] = Create(target, TrivySource, identity, id, package, installed, vulnerability.FixedVersion, Finding.ParseSeverity(vulnerability.Severity),
                    score, vector, vulnerability.Title, vulnerability.Description, links, "Trivy", report.Trivy?.Version);
            }
        }

        return new ToolFindings(TrivySource, [.. found.Values]);
    }

    public static IReadOnlyList<ToolFindings> FromSarif(UploadedReport report, ImportTarget target)
    {
        var byTool = new Dictionary<string, Dictionary<string, Finding>>(StringComparer.Ordinal);
        foreach (var run in report.Runs ?? [])
        {
            var driver = run.Tool!.Driver!;
            var source = SarifSource(driver.Name!);
            if (!byTool.TryGetValue(source, out var found))
            {
                byTool[source] = found = new Dictionary<string, Finding>(StringComparer.Ordinal);
            }

            var rules = driver.Rules ?? [];
            var rulesById = rules.Where(r => !string.IsNullOrWhiteSpace(r.Id)).GroupBy(r => r.Id!, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
            foreach (var result in run.Results ?? [])
            {
                var rule = result.RuleIndex is { } index && index >= 0 && index < rules.Count ? rules[index]
                    : result.RuleId is { } ruleId && rulesById.TryGetValue(ruleId, out var named) ? named
                    : null;
                var evidence = SarifEvidence.Read(result, rule);
                var identity = IdentityOf(source, target.ConnectionId, target.RepositoryName, target.Digest, evidence.VulnerabilityId, evidence.PackageName, evidence.InstalledVersion);
                if (found.ContainsKey(identity))
                {
                    continue;
                }

                found[identity] = Create(target, source, identity, evidence.VulnerabilityId, evidence.PackageName, evidence.InstalledVersion, evidence.FixedVersion,
                    evidence.Severity, evidence.Score, null, evidence.Title, evidence.Description, [rule?.HelpUri], driver.Name!.Trim(),
                    driver.Version ?? driver.SemanticVersion);
            }
        }

        return [.. byTool.Select(t => new ToolFindings(t.Key, [.. t.Value.Values]))];
    }

    /// <summary>
    /// NVD's CVSS v3 first (the reference most people compare with), then the source Trivy took the severity from, then
    /// the others by name; a v2 score only when no source has a v3 one.
    /// </summary>
    private static (double? Score, string? Vector) PreferredCvss(TrivyVulnerability vulnerability)
    {
        var sources = (vulnerability.CVSS ?? []).OrderBy(c => c.Key == "nvd" ? 0 : c.Key == vulnerability.SeveritySource ? 1 : 2).ThenBy(c => c.Key, StringComparer.Ordinal)
            .Select(c => c.Value).ToList();
        if (sources.FirstOrDefault(c => c.V3Score > 0) is { } v3)
        {
            return (v3.V3Score, string.IsNullOrWhiteSpace(v3.V3Vector) ? null : v3.V3Vector);
        }

        return sources.FirstOrDefault(c => c.V2Score > 0) is { } v2 ? (v2.V2Score, string.IsNullOrWhiteSpace(v2.V2Vector) ? null : v2.V2Vector) : (null, null);
    }

    private static Finding Create(
        ImportTarget target, string source, string identity, string vulnerabilityId, string packageName, string installedVersion, string? fixedVersion,
        Severity severity, double? score, string? vector, string? title, string? description, IEnumerable<string?> links, string scannerName, string? scannerVersion)
    {
        var text = (description ?? "").Trim();
        var heading = !string.IsNullOrWhiteSpace(title) ? title.Trim() : FirstSentence(text) is { Length: > 0 } sentence ? sentence : vulnerabilityId;
        var now = target.Priority.Now;
        var finding = new Finding
        {
            Identity = identity,
            ConnectionId = target.ConnectionId,
            ProjectName = target.ProjectName,
            RepositoryName = target.RepositoryName,
            Digest = target.Digest,
            Tags = target.Tags,
            VulnerabilityId = Truncate(vulnerabilityId, 128),
            PackageName = Truncate(packageName, 512),
            InstalledVersion = Truncate(installedVersion, 256),
            FixedVersion = Truncate(fixedVersion?.Trim() ?? "", 512),
            Severity = severity,
            CvssScore = score is > 0 ? Math.Round(score.Value, 1) : null,
            CvssVector = vector is null ? null : Truncate(vector.Trim(), 256),
            Title = Truncate(heading, Finding.MaxTitleLength),
            Description = Truncate(text, Finding.MaxDescriptionLength),
            Links = string.Join('\n', links.Where(l => !string.IsNullOrWhiteSpace(l)).Select(l => l!.Trim()).Distinct(StringComparer.Ordinal)),
            SourceTool = source,
            ScannerName = Truncate(scannerName, 128),
            ScannerVersion = scannerVersion is null ? null : Truncate(scannerVersion.Trim(), 64),
            Status = FindingStatus.Open,
            FirstSeenAt = now,
            LastSeenAt = now,
            ProjectIsPublic = target.Priority.ProjectIsPublic,
            ImagePushedAt = target.Priority.ImagePushedAt,
        };
        PriorityRules.Apply(finding, target.Threats?.Annotate(target.Priority, finding.VulnerabilityId) ?? target.Priority);
        return finding;
    }

    internal static string FirstSentence(string text)
    {
        var line = text.Split('\n', 2)[0].Trim();
        var stop = line.IndexOf(". ", StringComparison.Ordinal);
        return stop > 0 ? line[..(stop + 1)] : line;
    }

    internal static string Truncate(string value, int max) => value.Length > max ? value[..(max - 1)] + "…" : value;

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}

/// <summary>
/// What one SARIF result says about a vulnerability, read in a documented order (README, "Imports"): explicit properties
/// first, then the lines Trivy writes into its messages, then the shape of Grype's rule ids and messages, then the
/// result's location.
/// </summary>
internal sealed partial record SarifEvidence(
    string VulnerabilityId, string PackageName, string InstalledVersion, string? FixedVersion, Severity Severity, double? Score, string Title, string Description)
{
    private static readonly string[] PackageKeys = ["packageName", "package", "pkgName", "PkgName"];
    private static readonly string[] VersionKeys = ["installedVersion", "packageVersion", "InstalledVersion", "version"];
    private static readonly string[] FixedKeys = ["fixedVersion", "fixVersion", "FixedVersion"];

    public static SarifEvidence Read(SarifResult result, SarifRule? rule)
    {
        var ruleId = (result.RuleId ?? rule?.Id ?? "").Trim();
        var message = result.Message?.Text ?? "";
        var help = rule?.Help?.Text ?? "";

        // A result's own properties override its rule's.
        var properties = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var bag in new[] { rule?.Properties, result.Properties })
        {
            foreach (var (key, value) in bag ?? [])
            {
                properties[key] = value;
            }
        }

        var vulnerabilityId = ruleId;
        string? packageFromRule = null;
        if (VulnerabilityWithPackage().Match(ruleId) is { Success: true } grype)
        {
            // Grype: "CVE-2021-3711-libssl1.1" is the vulnerability, then the package.
            vulnerabilityId = grype.Groups["id"].Value;
            packageFromRule = grype.Groups["package"].Value;
        }

        var package = Property(properties, PackageKeys) ?? Line(message, "Package") ?? Line(help, "Package") ?? packageFromRule
            ?? result.Locations?.Select(l => l.PhysicalLocation?.ArtifactLocation?.Uri).FirstOrDefault(u => !string.IsNullOrWhiteSpace(u)) ?? "";
        var installed = Property(properties, VersionKeys) ?? Line(message, "Installed Version") ?? AtVersion().Match(message) switch
        {
            { Success: true } m => m.Groups["version"].Value,
            _ => "",
        };
        var fixedVersion = Property(properties, FixedKeys) ?? Line(message, "Fixed Version") ?? Line(help, "Fixed Version");

        var score = properties.TryGetValue("security-severity", out var raw) ? Number(raw) : null;
        var severity = Named(Line(message, "Severity")) ?? Named(Tags(properties).FirstOrDefault(t => Named(t) is not null))
            ?? Banded(score) ?? Level(result.Level ?? rule?.DefaultConfiguration?.Level);

        var title = rule?.ShortDescription?.Text?.Trim() is { Length: > 0 } shortText ? shortText : message.Split('\n', 2)[0].Trim();
        var description = rule?.FullDescription?.Text?.Trim() is { Length: > 0 } full ? full : help.Length > 0 ? help.Trim() : message.Trim();
        return new SarifEvidence(vulnerabilityId, package.Trim(), installed.Trim(), fixedVersion?.Trim(), severity, score, title, description);
    }

    private static string? Property(Dictionary<string, JsonElement> properties, string[] keys) =>
        keys.Select(k => properties.TryGetValue(k, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null)
            .FirstOrDefault(v => !string.IsNullOrWhiteSpace(v));

    private static IEnumerable<string> Tags(Dictionary<string, JsonElement> properties) =>
        properties.TryGetValue("tags", out var tags) && tags.ValueKind == JsonValueKind.Array
            ? tags.EnumerateArray().Where(t => t.ValueKind == JsonValueKind.String).Select(t => t.GetString()!)
            : [];

    /// <summary>"Package: libssl3" on a line of its own, as Trivy writes its messages.</summary>
    private static string? Line(string text, string label)
    {
        foreach (var line in text.Split('\n'))
        {
            var trimmed = line.Trim();
            if (trimmed.StartsWith(label + ":", StringComparison.Ordinal) && trimmed[(label.Length + 1)..].Trim() is { Length: > 0 } value)
            {
                return value;
            }
        }

        return null;
    }

    private static double? Number(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Number => value.GetDouble(),
        JsonValueKind.String when double.TryParse(value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) => parsed,
        _ => null,
    };

    private static Severity? Named(string? value) =>
        value is not null && Enum.TryParse<Severity>(value.Trim(), ignoreCase: true, out var severity) && Enum.IsDefined(severity) && severity is not (Severity.Unknown or Severity.None)
            ? severity
            : null;

    /// <summary>GitHub's bands for <c>security-severity</c> (a CVSS-like score).</summary>
    private static Severity? Banded(double? score) => score switch
    {
        >= 9.0 => Severity.Critical,
        >= 7.0 => Severity.High,
        >= 4.0 => Severity.Medium,
        > 0 => Severity.Low,
        0 => Severity.None,
        _ => null,
    };

    /// <summary>SARIF's levels; an absent level is "warning" (SARIF 2.1.0 §3.27.10).</summary>
    private static Severity Level(string? level) => level?.Trim().ToLowerInvariant() switch
    {
        "error" => Severity.High,
        "note" => Severity.Low,
        "none" => Severity.None,
        _ => Severity.Medium,
    };

    [GeneratedRegex(@"^(?<id>(?:CVE-\d{4}-\d{4,}|GHSA(?:-[23456789cfghjmpqrvwx]{4}){3}))-(?<package>.+)$", RegexOptions.IgnoreCase)]
    private static partial Regex VulnerabilityWithPackage();

    [GeneratedRegex(@"\bat version (?<version>\S+)")]
    private static partial Regex AtVersion();
}
