using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace HarborPortal.HarborSimulator;

/// <summary>
/// Everything the simulated Harbor knows. Scenario files (<c>Scenarios/*.json</c>) are this class in snake_case JSON;
/// tests may also build one in code. Mutate it only through <see cref="HarborSimulator"/> while the server runs (it locks).
/// </summary>
public sealed class SimulatorState
{
    /// <summary>Harbor's <c>robot_name_prefix</c>.</summary>
    public string RobotPrefix { get; set; } = "robot$";

    /// <summary>When false: scans answer 412, reports 404, the scan-all schedule 412 — as Harbor does without a scanner.</summary>
    public bool ScannerConfigured { get; set; } = true;

    /// <summary>What <c>/systeminfo</c> reports as <c>auth_mode</c> (<c>db_auth</c>, <c>oidc_auth</c>, <c>ldap_auth</c>, …).</summary>
    public string AuthMode { get; set; } = "db_auth";

    /// <summary>
    /// Scanner registrations (<c>GET /scanners</c>, a project's scanner). Null: one healthy default Trivy when
    /// <see cref="ScannerConfigured"/>, none otherwise.
    /// </summary>
    public List<SimScanner>? Scanners { get; set; }

    public List<SimUser> Users { get; set; } = [];
    public List<SimProject> Projects { get; set; } = [];
    public List<SimRepository> Repositories { get; set; } = [];
    public List<SimArtifact> Artifacts { get; set; } = [];
    public List<SimRobot> Robots { get; set; } = [];

    /// <summary>Named lists of Harbor <c>VulnerabilityItem</c> objects, verbatim; artifacts refer to them by name.</summary>
    public Dictionary<string, List<JsonObject>> VulnerabilitySets { get; set; } = [];

    /// <summary>Bodies served as they are (null = Harbor's empty 200 body for schedules).</summary>
    public JsonObject? GcSchedule { get; set; }
    public JsonObject? ScanAllSchedule { get; set; }
    public JsonObject? SystemCveAllowlist { get; set; }
    public JsonObject? Configurations { get; set; }
    public Dictionary<string, JsonObject> Retentions { get; set; } = [];

    /// <summary>When set, <see cref="Generate(SimGenerate)"/> adds this many projects, repositories and artifacts on load.</summary>
    public SimGenerate? Generate { get; set; }

