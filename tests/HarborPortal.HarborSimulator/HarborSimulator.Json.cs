using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace HarborPortal.HarborSimulator;

// Harbor's JSON shapes (§1.2, §5, §7): empty scalars omitted, empty arrays null, zero dates present, millisecond UTC times.
public sealed partial class HarborSimulator
{
    private JsonObject ProjectJson(SimProject project, Caller? caller, bool withDetail)
    {
        var json = new JsonObject
        {
            ["creation_time"] = Time(project.CreationTime),
            ["current_user_role_ids"] = caller?.User is { } user && user.Projects.Contains(project.Name) ? new JsonArray(1) : null,
        };
        if (withDetail)
        {
            var allowlist = new JsonObject { ["creation_time"] = ZeroTime };
            if (project.CveAllowlistExpiresAt is { } expires)
            {
                allowlist["expires_at"] = expires;
            }

            allowlist["items"] = new JsonArray([.. project.CveAllowlist.Select(c => (JsonNode)new JsonObject { ["cve_id"] = c })]);
            allowlist["project_id"] = project.ProjectId;
            allowlist["update_time"] = ZeroTime;
            json["cve_allowlist"] = allowlist;
            var metadata = new JsonObject();
            foreach (var (key, value) in project.Metadata.Append(new("public", project.Public ? "true" : "false")).OrderBy(m => m.Key, StringComparer.Ordinal))
            {
                metadata[key] = value;
            }

            json["metadata"] = metadata;
        }

        json["name"] = project.Name;
        json["owner_id"] = project.OwnerId;
        if (withDetail)
        {
            json["owner_name"] = project.OwnerName;
        }

        json["project_id"] = project.ProjectId;
        json["repo_count"] = _state.Repositories.Count(r => r.ProjectName == project.Name);
        json["update_time"] = Time(project.CreationTime);
        return json;
    }

    private JsonObject RepositoryJson(SimRepository repository, SimProject project)
    {
        var artifacts = _state.Artifacts.Where(a => a.Repository == repository.Name).ToList();
        return new JsonObject
        {
            ["artifact_count"] = artifacts.Count,
            ["creation_time"] = Time(repository.CreationTime),
            ["description"] = string.IsNullOrEmpty(repository.Description) ? null : repository.Description,
            ["id"] = repository.Id,
            ["name"] = repository.Name,
            ["project_id"] = project.ProjectId,
            ["pull_count"] = repository.PullCount,
            ["update_time"] = Time(artifacts.Count == 0 ? repository.CreationTime : artifacts.Max(a => a.PushTime)),
        }.WithoutNulls();
    }

    private sealed record ArtifactFlags(bool WithTag, bool WithScanOverview, IReadOnlyList<string> Accepted)
    {
        public static ArtifactFlags From(HttpContext context, IReadOnlyList<string> accepted) => new(
            !string.Equals(context.Request.Query["with_tag"], "false", StringComparison.OrdinalIgnoreCase),
            string.Equals(context.Request.Query["with_scan_overview"], "true", StringComparison.OrdinalIgnoreCase),
            accepted);
    }

    private JsonObject ArtifactJson(SimArtifact artifact, SimProject project, string repositoryName, ArtifactFlags flags)
    {
        var repositoryId = _state.Repositories.FirstOrDefault(r => r.Name == artifact.Repository)?.Id ?? 0;
        var basePath = $"/api/v2.0/projects/{project.Name}/repositories/{DoubleEncode(repositoryName)}/artifacts";
        var isIndex = artifact.Children is { Count: > 0 };
        var json = new JsonObject
        {
            ["accessories"] = null,
            ["addition_links"] = new JsonObject
            {
                ["build_history"] = isIndex ? null : new JsonObject { ["absolute"] = false, ["href"] = $"{basePath}/{artifact.Digest}/additions/build_history" },
                ["sboms"] = new JsonObject { ["absolute"] = false, ["href"] = $"{basePath}//additions/sbom" },
                ["vulnerabilities"] = new JsonObject { ["absolute"] = false, ["href"] = $"{basePath}/{artifact.Digest}/additions/vulnerabilities" },
            }.WithoutNulls(),
            ["digest"] = artifact.Digest,
        };
        if (!isIndex)
        {
            json["extra_attrs"] = new JsonObject
            {
                ["architecture"] = artifact.Architecture,
                ["author"] = "",
                ["config"] = new JsonObject { ["User"] = "10001" },
                ["created"] = artifact.PushTime.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture),
                ["os"] = "linux",
            };
        }

