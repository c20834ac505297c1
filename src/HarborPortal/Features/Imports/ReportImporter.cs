using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using HarborPortal.Data;
using HarborPortal.Features.Audit;
using HarborPortal.Features.Auth;
using HarborPortal.Features.Findings;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace HarborPortal.Features.Imports;

/// <summary>An upload as the page's form and the API receive it; every field may be missing or wrong.</summary>
public sealed record ImportRequest(IFormFile? File, string? ConnectionId, string? Image, string? Format);

/// <summary>What an import did, as the page and the API show it.</summary>
public sealed record ImportSummary(
    string FileName, ReportFormat Format, long ConnectionId, string Image, IReadOnlyList<string> SourceTools, ImportCounts Counts);

/// <summary>Either the summary, or the reason nothing was imported and the field it concerns.</summary>
public sealed record ImportOutcome(ImportSummary? Summary, string? Field, string? Error)
{
    public static ImportOutcome Refused(string field, string error) => new(null, field, error);
}

/// <summary>
/// One upload from start to end: checks the connection, the image reference and the file, parses the report, and writes
/// its findings in one transaction, so that a refusal at any point changes nothing. Each import is audited.
/// </summary>
public sealed class ReportImporter(PortalDbContext db, AuditLog audit, TimeProvider time, IOptions<ImportOptions> options)
{
    public const string AuditAction = "findings.import";

    public async Task<ImportOutcome> ImportAsync(ImportRequest request, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var outcome = await RunAsync(request, user, cancellationToken);
        var fileName = FileNameOf(request.File);
        var details = outcome.Summary is { } summary
            ? $"{fileName} ({summary.Format}, {string.Join(", ", summary.SourceTools)}): {summary.Counts}"
            : $"{fileName}: refused ({outcome.Field}): {outcome.Error}";
        await audit.WriteAsync(AuditAction, outcome.Summary is not null, user.Identity?.Name, user.FindFirstValue(PortalClaimTypes.AuthMethod) ?? "web",
            outcome.Summary?.Image ?? request.Image?.Trim(), details, CancellationToken.None);
        return outcome;
    }