    internal static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    /// <summary>Loads <c>Scenarios/{name}.json</c> from beside the simulator's assembly (e.g. <c>default</c>, <c>large</c>).</summary>
    public static SimulatorState Load(string name)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Scenarios", name + ".json");
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"No simulator scenario named '{name}'.", path);
        }

        return FromJson(File.ReadAllText(path));
    }

    public static SimulatorState FromJson(string json)
    {
        var state = JsonSerializer.Deserialize<SimulatorState>(json, JsonOptions) ?? throw new InvalidDataException("Empty scenario.");
        if (state.Generate is { } generate)
        {
            state.Generate = null;
            state.AddGenerated(generate);
        }

        return state;
    }

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>
    /// The <c>large</c> scenario's accounts (the portal's robot among them) with a data set generated in code instead of
    /// its own: sizes too big to commit as JSON (the sync benchmark's 5,000 artifacts × 50 vulnerabilities).
    /// </summary>
    public static SimulatorState Generated(SimGenerate generate)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Scenarios", "large.json");
        var scenario = JsonNode.Parse(File.ReadAllText(path), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true })!.AsObject();
        scenario.Remove("generate");
        var state = FromJson(scenario.ToJsonString());
        state.AddGenerated(generate);
        return state;
    }

    /// <summary>Adds generated projects (<c>gen-001</c>…), each with repositories (every third nested) and artifacts with small reports.</summary>
    public void AddGenerated(SimGenerate generate)
    {
        var projectId = Projects.Count == 0 ? 100 : Projects.Max(p => p.ProjectId) + 1;
        var repositoryId = Repositories.Count == 0 ? 1000 : Repositories.Max(r => r.Id) + 1;
        var artifactId = Artifacts.Count == 0 ? 10000 : Artifacts.Max(a => a.Id) + 1;
        var epoch = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
        string[] severities = ["Low", "Medium", "High", "Critical", "Unknown"];
        for (var s = 0; s < 5; s++)
        {
            var set = new List<JsonObject>();
            for (var v = 0; v < generate.VulnerabilitiesPerArtifact; v++)
            {
                var id = $"CVE-2024-{10000 + (s * 100) + v}";
                var item = new JsonObject
                {
                    ["id"] = id,
                    ["package"] = $"pkg-{v}",
                    ["version"] = "1.0.0",
                    ["fix_version"] = v % 2 == 0 ? "1.0.1" : "",
                    ["severity"] = severities[(s + v) % severities.Length],
                    ["description"] = $"Generated finding {v} of set {s}.",
                };
                if (generate.DetailedVulnerabilities)
                {
                    item["description"] = $"A flaw in pkg-{v} before 1.0.1 allows a remote attacker to cause a denial of service or read memory out of bounds "
                        + "through a crafted input, because a length is not checked before a copy. This affects every configuration that parses untrusted data.";
                    item["links"] = new JsonArray($"https://avd.aquasec.com/nvd/{id.ToLowerInvariant()}", $"https://nvd.nist.gov/vuln/detail/{id}");
                    item["preferred_cvss"] = new JsonObject { ["score_v3"] = 5.0 + (v % 50) / 10.0 };
                    item["cwe_ids"] = new JsonArray("CWE-787");
                }

                set.Add(item);
            }

            VulnerabilitySets[$"generated-{s}"] = set;
        }

        for (var p = 1; p <= generate.Projects; p++)
        {
            var project = new SimProject { ProjectId = projectId++, Name = $"{generate.ProjectPrefix}-{p:000}", CreationTime = epoch.AddHours(p) };
            Projects.Add(project);
            for (var r = 1; r <= generate.RepositoriesPerProject; r++)
            {
                var name = r % 3 == 0 ? $"{project.Name}/group/svc-{r:00}" : $"{project.Name}/app-{r:00}";
                Repositories.Add(new SimRepository { Id = repositoryId++, Name = name, CreationTime = epoch.AddHours(p).AddMinutes(r) });
                for (var a = 1; a <= generate.ArtifactsPerRepository; a++)
                {
                    var id = artifactId++;
                    Artifacts.Add(new SimArtifact
                    {
                        Id = id,
                        Repository = name,
                        Digest = "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(id))),
                        Tags = [$"1.{a}.0"],
                        PushTime = epoch.AddDays(a).AddMinutes(r),
                        ScanStatus = "Success",
                        VulnerabilitySet = $"generated-{id % 5}",
                    });
                }
            }
        }
    }
}

/// <summary>Parameters of a generated data set (the <c>large</c> scenario).</summary>
public sealed class SimGenerate
{
    public string ProjectPrefix { get; set; } = "gen";
    public int Projects { get; set; } = 25;
    public int RepositoriesPerProject { get; set; } = 12;
    public int ArtifactsPerRepository { get; set; } = 15;
    public int VulnerabilitiesPerArtifact { get; set; } = 5;

    /// <summary>Descriptions, links, CVSS and CWE as a Trivy report carries them, so reports weigh what real ones do.</summary>
    public bool DetailedVulnerabilities { get; set; }
}

public sealed class SimUser
{
    public int UserId { get; set; }
    public string Username { get; set; } = "";
    public string Password { get; set; } = "";
    public string Email { get; set; } = "";
    public string Realname { get; set; } = "";
    public bool Sysadmin { get; set; }

    /// <summary>Projects this user is a member of (members get every project permission here).</summary>
    public List<string> Projects { get; set; } = [];
}

public sealed class SimProject
{
    public int ProjectId { get; set; }
    public string Name { get; set; } = "";
    public bool Public { get; set; }
    public int OwnerId { get; set; } = 1;
    public string OwnerName { get; set; } = "admin";
    public DateTimeOffset CreationTime { get; set; } = new(2024, 5, 20, 7, 41, 9, 318, TimeSpan.Zero);

    /// <summary>Metadata besides <c>public</c> (which comes from <see cref="Public"/>); values are strings as in Harbor.</summary>
    public Dictionary<string, string> Metadata { get; set; } = [];

