using HarborPortal.Data;
using HarborPortal.Features.Findings;
using HarborPortal.Features.Triage;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace HarborPortal.Features.Imports;

/// <summary>What an import did to the findings of its image.</summary>
public readonly record struct ImportCounts(int New, int Updated, int Resolved, int Reopened, int Unchanged)
{
    public static ImportCounts operator +(ImportCounts a, ImportCounts b) =>
        new(a.New + b.New, a.Updated + b.Updated, a.Resolved + b.Resolved, a.Reopened + b.Reopened, a.Unchanged + b.Unchanged);

    public override string ToString() => $"{New} new, {Updated} updated, {Resolved} resolved, {Reopened} reopened, {Unchanged} unchanged";
}

/// <summary>
/// Writes an import's findings for one image, per source tool, the way the sync writes Harbor's: new identities are
/// inserted, known ones get the new evidence (and come back Open if they were Resolved), and the tool's findings of the
/// image that the upload no longer has are Resolved. Only the findings of the uploaded tools and image are touched. The
/// database's triggers keep the facet counts (FindingCounts) and the search terms (FindingTerms) in step with every row.
/// An import is small next to a sync (one image), so EF Core's change tracker is fast enough here.
/// </summary>
public static class ImportWriter
{
    /// <summary>Writes inside the caller's transaction; the caller commits.</summary>
    public static async Task<ImportCounts> WriteAsync(
        PortalDbContext db, ImportTarget target, IReadOnlyList<ToolFindings> tools, string actor, string fileName, CancellationToken cancellationToken)
    {
        var now = target.Priority.Now;
        var counts = default(ImportCounts);
        var inserted = new List<Finding>();
        var events = new List<(Finding Finding, string Kind, string? Reason)>();
        foreach (var tool in tools)
        {
            var existing = await db.Findings
                .Where(f => f.ConnectionId == target.ConnectionId && f.RepositoryName == target.RepositoryName && f.Digest == target.Digest && f.SourceTool == tool.SourceTool)
                .ToDictionaryAsync(f => f.Identity, StringComparer.Ordinal, cancellationToken);

            int @new = 0, updated = 0, resolved = 0, reopened = 0, unchanged = 0;
            foreach (var finding in tool.Findings)
            {
                if (!existing.Remove(finding.Identity, out var stored))
                {
                    db.Findings.Add(finding);
                    inserted.Add(finding);
                    @new++;
                    continue;
                }

                var changed = !SameEvidence(stored, finding);
                if (changed)
                {
                    CopyEvidence(finding, stored);
                }

                stored.LastSeenAt = now;
                if (stored.Status == FindingStatus.Resolved)
                {
                    stored.Status = FindingStatus.Open;
                    stored.ResolvedReason = null;
                    stored.ResolvedAt = null;
                    stored.ReopenCount++;
                    events.Add((stored, FindingEventKind.Reopened, ImportedFindings.ReportedAgain));
                    reopened++;
                }
                else if (changed)
                {
                    updated++;
                }
                else
                {
                    unchanged++;
                }
            }

            // What is left was in an earlier import of this tool and image, and is not in this one.
            foreach (var stored in existing.Values.Where(f => f.Status != FindingStatus.Resolved))
            {
                stored.Status = FindingStatus.Resolved;
                stored.ResolvedReason = ImportedFindings.NoLongerReported;
                stored.ResolvedAt = now;
                events.Add((stored, FindingEventKind.Resolved, ImportedFindings.NoLongerReported));
                resolved++;
            }

            counts += new ImportCounts(@new, updated, resolved, reopened, unchanged);
        }

        // New rows get their ids here, so that their "opened" events can point at them.
        await db.SaveChangesAsync(cancellationToken);

        var opened = ImportedFindings.Truncate($"imported from {fileName}", FindingEvent.MaxReasonLength);
        db.FindingEvents.AddRange(inserted.Select(f => new FindingEvent { FindingId = f.Id, At = now, Kind = FindingEventKind.Opened, Reason = opened, Actor = actor }));
        db.FindingEvents.AddRange(events.Select(e => new FindingEvent { FindingId = e.Finding.Id, At = now, Kind = e.Kind, Reason = e.Reason, Actor = actor }));
        await db.SaveChangesAsync(cancellationToken);

        // A vulnerability already triaged for this repository (or project, or digest) arrives triaged, as it does from a
        // sync: the decisions key on repository, package and vulnerability, not on the tool that reported it.
        var reopenedIds = events.Where(e => e.Kind == FindingEventKind.Reopened).Select(e => e.Finding.Id).ToList();
        if (inserted.Count > 0 || reopenedIds.Count > 0)
        {
            var dialect = db is PostgresPortalDbContext ? SqlDialect.Postgres : SqlDialect.Sqlite;
            TriageSql.ApplyLiveDecisions(db.Database.GetDbConnection(), db.Database.CurrentTransaction?.GetDbTransaction(), dialect,
                long.MaxValue, [.. inserted.Select(f => f.Id)], reopenedIds, now, syncRunId: null);
        }

        return counts;
    }

    private static bool SameEvidence(Finding stored, Finding reported) =>
        stored.Tags == reported.Tags && stored.FixedVersion == reported.FixedVersion && stored.Severity == reported.Severity
        && stored.CvssScore == reported.CvssScore && stored.CvssVector == reported.CvssVector && stored.Title == reported.Title
        && stored.Description == reported.Description && stored.Links == reported.Links && stored.ScannerName == reported.ScannerName
        && stored.ScannerVersion == reported.ScannerVersion && stored.Priority == reported.Priority && stored.ProjectName == reported.ProjectName
        && stored.ProjectIsPublic == reported.ProjectIsPublic && stored.ImagePushedAt == reported.ImagePushedAt;

    private static void CopyEvidence(Finding from, Finding to)
    {
        to.ProjectName = from.ProjectName;
        to.Tags = from.Tags;
        to.FixedVersion = from.FixedVersion;
        to.Severity = from.Severity;
        to.CvssScore = from.CvssScore;
        to.CvssVector = from.CvssVector;
        to.Title = from.Title;
        to.Description = from.Description;
        to.Links = from.Links;
        to.ScannerName = from.ScannerName;
        to.ScannerVersion = from.ScannerVersion;
        to.Priority = from.Priority;
        to.ProjectIsPublic = from.ProjectIsPublic;
        to.ImagePushedAt = from.ImagePushedAt;
    }
}
