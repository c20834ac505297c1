using System.Globalization;
using System.Text.Json.Serialization;
using HarborPortal.Data;
using HarborPortal.Features.Findings;
using HarborPortal.Features.Scanning;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace HarborPortal.Features.Dashboard;

/// <summary>
/// A scanned artifact's coverage problem, each artifact in at most one: a failed scan first, then no report yet, then a
/// report older than <see cref="DashboardOptions.StaleScanDays"/>.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<CoverageKind>))]
public enum CoverageKind
{
    Unscanned,
    Failed,
    Stale,
}

public sealed record CoverageArtifact(long ConnectionId, string ConnectionName, string ProjectName, string RepositoryName, string Digest, string Tags, string? ScanStatus, DateTimeOffset? ScanCompletedAt, DateTimeOffset LastSeenAt);

public sealed record CoveragePage(IReadOnlyList<CoverageArtifact> Items, long Total, int Page, int PageSize);

/// <summary>
/// Scan coverage over <see cref="ScannedArtifact"/>s, which the sync keeps to the artifacts of each connection's scanned
/// locations (an artifact that leaves them, or Harbor, is deleted). Scoped like findings: a developer sees their teams'
/// projects only.
/// </summary>
public sealed class ArtifactCoverage(PortalDbContext db, IOptions<DashboardOptions> options, TimeProvider time)
{
    public const string Path = "/artifacts";
    public const int PageSize = 50;

    private const string ScanError = "Error";

    public static string Link(CoverageKind kind, long? connectionId) =>
        $"{Path}?coverage={kind.ToString().ToLowerInvariant()}"
        + (connectionId is { } id ? "&connection=" + id.ToString(CultureInfo.InvariantCulture) : "");

    public static bool TryParseKind(string? text, out CoverageKind kind) =>
        Enum.TryParse(text, ignoreCase: true, out kind) && Enum.IsDefined(kind) && !int.TryParse(text, out _);

    public DateTimeOffset StaleBefore => time.GetUtcNow().AddDays(-options.Value.StaleScanDays);

    public async Task<IReadOnlyList<CoverageFigure>> CountsAsync(FindingScope scope, CancellationToken cancellationToken)
    {
        var staleBefore = StaleBefore;
        var counts = await Scoped(scope)
            .GroupBy(a => a.ConnectionId)
            .Select(g => new
            {
                ConnectionId = g.Key,
                Artifacts = g.LongCount(),
                Failed = g.Sum(a => a.ScanStatus == ScanError ? 1L : 0L),
                Unscanned = g.Sum(a => a.ScanStatus != ScanError && a.ScanCompletedAt == null ? 1L : 0L),
                Stale = g.Sum(a => a.ScanStatus != ScanError && a.ScanCompletedAt != null && a.ScanCompletedAt < staleBefore ? 1L : 0L),
            })
            .ToListAsync(cancellationToken);
        var names = await db.HarborConnections.AsNoTracking().ToDictionaryAsync(c => c.Id, c => c.Name, cancellationToken);
        return [.. counts
            .Select(c => new CoverageFigure(c.ConnectionId, names.GetValueOrDefault(c.ConnectionId) ?? $"Connection {c.ConnectionId}", c.Artifacts, c.Unscanned, c.Failed, c.Stale))
            .OrderBy(c => c.ConnectionName, StringComparer.OrdinalIgnoreCase)];
    }

    public async Task<CoveragePage> PageAsync(CoverageKind kind, long? connectionId, FindingScope scope, int page, CancellationToken cancellationToken)
    {
        var staleBefore = StaleBefore;
        var query = Scoped(scope);
        if (connectionId is { } id)
        {
            query = query.Where(a => a.ConnectionId == id);
        }

        query = kind switch
        {
            CoverageKind.Failed => query.Where(a => a.ScanStatus == ScanError),
            CoverageKind.Unscanned => query.Where(a => a.ScanStatus != ScanError && a.ScanCompletedAt == null),
            CoverageKind.Stale => query.Where(a => a.ScanStatus != ScanError && a.ScanCompletedAt != null && a.ScanCompletedAt < staleBefore),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };

        var total = await query.LongCountAsync(cancellationToken);
        var rows = await query
            .OrderBy(a => a.ConnectionId).ThenBy(a => a.RepositoryName).ThenBy(a => a.Digest)
            .Skip((page - 1) * PageSize).Take(PageSize)
            .ToListAsync(cancellationToken);
        var names = await db.HarborConnections.AsNoTracking().ToDictionaryAsync(c => c.Id, c => c.Name, cancellationToken);
        return new CoveragePage(
            [.. rows.Select(a => new CoverageArtifact(a.ConnectionId, names.GetValueOrDefault(a.ConnectionId) ?? $"Connection {a.ConnectionId}",
                a.ProjectName, a.RepositoryName, a.Digest, a.Tags, a.ScanStatus, a.ScanCompletedAt, a.LastSeenAt))],
            total, page, PageSize);
    }

    private IQueryable<ScannedArtifact> Scoped(FindingScope scope)
    {
        var artifacts = db.ScannedArtifacts.AsNoTracking();
        if (scope.ProjectNames is { } projects)
        {
            var names = projects.ToList();
            artifacts = artifacts.Where(a => names.Contains(a.ProjectName));
        }

        return artifacts;
    }
}