    public List<string> CveAllowlist { get; set; } = [];
    public long? CveAllowlistExpiresAt { get; set; }
}

public sealed class SimRepository
{
    public long Id { get; set; }

    /// <summary>Full name including the project: <c>team/app/api</c>.</summary>
    public string Name { get; set; } = "";

    public string? Description { get; set; }
    public long PullCount { get; set; }
    public DateTimeOffset CreationTime { get; set; } = new(2024, 6, 2, 8, 30, 11, 644, TimeSpan.Zero);

    [JsonIgnore]
    public string ProjectName => Name[..Name.IndexOf('/', StringComparison.Ordinal)];
}

public sealed class SimArtifact
{
    public long Id { get; set; }

    /// <summary>Full repository name (<c>team-a/payments-api</c>).</summary>
    public string Repository { get; set; } = "";

    public string Digest { get; set; } = "";
    public List<string> Tags { get; set; } = [];
    public DateTimeOffset PushTime { get; set; } = new(2025, 3, 10, 8, 14, 22, 530, TimeSpan.Zero);
    public DateTimeOffset? PullTime { get; set; }
    public long Size { get; set; } = 48_213_391;
    public string Architecture { get; set; } = "amd64";
    public string ManifestMediaType { get; set; } = "application/vnd.oci.image.manifest.v1+json";

    /// <summary>Digests of the children when this artifact is an image index.</summary>
    public List<string>? Children { get; set; }

    /// <summary><c>null</c> = never scanned; otherwise Pending, Running, Success, Error or Stopped.</summary>
    public string? ScanStatus { get; set; }

    /// <summary>The <see cref="SimulatorState.VulnerabilitySets"/> entry a successful scan reports (none = a clean image).</summary>
    public string? VulnerabilitySet { get; set; }

    /// <summary>Mime types the (simulated) scanner produced reports in; Trivy ≥ 0.22 produces only 1.1.</summary>
    public List<string> ReportMimeTypes { get; set; } = [HarborMimeTypes.Report11];

    public string ReportId { get; set; } = Guid.NewGuid().ToString();
    public DateTimeOffset? ScanStartTime { get; set; }
    public DateTimeOffset? ScanEndTime { get; set; }
}

public sealed class SimRobot
{
    public long Id { get; set; }

    /// <summary>Stored name, without the prefix: <c>harbor-portal</c> (system) or <c>team-a+reader</c> (project).</summary>
    public string Name { get; set; } = "";

    public string Secret { get; set; } = "";
    public string Level { get; set; } = "system";
    public string? Description { get; set; }
    public bool Disable { get; set; }
    public long Duration { get; set; } = -1;

    /// <summary>Unix seconds; -1 = never expires.</summary>
    public long ExpiresAt { get; set; } = -1;

    public DateTimeOffset CreationTime { get; set; } = new(2025, 1, 15, 9, 0, 12, 331, TimeSpan.Zero);
    public List<SimPermission> Permissions { get; set; } = [];
}

public sealed class SimPermission
{
    public string Kind { get; set; } = "project";
    public string Namespace { get; set; } = "*";
    public List<SimAccess> Access { get; set; } = [];
}

public sealed record SimAccess(string Resource, string Action);

/// <summary>A scanner registration; <see cref="Health"/> is what Harbor's ping of the adapter found (<c>healthy</c>/<c>unhealthy</c>).</summary>
public sealed class SimScanner
{
    public string Uuid { get; set; } = "6f7d5b3a-2c1e-4d8b-9a0f-1e2d3c4b5a69";
    public string Name { get; set; } = "Trivy";
    public string Url { get; set; } = "http://trivy-adapter:8080";
    public bool Disabled { get; set; }
    public bool IsDefault { get; set; } = true;
    public string Health { get; set; } = "healthy";
    public string Vendor { get; set; } = "Aqua Security";
    public string Version { get; set; } = "v0.58.2";
}

/// <summary>Harbor's vulnerability report mime types, exact strings (§6.1).</summary>
public static class HarborMimeTypes
{
    public const string Report11 = "application/vnd.security.vulnerability.report; version=1.1";
    public const string Report10 = "application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0";
}
