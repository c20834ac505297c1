using System.Globalization;
using System.Text.Json.Nodes;

namespace HarborPortal.HarborSimulator;

/// <summary>Harbor's webhook event types (the Default format's <c>type</c>).</summary>
public static class HarborWebhookEvents
{
    public const string PushArtifact = "PUSH_ARTIFACT";
    public const string PullArtifact = "PULL_ARTIFACT";
    public const string DeleteArtifact = "DELETE_ARTIFACT";
    public const string ScanningCompleted = "SCANNING_COMPLETED";
    public const string ScanningFailed = "SCANNING_FAILED";
    public const string ScanningStopped = "SCANNING_STOPPED";

    /// <summary>The CloudEvents <c>type</c> Harbor 2.8+ sends for each event type (§8.5).</summary>
    public static string CloudEventType(string eventType) => eventType switch
    {
        PushArtifact => "harbor.artifact.pushed",
        PullArtifact => "harbor.artifact.pulled",
        DeleteArtifact => "harbor.artifact.deleted",
        ScanningCompleted => "harbor.scan.completed",
        ScanningFailed => "harbor.scan.failed",
        ScanningStopped => "harbor.scan.stopped",
        _ => throw new ArgumentException($"No CloudEvents type for {eventType}.", nameof(eventType)),
    };
}

public sealed partial class HarborSimulator
{
    /// <summary>
    /// The payload Harbor would send for <paramref name="eventType"/> about the artifact with <paramref name="digest"/>,
    /// from the simulator's current state (reference §8): Default format, or the CloudEvents envelope around the same
    /// <c>event_data</c>. For a delete, build it before removing the artifact (or use <see cref="RemoveArtifact"/>'s result).
    /// </summary>
    public JsonObject BuildWebhook(string eventType, string digest, bool cloudEvents = false, string operatorName = "robot$team-a+ci-pusher")
    {
        lock (_gate)
        {
            var artifact = _state.Artifacts.FirstOrDefault(a => a.Digest == digest) ?? throw new ArgumentException($"No artifact {digest}.");
            return BuildWebhookLocked(eventType, artifact, cloudEvents, operatorName);
        }
    }

    /// <summary>The same for an artifact that may no longer be in the state (a deleted one).</summary>
    public JsonObject BuildWebhook(string eventType, SimArtifact artifact, bool cloudEvents = false, string operatorName = "robot$team-a+ci-pusher")
    {
        lock (_gate)
        {
            return BuildWebhookLocked(eventType, artifact, cloudEvents, operatorName);
        }
    }

    /// <summary>Deletes an artifact as Harbor's UI would; returns it (to build its DELETE_ARTIFACT webhook).</summary>
    public SimArtifact RemoveArtifact(string digest)
    {
        lock (_gate)
        {
            var artifact = _state.Artifacts.FirstOrDefault(a => a.Digest == digest) ?? throw new ArgumentException($"No artifact {digest}.");
            _state.Artifacts.Remove(artifact);
            return artifact;
        }
    }

