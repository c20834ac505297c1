using System.Text.Json;
using System.Text.Json.Serialization;

namespace HarborPortal.Features.Imports;

/// <summary>
/// The top of either format, read in one pass: a Trivy JSON report (PascalCase: <c>SchemaVersion</c>, <c>Results</c>) or a
/// SARIF log (camelCase: <c>version</c>, <c>runs</c>). Property names are matched exactly, so the two never mix.
/// Only the fields the mapping reads are declared; the rest of the file is skipped while streaming.
/// </summary>
public sealed class UploadedReport
{
    public int? SchemaVersion { get; init; }

    public string? ArtifactName { get; init; }

    public TrivyMetadata? Metadata { get; init; }

    public List<TrivyResult>? Results { get; init; }

    /// <summary>Written by recent Trivy versions only.</summary>
    public TrivyVersion? Trivy { get; init; }

    [JsonPropertyName("version")]
    public string? Version { get; init; }

    [JsonPropertyName("$schema")]
    public string? Schema { get; init; }

    [JsonPropertyName("runs")]
    public List<SarifRun>? Runs { get; init; }
}

public sealed class TrivyVersion
{
    public string? Version { get; init; }
}

public sealed class TrivyMetadata
{
    public List<string>? RepoTags { get; init; }

    public List<string>? RepoDigests { get; init; }
}

public sealed class TrivyResult
{
    public string? Target { get; init; }

    public string? Class { get; init; }

    public string? Type { get; init; }

    public List<TrivyVulnerability>? Vulnerabilities { get; init; }
}

public sealed class TrivyVulnerability
{
    public string? VulnerabilityID { get; init; }

    public string? PkgName { get; init; }

    public string? InstalledVersion { get; init; }

    public string? FixedVersion { get; init; }

    public string? Severity { get; init; }

    public string? SeveritySource { get; init; }

    public string? PrimaryURL { get; init; }

    public string? Title { get; init; }

    public string? Description { get; init; }

    /// <summary>Keyed by the source that rated it: <c>nvd</c>, <c>ghsa</c>, <c>redhat</c>, a distribution…</summary>
    public Dictionary<string, TrivyCvss>? CVSS { get; init; }

    public List<string>? References { get; init; }
}

public sealed class TrivyCvss
{
    public string? V2Vector { get; init; }

    public string? V3Vector { get; init; }

    public double? V2Score { get; init; }

    public double? V3Score { get; init; }
}

public sealed class SarifRun
{
    [JsonPropertyName("tool")]
    public SarifTool? Tool { get; init; }

    [JsonPropertyName("results")]
    public List<SarifResult>? Results { get; init; }

    /// <summary>Trivy puts <c>imageName</c>, <c>repoDigests</c> and <c>repoTags</c> here.</summary>
    [JsonPropertyName("properties")]
    public Dictionary<string, JsonElement>? Properties { get; init; }
}

public sealed class SarifTool
{
    [JsonPropertyName("driver")]
    public SarifDriver? Driver { get; init; }
}

public sealed class SarifDriver
{
    [JsonPropertyName("name")]
    public string? Name { get; init; }

    [JsonPropertyName("version")]
    public string? Version { get; init; }

    [JsonPropertyName("semanticVersion")]
    public string? SemanticVersion { get; init; }

    [JsonPropertyName("rules")]
    public List<SarifRule>? Rules { get; init; }
}

public sealed class SarifRule
{
    [JsonPropertyName("id")]
    public string? Id { get; init; }

    [JsonPropertyName("shortDescription")]
    public SarifText? ShortDescription { get; init; }

    [JsonPropertyName("fullDescription")]
    public SarifText? FullDescription { get; init; }

    [JsonPropertyName("help")]
    public SarifText? Help { get; init; }

    [JsonPropertyName("helpUri")]
    public string? HelpUri { get; init; }

    [JsonPropertyName("defaultConfiguration")]
    public SarifConfiguration? DefaultConfiguration { get; init; }

    [JsonPropertyName("properties")]
    public Dictionary<string, JsonElement>? Properties { get; init; }
}

public sealed class SarifConfiguration
{
    [JsonPropertyName("level")]
    public string? Level { get; init; }
}

public sealed class SarifText
{
    [JsonPropertyName("text")]
    public string? Text { get; init; }
}

public sealed class SarifResult
{
    [JsonPropertyName("ruleId")]
    public string? RuleId { get; init; }

    [JsonPropertyName("ruleIndex")]
    public int? RuleIndex { get; init; }

    [JsonPropertyName("level")]
    public string? Level { get; init; }

    [JsonPropertyName("message")]
    public SarifText? Message { get; init; }

    [JsonPropertyName("locations")]
    public List<SarifLocation>? Locations { get; init; }

    [JsonPropertyName("properties")]
    public Dictionary<string, JsonElement>? Properties { get; init; }
}

public sealed class SarifLocation
{
    [JsonPropertyName("physicalLocation")]
    public SarifPhysicalLocation? PhysicalLocation { get; init; }
}

public sealed class SarifPhysicalLocation
{
    [JsonPropertyName("artifactLocation")]
    public SarifArtifactLocation? ArtifactLocation { get; init; }
}

public sealed class SarifArtifactLocation
{
    [JsonPropertyName("uri")]
    public string? Uri { get; init; }
}