    private async Task<ImportOutcome> RunAsync(ImportRequest request, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        if (!long.TryParse(request.ConnectionId?.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var connectionId))
        {
            return ImportOutcome.Refused("connectionId", "Choose the connection (the registry the image lives in).");
        }

        var connection = await db.HarborConnections.AsNoTracking().SingleOrDefaultAsync(c => c.Id == connectionId, cancellationToken);
        if (connection is null)
        {
            return ImportOutcome.Refused("connectionId", $"There is no connection {connectionId}.");
        }

        if (ImageReference.Parse(request.Image, out var imageError) is not { } image)
        {
            return ImportOutcome.Refused("image", imageError!);
        }

        var registryHost = Uri.TryCreate(connection.BaseUrl, UriKind.Absolute, out var url) ? url.Authority.ToLowerInvariant() : null;
        if (image.RegistryHost is { } host && host != registryHost)
        {
            return ImportOutcome.Refused("image", $"The image is on {host}, but the connection {connection.Name} is {registryHost}: choose that registry's connection.");
        }

        if (!TryParseFormat(request.Format, out var format))
        {
            return ImportOutcome.Refused("format", $"'{request.Format}' is not a format: auto, trivy or sarif.");
        }

        var maxBytes = options.Value.MaxFileBytes;
        if (request.File is not { } file)
        {
            return ImportOutcome.Refused("file", "Choose a Trivy JSON report or a SARIF 2.1.0 file to upload.");
        }

        if (file.Length == 0)
        {
            return ImportOutcome.Refused("file", $"{FileNameOf(file)} is empty.");
        }

        if (file.Length > maxBytes)
        {
            return ImportOutcome.Refused("file", $"{FileNameOf(file)} is {Size(file.Length)}; the largest report accepted is {Size(maxBytes)} (Imports:MaxFileBytes).");
        }

        ParsedReport? parsed;
        string? parseError;
        await using (var stream = file.OpenReadStream())
        {
            (parsed, parseError) = await ReportParser.ParseAsync(stream, format, cancellationToken);
        }

        if (parsed is null)
        {
            return ImportOutcome.Refused("file", $"{FileNameOf(file)}: {parseError}");
        }

        var (repoDigests, repoTags) = ImageNames(parsed);
        var reportDigests = image.DigestsIn(repoDigests).Distinct(StringComparer.Ordinal).ToList();
        string digest;
        if (image.Digest is { } given)
        {
            if (reportDigests.Count > 0 && !reportDigests.Contains(given, StringComparer.Ordinal))
            {
                return ImportOutcome.Refused("image", $"The report is about {string.Join(", ", reportDigests.Select(image.Describe))}, not {image.Describe(given)}.");
            }

            digest = given;
        }
        else if (reportDigests.Count == 1)
        {
            digest = reportDigests[0];
        }
        else
        {
            return ImportOutcome.Refused("image", reportDigests.Count == 0
                ? $"{image.RepositoryName}:{image.Tag} names no digest and the report does not list one for {image.RepositoryName} (Trivy's Metadata.RepoDigests): give {image.RepositoryName}@sha256:…"
                : $"The report lists several digests for {image.RepositoryName}: give the one it is about as {image.RepositoryName}@sha256:…");
        }

        var now = time.GetUtcNow();
        var artifact = await db.ScannedArtifacts.AsNoTracking()
            .Where(a => a.ConnectionId == connectionId && a.RepositoryName == image.RepositoryName && a.Digest == digest)
            .Select(a => a.Tags).FirstOrDefaultAsync(cancellationToken);

        // What the sync knows of the image (the project's visibility, the push time) feeds the same priority rules.
        var known = await db.Findings.AsNoTracking()
            .Where(f => f.ConnectionId == connectionId && f.RepositoryName == image.RepositoryName && f.Digest == digest && f.SourceTool == Finding.HarborSource)
            .Select(f => new { f.ProjectIsPublic, f.ImagePushedAt }).FirstOrDefaultAsync(cancellationToken);

        // Harbor's tags when the sync has seen the image (kept current by every sync), else the report's.
        var tags = artifact ?? string.Join(',', new[] { image.Tag }.Concat(image.TagsIn(repoTags)).Where(t => !string.IsNullOrEmpty(t)).Distinct(StringComparer.Ordinal));
        var target = new ImportTarget(connectionId, image.ProjectName, image.RepositoryName, digest, tags,
            new PriorityContext(now, known?.ProjectIsPublic, known?.ImagePushedAt), await ThreatData.ThreatIntel.LoadAsync(db, cancellationToken));
        var tools = parsed.Format == ReportFormat.Trivy ? [ImportedFindings.FromTrivy(parsed.Report, target)] : ImportedFindings.FromSarif(parsed.Report, target);

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var counts = await ImportWriter.WriteAsync(db, target, tools, user.Identity?.Name ?? "?", FileNameOf(file), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new ImportOutcome(
            new ImportSummary(FileNameOf(file), parsed.Format, connectionId, image.Describe(digest), [.. tools.Select(t => t.SourceTool)], counts), null, null);
    }

    private static bool TryParseFormat(string? text, out ReportFormat? format)
    {
        format = null;
        switch (text?.Trim().ToLowerInvariant())
        {
            case null or "" or "auto":
                return true;
            case "trivy":
                format = ReportFormat.Trivy;
                return true;
            case "sarif":
                format = ReportFormat.Sarif;
                return true;
            default:
                return false;
        }
    }

    private static (List<string> Digests, List<string> Tags) ImageNames(ParsedReport parsed)
    {
        if (parsed.Format == ReportFormat.Trivy)
        {
            return (parsed.Report.Metadata?.RepoDigests ?? [], parsed.Report.Metadata?.RepoTags ?? []);
        }

        var runs = parsed.Report.Runs ?? [];
        return ([.. runs.SelectMany(r => Strings(r.Properties, "repoDigests"))], [.. runs.SelectMany(r => Strings(r.Properties, "repoTags"))]);
    }

    private static IEnumerable<string> Strings(Dictionary<string, JsonElement>? properties, string key) =>
        properties is not null && properties.TryGetValue(key, out var value) && value.ValueKind == JsonValueKind.Array
            ? value.EnumerateArray().Where(v => v.ValueKind == JsonValueKind.String).Select(v => v.GetString()!)
            : [];

    private static string FileNameOf(IFormFile? file) =>
        file is null ? "(no file)" : Path.GetFileName(file.FileName) is { Length: > 0 } name ? ImportedFindings.Truncate(name, 128) : "(unnamed file)";

    private static string Size(long bytes) => bytes >= 1024 * 1024
        ? (bytes / (1024.0 * 1024)).ToString("0.#", CultureInfo.InvariantCulture) + " MB"
        : (bytes / 1024.0).ToString("0.#", CultureInfo.InvariantCulture) + " KB";
}