        json["icon"] = "sha256:0048162a053eef4d4ce3fe7518615bef084403614f8bca43b40ae2e762e11e06";
        json["id"] = artifact.Id;
        json["labels"] = null;
        json["manifest_media_type"] = isIndex ? "application/vnd.oci.image.index.v1+json" : artifact.ManifestMediaType;
        json["media_type"] = isIndex ? "application/vnd.oci.image.index.v1+json" : "application/vnd.oci.image.config.v1+json";
        json["project_id"] = project.ProjectId;
        json["pull_time"] = Time(artifact.PullTime);
        json["push_time"] = Time(artifact.PushTime);
        json["references"] = isIndex
            ? new JsonArray([.. artifact.Children!.Select((child, i) => (JsonNode)new JsonObject
            {
                ["child_digest"] = child,
                ["child_id"] = (artifact.Id * 100) + i,
                ["parent_id"] = artifact.Id,
                ["platform"] = new JsonObject { ["architecture"] = i == 0 ? "amd64" : "arm64", ["os"] = "linux" },
                ["urls"] = null,
            })])
            : null;
        json["repository_id"] = repositoryId;
        json["repository_name"] = artifact.Repository;
        if (flags.WithScanOverview && OverviewJson(artifact, flags.Accepted) is { } overview)
        {
            json["scan_overview"] = overview;
        }

