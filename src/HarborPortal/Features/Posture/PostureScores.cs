using HarborPortal.Data;
using HarborPortal.Features.Findings;
using Microsoft.EntityFrameworkCore;

namespace HarborPortal.Features.Posture;

/// <summary>
/// A connection's posture in one figure: checks passed of those assessed, with the not-assessed count beside it (a check
/// that could not be read is neither a pass nor a fail). Null <see cref="AssessedAt"/>: never assessed.
/// </summary>
public sealed record PostureScore(long ConnectionId, string ConnectionName, int Passed, int Failed, int NotAssessed, IReadOnlyDictionary<Severity, int> FailedBySeverity, DateTimeOffset? AssessedAt)
{
    public int Assessed => Passed + Failed;

    /// <summary>0–100, rounded down; null when nothing could be assessed.</summary>
    public int? Percent => Assessed == 0 ? null : Passed * 100 / Assessed;

    /// <summary>The findings queue filtered to this connection's open posture findings.</summary>
    public string QueueUrl => $"/findings?source={Uri.EscapeDataString(PostureChecks.SourceTool)}&connection={ConnectionId}";
}

/// <summary>Posture scores for the dashboard and the connection page, from the stored results.</summary>
public static class PostureScores
{
    /// <summary>The score of every connection, by name (connections never assessed included, with zero counts).</summary>
    public static async Task<IReadOnlyList<PostureScore>> AllAsync(PortalDbContext db, CancellationToken cancellationToken = default)
    {
        var connections = await db.HarborConnections.AsNoTracking().OrderBy(c => c.Name).Select(c => new { c.Id, c.Name }).ToListAsync(cancellationToken);
        var results = await db.PostureResults.AsNoTracking()
            .Select(r => new { r.ConnectionId, r.Outcome, r.Severity, r.AssessedAt })
            .ToListAsync(cancellationToken);
        var byConnection = results.ToLookup(r => r.ConnectionId);
        return [.. connections.Select(c =>
        {
            var rows = byConnection[c.Id].ToList();
            return new PostureScore(
                c.Id, c.Name,
                rows.Count(r => r.Outcome == PostureOutcome.Pass),
                rows.Count(r => r.Outcome == PostureOutcome.Fail),
                rows.Count(r => r.Outcome == PostureOutcome.NotAssessed),
                rows.Where(r => r.Outcome == PostureOutcome.Fail).GroupBy(r => r.Severity).ToDictionary(g => g.Key, g => g.Count()),
                rows.Count == 0 ? null : rows.Max(r => r.AssessedAt));
        })];
    }

    /// <summary>One connection's score; null when the connection does not exist.</summary>
    public static async Task<PostureScore?> ForConnectionAsync(PortalDbContext db, long connectionId, CancellationToken cancellationToken = default)
    {
        var name = await db.HarborConnections.AsNoTracking().Where(c => c.Id == connectionId).Select(c => c.Name).SingleOrDefaultAsync(cancellationToken);
        if (name is null)
        {
            return null;
        }

        var rows = await db.PostureResults.AsNoTracking().Where(r => r.ConnectionId == connectionId)
            .Select(r => new { r.Outcome, r.Severity, r.AssessedAt }).ToListAsync(cancellationToken);
        return new PostureScore(
            connectionId, name,
            rows.Count(r => r.Outcome == PostureOutcome.Pass),
            rows.Count(r => r.Outcome == PostureOutcome.Fail),
            rows.Count(r => r.Outcome == PostureOutcome.NotAssessed),
            rows.Where(r => r.Outcome == PostureOutcome.Fail).GroupBy(r => r.Severity).ToDictionary(g => g.Key, g => g.Count()),
            rows.Count == 0 ? null : rows.Max(r => r.AssessedAt));
    }
}
