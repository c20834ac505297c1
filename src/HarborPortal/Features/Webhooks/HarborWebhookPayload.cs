using System.Text.Json;
using System.Text.RegularExpressions;
using HarborPortal.Features.Scanning;

namespace HarborPortal.Features.Webhooks;

/// <summary>The Harbor events the portal acts on; everything else is acknowledged and ignored.</summary>
public enum HarborEventKind
{
    Other,
    ArtifactPushed,
    ScanCompleted,
    ScanFailed,
    ArtifactDeleted,
}

/// <summary>
/// What a webhook names: its event type as sent, and the artifacts it mentions. Nothing else is kept from the payload
/// (scan status, summaries, tags): Harbor's payloads are unreliable, so the artifacts are re-read from Harbor.
/// </summary>
public sealed record HarborWebhookEvent(string Type, HarborEventKind Kind, bool IsCloudEvent, IReadOnlyList<ArtifactRef> Artifacts)
{
    public bool IsHandled => Kind != HarborEventKind.Other;
}

/// <summary>A parsed webhook, or why the body is not one.</summary>
public sealed record WebhookParseResult(HarborWebhookEvent? Event, string? Error)
{
    public static WebhookParseResult Malformed(string error) => new(null, error);
}

/// <summary>
/// Reads Harbor's webhook payloads — the Default format (<c>type</c>, <c>event_data</c>) and CloudEvents 1.0
/// (<c>specversion</c>, <c>type</c> = <c>harbor.*</c>, <c>data</c> = the Default <c>event_data</c>) — down to
/// (project, full repository name, digest) references. Every name is checked against Harbor's own naming rules, so a
/// forged payload cannot smuggle anything else into a sync request.
/// </summary>
public static partial class HarborWebhookPayload
{
    /// <summary>More resources than Harbor ever puts in one event (it sends one) mark a payload that is not Harbor's.</summary>
    public const int MaxResources = 100;