    private JsonObject BuildWebhookLocked(string eventType, SimArtifact artifact, bool cloudEvents, string operatorName)
    {
        var repository = _state.Repositories.FirstOrDefault(r => r.Name == artifact.Repository);
        var projectName = artifact.Repository[..artifact.Repository.IndexOf('/', StringComparison.Ordinal)];
        var project = _state.Projects.FirstOrDefault(p => p.Name == projectName) ?? throw new InvalidOperationException($"No project {projectName}.");
        var isScan = eventType is HarborWebhookEvents.ScanningCompleted or HarborWebhookEvents.ScanningFailed or HarborWebhookEvents.ScanningStopped;
        var host = BaseAddress.Authority;

        // §8.4: a push by digest and a delete of an untagged artifact name the digest as tag; scan events omit the tag.
        var tag = artifact.Tags.FirstOrDefault();
        var resource = new JsonObject { ["digest"] = artifact.Digest };
        if (tag is not null || !isScan)
        {
            resource["tag"] = tag ?? artifact.Digest;
        }

        resource["resource_url"] = tag is null ? $"{host}/{artifact.Repository}@{artifact.Digest}" : $"{host}/{artifact.Repository}:{tag}";
        if (isScan)
        {
            resource["scan_overview"] = WebhookScanOverview(artifact, eventType);
        }

        var repositoryJson = new JsonObject();
        if (!isScan && repository is not null)
        {
            repositoryJson["date_created"] = repository.CreationTime.ToUnixTimeSeconds();
        }

        repositoryJson["name"] = artifact.Repository[(projectName.Length + 1)..];
        repositoryJson["namespace"] = projectName;
        repositoryJson["repo_full_name"] = artifact.Repository;
        repositoryJson["repo_type"] = project.Public ? "public" : "private";

        var eventData = new JsonObject { ["resources"] = new JsonArray(resource), ["repository"] = repositoryJson };
        if (isScan)
        {
            eventData["scan"] = new JsonObject { ["scan_type"] = "vulnerability" };
        }

        var occurAt = DateTimeOffset.UtcNow;
        if (!cloudEvents)
        {
            return new JsonObject
            {
                ["type"] = eventType,
                ["occur_at"] = occurAt.ToUnixTimeSeconds(),
                ["operator"] = operatorName,
                ["event_data"] = eventData,
            };
        }

        return new JsonObject
        {
            ["specversion"] = "1.0",
            ["id"] = Guid.NewGuid().ToString(),
            ["source"] = $"/projects/{project.ProjectId.ToString(CultureInfo.InvariantCulture)}/webhook/policies/1",
            ["type"] = HarborWebhookEvents.CloudEventType(eventType),
            ["datacontenttype"] = "application/json",
            ["time"] = occurAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            ["data"] = eventData,
            ["operator"] = operatorName,
            ["requestid"] = Guid.NewGuid().ToString(),
        };
    }

    // The server's internal ScanSummary, not the REST model (§8.3): fixed key order, nothing omitted, Go's nanosecond times.
    private JsonObject WebhookScanOverview(SimArtifact artifact, string eventType)
    {
        var items = Vulnerabilities(artifact);
        var success = eventType == HarborWebhookEvents.ScanningCompleted && artifact.ScanStatus == "Success";
        var start = artifact.ScanStartTime ?? artifact.PushTime;
        var end = artifact.ScanEndTime ?? start.AddSeconds(6);
        JsonNode? summary = null;
        if (success)
        {
            var counts = new JsonObject();
            foreach (var group in items.GroupBy(i => Severity(i)).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                counts[group.Key] = group.Count();
            }

            summary = new JsonObject
            {
                ["total"] = items.Count,
                ["fixable"] = items.Count(i => !string.IsNullOrEmpty(i["fix_version"]?.GetValue<string>())),
                ["summary"] = counts,
            };
        }

        var overview = new JsonObject
        {
            ["report_id"] = artifact.ReportId,
            ["scan_status"] = eventType switch
            {
                HarborWebhookEvents.ScanningFailed => "Error",
                HarborWebhookEvents.ScanningStopped => "Stopped",
                _ => artifact.ScanStatus ?? "Running",
            },
            ["severity"] = success ? (items.Count == 0 ? "None" : HighestSeverity(items)) : "",
            ["duration"] = (long)Math.Max(0, (end - start).TotalSeconds),
            ["summary"] = summary,
            ["start_time"] = GoTime(start),
            ["end_time"] = GoTime(end),
        };
        if (success)
        {
            overview["scanner"] = Scanner();
        }

        overview["complete_percent"] = success ? 100 : 0;
        return new JsonObject { [artifact.ReportMimeTypes.FirstOrDefault() ?? HarborMimeTypes.Report11] = overview };
    }

    private static string GoTime(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);
}