        json["size"] = artifact.Size;
        json["tags"] = flags.WithTag && artifact.Tags.Count > 0
            ? new JsonArray([.. artifact.Tags.Select((tag, i) => (JsonNode)new JsonObject
            {
                ["artifact_id"] = artifact.Id,
                ["id"] = (artifact.Id * 10) + i,
                ["immutable"] = false,
                ["name"] = tag,
                ["pull_time"] = Time(artifact.PullTime),
                ["push_time"] = Time(artifact.PushTime),
                ["repository_id"] = repositoryId,
            })])
            : null;
        json["type"] = "IMAGE";
        return json;
    }

    private JsonObject? OverviewJson(SimArtifact artifact, IReadOnlyList<string> accepted)
    {
        if (artifact.ScanStatus is null || accepted.FirstOrDefault(artifact.ReportMimeTypes.Contains) is not { } mime)
        {
            return null;
        }

        var overview = new JsonObject();
        var start = artifact.ScanStartTime ?? artifact.PushTime;
        if (artifact.ScanStatus == "Success")
        {
            var end = artifact.ScanEndTime ?? start.AddSeconds(6);
            var items = Vulnerabilities(artifact);
            var summary = new JsonObject();
            foreach (var group in items.GroupBy(i => Severity(i)).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                summary[group.Key] = group.Count();
            }

            overview["complete_percent"] = 100;
            if ((long)(end - start).TotalSeconds is > 0 and var duration)
            {
                overview["duration"] = duration;
            }

            overview["end_time"] = Time(end);
            overview["report_id"] = artifact.ReportId;
            overview["scan_status"] = "Success";
            overview["scanner"] = Scanner();
            overview["severity"] = HighestSeverity(items);
            overview["start_time"] = Time(start);
            overview["summary"] = new JsonObject
            {
                ["fixable"] = items.Count(i => !string.IsNullOrEmpty(i["fix_version"]?.GetValue<string>())),
                ["summary"] = summary,
                ["total"] = items.Count,
            };
        }
        else
        {
            overview["end_time"] = Time(artifact.ScanEndTime);
            overview["report_id"] = artifact.ReportId;
            overview["scan_status"] = artifact.ScanStatus;
            overview["start_time"] = Time(start);
        }

        return new JsonObject { [mime] = overview };
    }

    private JsonObject ReportJson(SimArtifact artifact)
    {
        var items = Vulnerabilities(artifact);
        var digests = artifact.Children is { Count: > 0 } children ? children : [artifact.Digest];
        var vulnerabilities = new JsonArray();
        foreach (var item in items)
        {
            var vendor = item["vendor_attributes"]?.DeepClone();
            var scoreV3 = item["preferred_cvss"]?["score_v3"]?.GetValue<double>()
                ?? item["vendor_attributes"]?["CVSS"]?["nvd"]?["V3Score"]?.GetValue<double>()
                ?? (vendor is null ? null : 0d);
            vulnerabilities.Add(new JsonObject
            {
                ["id"] = item["id"]?.DeepClone(),
                ["package"] = item["package"]?.DeepClone(),
                ["version"] = item["version"]?.DeepClone(),
                ["fix_version"] = item["fix_version"]?.DeepClone() ?? "",
                ["severity"] = Severity(item),
                ["status"] = item["status"]?.DeepClone() ?? "",
                ["description"] = item["description"]?.DeepClone() ?? "",
                ["links"] = item["links"]?.DeepClone() ?? new JsonArray(""),
                ["artifact_digests"] = new JsonArray([.. digests.Select(d => (JsonNode?)d)]),
                ["preferred_cvss"] = new JsonObject { ["score_v3"] = scoreV3, ["score_v2"] = null, ["vector_v3"] = "", ["vector_v2"] = "" },
                ["cwe_ids"] = item["cwe_ids"]?.DeepClone() ?? new JsonArray(""),
                ["vendor_attributes"] = vendor,
            });
        }

        return new JsonObject
        {
            ["generated_at"] = (artifact.ScanEndTime ?? artifact.PushTime).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture),
            ["scanner"] = Scanner(),
            ["severity"] = items.Count == 0 ? "" : HighestSeverity(items),
            ["vulnerabilities"] = vulnerabilities,
        };
    }

    private List<JsonObject> Vulnerabilities(SimArtifact artifact) =>
        artifact.VulnerabilitySet is { } name && _state.VulnerabilitySets.TryGetValue(name, out var set) ? set : [];

    private static string Severity(JsonObject item) => item["severity"]?.GetValue<string>() switch
    {
        null or "" => "Unknown",
        "Negligible" => "None",
        var s => s,
    };

    private static string HighestSeverity(List<JsonObject> items) =>
        items.Count == 0 ? "None" : items.Select(Severity).MaxBy(s => Array.IndexOf(SeverityOrder, s))!;

    private static JsonObject Scanner() => new() { ["name"] = "Trivy", ["vendor"] = "Aqua Security", ["version"] = "v0.58.2" };

    private JsonNode RobotJson(SimRobot robot) => new JsonObject
    {
        ["creation_time"] = Time(robot.CreationTime),
        ["creator_ref"] = 1,
        ["creator_type"] = "local",
        ["description"] = string.IsNullOrEmpty(robot.Description) ? null : robot.Description,
        ["disable"] = robot.Disable,
        ["duration"] = robot.Duration,
        ["editable"] = true,
        ["expires_at"] = robot.ExpiresAt,
        ["id"] = robot.Id,
        ["level"] = robot.Level,
        ["name"] = _state.RobotPrefix + robot.Name,
        ["permissions"] = new JsonArray([.. robot.Permissions.Select(p => (JsonNode)new JsonObject
        {
            ["access"] = new JsonArray([.. p.Access.Select(a => (JsonNode)new JsonObject { ["action"] = a.Action, ["resource"] = a.Resource })]),
            ["kind"] = p.Kind,
            ["namespace"] = p.Namespace,
        })]),
        ["update_time"] = Time(robot.CreationTime),
    }.WithoutNulls();
}