    public const int MaxProjectNameLength = 255;
    public const int MaxRepositoryNameLength = 512;

    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 32 };

    private static readonly Dictionary<string, HarborEventKind> DefaultTypes = new(StringComparer.Ordinal)
    {
        ["PUSH_ARTIFACT"] = HarborEventKind.ArtifactPushed,
        ["SCANNING_COMPLETED"] = HarborEventKind.ScanCompleted,
        ["SCANNING_FAILED"] = HarborEventKind.ScanFailed,
        ["DELETE_ARTIFACT"] = HarborEventKind.ArtifactDeleted,
    };

    private static readonly Dictionary<string, HarborEventKind> CloudEventTypes = new(StringComparer.Ordinal)
    {
        ["harbor.artifact.pushed"] = HarborEventKind.ArtifactPushed,
        ["harbor.scan.completed"] = HarborEventKind.ScanCompleted,
        ["harbor.scan.failed"] = HarborEventKind.ScanFailed,
        ["harbor.artifact.deleted"] = HarborEventKind.ArtifactDeleted,
    };

    public static WebhookParseResult Parse(ReadOnlyMemory<byte> body)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, DocumentOptions);
        }
        catch (JsonException)
        {
            return WebhookParseResult.Malformed("The body is not valid JSON.");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return WebhookParseResult.Malformed("The body is not a JSON object.");
            }

            var isCloudEvent = root.TryGetProperty("specversion", out var specVersion);
            if (isCloudEvent && !(specVersion.ValueKind == JsonValueKind.String && specVersion.GetString() == "1.0"))
            {
                return WebhookParseResult.Malformed("Only CloudEvents specversion \"1.0\" is understood.");
            }

            if (!root.TryGetProperty("type", out var typeElement) || typeElement.ValueKind != JsonValueKind.String
                || typeElement.GetString() is not { Length: > 0 and <= ConnectionWebhook.MaxEventTypeLength } type
                || !EventTypeShape().IsMatch(type))
            {
                return WebhookParseResult.Malformed("The event has no valid \"type\".");
            }

            var kind = (isCloudEvent ? CloudEventTypes : DefaultTypes).GetValueOrDefault(type, HarborEventKind.Other);
            if (kind == HarborEventKind.Other)
            {
                return new WebhookParseResult(new HarborWebhookEvent(type, kind, isCloudEvent, []), null);
            }

            var dataName = isCloudEvent ? "data" : "event_data";
            if (!root.TryGetProperty(dataName, out var data) || data.ValueKind == JsonValueKind.Null)
            {
                return new WebhookParseResult(new HarborWebhookEvent(type, kind, isCloudEvent, []), null);
            }

            if (data.ValueKind != JsonValueKind.Object)
            {
                return WebhookParseResult.Malformed($"\"{dataName}\" is not an object.");
            }

            var (artifacts, error) = ReadArtifacts(data);
            return error is not null
                ? WebhookParseResult.Malformed(error)
                : new WebhookParseResult(new HarborWebhookEvent(type, kind, isCloudEvent, artifacts), null);
        }
    }

    private static (IReadOnlyList<ArtifactRef> Artifacts, string? Error) ReadArtifacts(JsonElement data)
    {
        if (!data.TryGetProperty("resources", out var resources) || resources.ValueKind == JsonValueKind.Null)
        {
            return ([], null);
        }

        if (resources.ValueKind != JsonValueKind.Array)
        {
            return ([], "\"resources\" is not an array.");
        }

        var count = resources.GetArrayLength();
        if (count == 0)
        {
            return ([], null);
        }

        if (count > MaxResources)
        {
            return ([], $"More than {MaxResources} resources in one event.");
        }

        if (!data.TryGetProperty("repository", out var repository) || repository.ValueKind != JsonValueKind.Object)
        {
            return ([], "The event names resources but no \"repository\".");
        }

        var (project, fullName, repositoryError) = ReadRepository(repository);
        if (repositoryError is not null)
        {
            return ([], repositoryError);
        }

        var artifacts = new List<ArtifactRef>(count);
        foreach (var resource in resources.EnumerateArray())
        {
            if (resource.ValueKind != JsonValueKind.Object
                || !resource.TryGetProperty("digest", out var digestElement) || digestElement.ValueKind != JsonValueKind.String
                || digestElement.GetString() is not { } digest || !DigestShape().IsMatch(digest))
            {
                return ([], "A resource has no valid \"digest\" (sha256:<64 hex digits>).");
            }

            var artifact = new ArtifactRef(project!, fullName!, digest);
            if (!artifacts.Contains(artifact))
            {
                artifacts.Add(artifact);
            }
        }

        return (artifacts, null);
    }

    // namespace is the project, name the repository inside it, repo_full_name both: they must agree.
    private static (string? Project, string? FullName, string? Error) ReadRepository(JsonElement repository)
    {
        var project = StringProperty(repository, "namespace");
        var name = StringProperty(repository, "name");
        var fullName = StringProperty(repository, "repo_full_name");

        fullName ??= project is not null && name is not null ? $"{project}/{name}" : null;
        if (fullName is null)
        {
            return (null, null, "The repository has neither \"repo_full_name\" nor \"namespace\" and \"name\".");
        }

        var slash = fullName.IndexOf('/', StringComparison.Ordinal);
        project ??= slash > 0 ? fullName[..slash] : null;
        if (project is null)
        {
            return (null, null, "The repository names no project (\"namespace\").");
        }

        if (project.Length > MaxProjectNameLength || !NameComponent().IsMatch(project))
        {
            return (null, null, "The repository's project (\"namespace\") is not a valid Harbor project name.");
        }

        if (fullName.Length > MaxRepositoryNameLength || !fullName.StartsWith(project + "/", StringComparison.Ordinal)
            || !RepositoryPath().IsMatch(fullName[(project.Length + 1)..]))
        {
            return (null, null, "The repository's name is not a valid Harbor repository name in its project.");
        }

        if (name is not null && fullName != $"{project}/{name}")
        {
            return (null, null, "\"repo_full_name\" does not match \"namespace\" and \"name\".");
        }

        return (project, fullName, null);
    }

    private static string? StringProperty(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text ? text : null;

    // Harbor's project names; a repository is one or more such components separated by '/'.
    [GeneratedRegex("^[a-z0-9]+(?:[._-]+[a-z0-9]+)*$", RegexOptions.CultureInvariant)]
    private static partial Regex NameComponent();

    [GeneratedRegex("^[a-z0-9]+(?:[._-]+[a-z0-9]+)*(?:/[a-z0-9]+(?:[._-]+[a-z0-9]+)*)*$", RegexOptions.CultureInvariant)]
    private static partial Regex RepositoryPath();

    [GeneratedRegex("^sha256:[0-9a-f]{64}$", RegexOptions.CultureInvariant)]
    private static partial Regex DigestShape();

    // Printable, no spaces: what Harbor's event types look like, and safe to store and show.
    [GeneratedRegex("^[A-Za-z0-9._:/-]+$", RegexOptions.CultureInvariant)]
    private static partial Regex EventTypeShape();
}
