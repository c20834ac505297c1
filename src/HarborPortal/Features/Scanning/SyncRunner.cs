using System.Security.Cryptography;
using HarborPortal.Data;
using HarborPortal.Features.Connections;
using HarborPortal.Features.Findings;
using HarborPortal.Harbor;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace HarborPortal.Features.Scanning;

/// <summary>
/// Runs one sync of a connection: walks projects → repositories → artifacts with their scan overview, reads the
/// report only of artifacts whose scan completed after the stored one, and turns each report into findings
/// (one query and one save per artifact). An error on one item goes into the run's error list and the run goes on.
/// </summary>
public sealed partial class SyncRunner(
    PortalDbContext db, HarborClient harbor, ConnectionSecrets secrets, TimeProvider time,
    IOptions<ConnectionsOptions> options, ILogger<SyncRunner> logger)
{
    public async Task RunAsync(long connectionId, long runId, CancellationToken cancellationToken)
    {
        var run = await db.SyncRuns.SingleOrDefaultAsync(r => r.Id == runId && r.ConnectionId == connectionId, cancellationToken);
        var connection = await db.HarborConnections.FindAsync([connectionId], cancellationToken);
        if (run is null || connection is null || !run.IsActive)
        {
            // Deleted meanwhile, or already finished (a trigger replayed after a restart).
            return;
        }

        // A run found Running was interrupted (the portal stopped): it starts over, which is safe because every write is idempotent.
        run.Restart();
        run.Status = SyncRunStatus.Running;
        run.StartedAt = time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);

        try
        {
            var ok = await SyncAsync(connection, run, cancellationToken);
            run.Status = !ok ? SyncRunStatus.Failed : run.ErrorCount > 0 ? SyncRunStatus.Partial : SyncRunStatus.Succeeded;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            run.Status = SyncRunStatus.Cancelled;
            run.FinishedAt = time.GetUtcNow();
            await db.SaveChangesAsync(CancellationToken.None);
            throw;
        }

        run.FinishedAt = time.GetUtcNow();
        if (run.Status != SyncRunStatus.Failed)
        {
            connection.LastSyncAt = run.FinishedAt;
        }

        await db.SaveChangesAsync(cancellationToken);
        Log.Finished(logger, connection.Name, run.Id, run.Status, run.ArtifactsSeen, run.ReportsFetched, run.FindingsNew, run.FindingsResolved, run.ErrorCount);
    }

    // False when nothing could be enumerated (the run failed as a whole).
    private async Task<bool> SyncAsync(HarborConnection connection, SyncRun run, CancellationToken cancellationToken)
    {
        HarborConnectionSettings settings;
        try
        {
            settings = ConnectionSettings.For(connection, secrets.Unprotect(connection), options.Value.RequestTimeout);
        }
        catch (CryptographicException)
        {
            run.AddError("The stored secret cannot be decrypted (the data protection keys changed); rotate the secret.");
            return false;
        }

        var projects = await harbor.ListProjectsAsync(settings, cancellationToken: cancellationToken);
        if (!projects.IsSuccess)
        {
            run.AddError($"Listing projects: {projects.Failure!.Message}");
            return false;
        }

        var known = await db.ScannedArtifacts.Where(a => a.ConnectionId == connection.Id)
            .ToDictionaryAsync(a => (a.RepositoryName, a.Digest), cancellationToken);
        var seen = new HashSet<(string, string)>();
        // Where listing failed, absence proves nothing: those artifacts are not treated as removed.
        var unlisted = new HashSet<string>(StringComparer.Ordinal);

        foreach (var project in projects.Value!)
        {
            run.Projects++;
            var repositories = await harbor.ListRepositoriesAsync(settings, project.Name, cancellationToken);
            if (!repositories.IsSuccess)
            {
                run.AddError($"Listing repositories of {project.Name}: {repositories.Failure!.Message}");
                unlisted.Add(project.Name + "/");
                continue;
            }

            foreach (var repository in repositories.Value!)
            {
                run.Repositories++;
                var artifacts = await harbor.ListArtifactsAsync(settings, project.Name, repository.NameInProject, withScanOverview: true, cancellationToken);
                if (!artifacts.IsSuccess)
                {
                    run.AddError($"Listing artifacts of {repository.Name}: {artifacts.Failure!.Message}");
                    unlisted.Add(repository.Name + "@");
                    continue;
                }

                foreach (var artifact in artifacts.Value!)
                {
                    seen.Add((repository.Name, artifact.Digest));
                    await SyncArtifactAsync(settings, connection, run, project.Name, project.IsPublic, repository, artifact, known, cancellationToken);
                }

                await db.SaveChangesAsync(cancellationToken);
            }
        }

        await ResolveRemovedAsync(connection, run, known, seen, unlisted, cancellationToken);
        return true;
    }

    private async Task SyncArtifactAsync(
        HarborConnectionSettings settings, HarborConnection connection, SyncRun run, string projectName, bool projectIsPublic, HarborRepository repository, HarborArtifact artifact,
        Dictionary<(string, string), ScannedArtifact> known, CancellationToken cancellationToken)
    {
        run.ArtifactsSeen++;
        var now = time.GetUtcNow();
        var tags = string.Join(',', artifact.Tags?.Select(t => t.Name) ?? []);
        if (!known.TryGetValue((repository.Name, artifact.Digest), out var stored))
        {
            stored = new ScannedArtifact { ConnectionId = connection.Id, ProjectName = projectName, RepositoryName = repository.Name, Digest = artifact.Digest };
            db.ScannedArtifacts.Add(stored);
            known[(repository.Name, artifact.Digest)] = stored;
        }

        stored.Tags = tags;
        stored.LastSeenAt = now;
        var overview = artifact.Overview;
        stored.ScanStatus = overview?.ScanStatus;
        if (overview?.ScanStatus != "Success")
        {
            // Never scanned, scanning, or the scan failed (its status says which): nothing to read.
            run.ArtifactsNotScanned++;
            return;
        }

        var completed = overview.EndTime ?? overview.StartTime;
        if (stored.ScanCompletedAt is { } last && completed is { } current && current <= last)
        {
            run.ArtifactsSkipped++;
            return;
        }

        var report = await harbor.GetVulnerabilityReportAsync(settings, projectName, repository.NameInProject, artifact.Digest, cancellationToken);
        if (!report.IsSuccess)
        {
            run.AddError($"{repository.Name}@{artifact.Digest}: {report.Failure!.Message}");
            return;
        }

        if (report.Value is not { } body)
        {
            // {} means "no report" (never "clean"): keep what is stored and look again next time.
            run.ArtifactsNotScanned++;
            return;
        }

        run.ReportsFetched++;
        run.ArtifactsChanged++;
        await ApplyReportAsync(connection, run, projectName, repository.Name, artifact.Digest, tags, body, overview, new PriorityContext(now, projectIsPublic, artifact.PushTime), cancellationToken);
        stored.ScanCompletedAt = completed ?? now;
        await db.SaveChangesAsync(cancellationToken);
        DetachFindings();
    }

    private async Task ApplyReportAsync(
        HarborConnection connection, SyncRun run, string projectName, string repositoryName, string digest, string tags,
        HarborVulnerabilityReport report, HarborScanOverview overview, PriorityContext priority, CancellationToken cancellationToken)
    {
        var now = priority.Now;
        var scanner = report.Scanner ?? overview.Scanner;

        // One finding per identity: an image index lists a vulnerability once per child, with the children in artifact_digests.
        var reported = new Dictionary<string, Finding>(StringComparer.Ordinal);
        foreach (var vulnerability in report.Vulnerabilities ?? [])
        {
            var identity = Finding.IdentityOf(connection.Id, repositoryName, digest, vulnerability.Id, vulnerability.Package, vulnerability.Version);
            var digests = vulnerability.ArtifactDigests?.Where(d => !string.IsNullOrEmpty(d)) ?? [];
            if (reported.TryGetValue(identity, out var twin))
            {
                twin.ArtifactDigests = string.Join('\n', twin.ArtifactDigests.Split('\n', StringSplitOptions.RemoveEmptyEntries).Union(digests));
                continue;
            }

            var finding = Normalise(vulnerability, identity, connection.Id, projectName, repositoryName, digest, tags, scanner, digests, now);
            finding.ProjectIsPublic = priority.ProjectIsPublic;
            finding.ImagePushedAt = priority.ImagePushedAt;
            PriorityRules.Apply(finding, priority);
            reported[identity] = finding;
        }

        var existing = await db.Findings
            .Where(f => f.ConnectionId == connection.Id && f.RepositoryName == repositoryName && f.Digest == digest)
            .ToDictionaryAsync(f => f.Identity, StringComparer.Ordinal, cancellationToken);

        foreach (var (identity, fresh) in reported)
        {
            if (!existing.TryGetValue(identity, out var finding))
            {
                db.Findings.Add(fresh);
                run.FindingsNew++;
                continue;
            }

            var changed = CopyEvidence(fresh, finding);
            // The queue's explained priority follows its inputs (evidence, project visibility, push time).
            finding.ProjectIsPublic = fresh.ProjectIsPublic;
            finding.ImagePushedAt = fresh.ImagePushedAt;
            changed |= PriorityRules.Apply(finding, priority);
            finding.LastSeenAt = now;
            if (finding.Status == FindingStatus.Resolved)
            {
                finding.Status = FindingStatus.Open;
                finding.ResolvedReason = null;
                finding.ResolvedAt = null;
                finding.ReopenCount++;
                run.FindingsReopened++;
            }
            else if (changed)
            {
                run.FindingsUpdated++;
            }
        }

        foreach (var finding in existing.Values.Where(f => f.Status == FindingStatus.Open && !reported.ContainsKey(f.Identity)))
        {
            finding.Status = FindingStatus.Resolved;
            finding.ResolvedReason = Finding.NoLongerReported;
            finding.ResolvedAt = now;
            run.FindingsResolved++;
        }
    }

    private async Task ResolveRemovedAsync(
        HarborConnection connection, SyncRun run, Dictionary<(string, string), ScannedArtifact> known, HashSet<(string, string)> seen,
        HashSet<string> unlisted, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var removed = known.Values
            .Where(a => !seen.Contains((a.RepositoryName, a.Digest)) && !unlisted.Contains(a.ProjectName + "/") && !unlisted.Contains(a.RepositoryName + "@"))
            .ToList();
        foreach (var artifact in removed)
        {
            run.FindingsResolved += await db.Findings
                .Where(f => f.ConnectionId == connection.Id && f.RepositoryName == artifact.RepositoryName && f.Digest == artifact.Digest && f.Status == FindingStatus.Open)
                .ExecuteUpdateAsync(set => set
                    .SetProperty(f => f.Status, FindingStatus.Resolved)
                    .SetProperty(f => f.ResolvedReason, Finding.ArtifactRemoved)
                    .SetProperty(f => f.ResolvedAt, now), cancellationToken);
            db.ScannedArtifacts.Remove(artifact);
            run.ArtifactsRemoved++;
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    private static Finding Normalise(
        HarborVulnerability vulnerability, string identity, long connectionId, string projectName, string repositoryName, string digest, string tags,
        HarborScanner? scanner, IEnumerable<string> digests, DateTimeOffset now)
    {
        var cvss = vulnerability.PreferredCvss;
        var description = (vulnerability.Description ?? "").Trim();
        return new Finding
        {
            Identity = identity,
            ConnectionId = connectionId,
            ProjectName = projectName,
            RepositoryName = repositoryName,
            Digest = digest,
            Tags = tags,
            VulnerabilityId = vulnerability.Id,
            PackageName = vulnerability.Package,
            InstalledVersion = vulnerability.Version,
            FixedVersion = vulnerability.FixVersion ?? "",
            Severity = Finding.ParseSeverity(vulnerability.Severity),
            CvssScore = cvss?.ScoreV3 is > 0 ? cvss.ScoreV3 : cvss?.ScoreV2 is > 0 ? cvss.ScoreV2 : null,
            CvssVector = !string.IsNullOrEmpty(cvss?.VectorV3) ? cvss.VectorV3 : !string.IsNullOrEmpty(cvss?.VectorV2) ? cvss.VectorV2 : null,
            Title = Truncate(FirstSentence(description) is { Length: > 0 } title ? title : vulnerability.Id, Finding.MaxTitleLength),
            Description = Truncate(description, Finding.MaxDescriptionLength),
            Links = string.Join('\n', vulnerability.Links?.Where(l => !string.IsNullOrWhiteSpace(l)).Select(l => l.Trim()) ?? []),
            ArtifactDigests = string.Join('\n', digests.Distinct(StringComparer.Ordinal)),
            SourceTool = Finding.HarborSource,
            ScannerName = scanner?.Name,
            ScannerVersion = scanner?.Version,
            Status = FindingStatus.Open,
            FirstSeenAt = now,
            LastSeenAt = now,
        };
    }

    // The evidence a newer report may change; true when something did.
    private static bool CopyEvidence(Finding from, Finding to)
    {
        var changed = to.Tags != from.Tags || to.FixedVersion != from.FixedVersion || to.Severity != from.Severity
            || to.CvssScore != from.CvssScore || to.CvssVector != from.CvssVector || to.Title != from.Title
            || to.Description != from.Description || to.Links != from.Links || to.ArtifactDigests != from.ArtifactDigests
            || to.ScannerName != from.ScannerName || to.ScannerVersion != from.ScannerVersion;
        to.Tags = from.Tags;
        to.FixedVersion = from.FixedVersion;
        to.Severity = from.Severity;
        to.CvssScore = from.CvssScore;
        to.CvssVector = from.CvssVector;
        to.Title = from.Title;
        to.Description = from.Description;
        to.Links = from.Links;
        to.ArtifactDigests = from.ArtifactDigests;
        to.ScannerName = from.ScannerName;
        to.ScannerVersion = from.ScannerVersion;
        return changed;
    }

    // Findings are written once per artifact; keeping them tracked would make every later save slower.
    private void DetachFindings()
    {
        foreach (var entry in db.ChangeTracker.Entries<Finding>().ToList())
        {
            entry.State = EntityState.Detached;
        }
    }

    private static string FirstSentence(string text)
    {
        var line = text.Split('\n', 2)[0].Trim();
        var stop = line.IndexOf(". ", StringComparison.Ordinal);
        return stop > 0 ? line[..(stop + 1)] : line;
    }

    private static string Truncate(string value, int max) => value.Length > max ? value[..(max - 1)] + "…" : value;

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Sync of {Connection} (run {RunId}) ended {Status}: {Artifacts} artifacts, {Reports} reports, {New} new and {Resolved} resolved findings, {Errors} errors")]
        public static partial void Finished(ILogger logger, string connection, long runId, SyncRunStatus status, int artifacts, int reports, int @new, int resolved, int errors);
    }
}
