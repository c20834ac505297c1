using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using HarborPortal.Data;
using HarborPortal.Features.Connections;
using HarborPortal.Features.Findings;
using HarborPortal.Features.Locations;
using HarborPortal.Features.Scanning;
using HarborPortal.Harbor;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace HarborPortal.Features.Posture;

/// <summary>What one posture run did, for the API and the panel.</summary>
public sealed record PostureRunSummary(DateTimeOffset AssessedAt, int Passed, int Failed, int NotAssessed, int FindingsNew, int FindingsResolved, int FindingsReopened);

/// <summary>
/// Runs the posture checks of a connection and records them: the connection's <see cref="PostureResult"/> rows are
/// replaced, every Fail is a finding with source tool <see cref="PostureChecks.SourceTool"/>, a finding whose check
/// passes is resolved ("setting fixed") and one failing again is reopened, each change with its <see cref="FindingEvent"/>.
/// A check that was not assessed leaves its finding as it was: not reading a setting proves nothing about it.
/// </summary>
public sealed partial class PostureRunner(
    PortalDbContext db, PostureAssessor assessor, ConnectionSecrets secrets, IOptions<ConnectionsOptions> connectionOptions,
    TimeProvider time, ILogger<PostureRunner> logger)
{
    public const string SettingFixed = "setting fixed";

    /// <summary>The project or robot is gone from Harbor, or the project left the scanned locations.</summary>
    public const string NoLongerApplies = "no longer applies";

    // One run at a time per connection (the button and a sync's end may meet): each replaces the connection's results.
    private static readonly ConcurrentDictionary<long, SemaphoreSlim> Running = new();

    /// <summary>Runs the checks now; null when the connection does not exist.</summary>
    public async Task<PostureRunSummary?> RunAsync(long connectionId, string? requestedBy, long? syncRunId, CancellationToken cancellationToken)
    {
        var connection = await db.HarborConnections.AsNoTracking().SingleOrDefaultAsync(c => c.Id == connectionId, cancellationToken);
        if (connection is null)
        {
            return null;
        }

        PostureAssessment assessment;
        if (secrets.SettingsFor(connection, connectionOptions.Value.RequestTimeout) is not { } settings)
        {
            assessment = new PostureAssessment(
                [.. PostureChecks.All.Select(c => new PostureItem(c, "connection", "", PostureOutcome.NotAssessed, "The connection's stored secret can no longer be decrypted: rotate it on the connection's page."))],
                ProjectsListed: false, RobotsListed: false);
        }
        else
        {
            var locations = await ConnectionLocations.ForAsync(db, connectionId, cancellationToken);
            assessment = await assessor.AssessAsync(settings, locations, cancellationToken);
        }

        var gate = Running.GetOrAdd(connectionId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        PostureRunSummary summary;
        try
        {
            summary = await RecordAsync(connectionId, assessment, requestedBy, syncRunId, cancellationToken);
        }
        finally
        {
            gate.Release();
        }

        Log.Assessed(logger, connection.Name, summary.Passed, summary.Failed, summary.NotAssessed, summary.FindingsNew, summary.FindingsResolved);
        return summary;
    }

    /// <summary>
    /// The posture part of a sync: after a full run that read Harbor (not a webhook's targeted one, not a failed one).
    /// Never throws for a posture problem: the sync has ended and is reported on its own; this is logged.
    /// </summary>
    public async Task RunAfterSyncAsync(long connectionId, long syncRunId, CancellationToken cancellationToken)
    {
        try
        {
            var run = await db.SyncRuns.AsNoTracking().SingleOrDefaultAsync(r => r.Id == syncRunId, cancellationToken);
            if (run is { Targets: null, Status: SyncRunStatus.Succeeded or SyncRunStatus.Partial })
            {
                await RunAsync(connectionId, null, syncRunId, cancellationToken);
            }
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.Failed(logger, connectionId, syncRunId, exception);
        }
    }

    /// <summary>The stable identity of a posture finding: connection, check and scope.</summary>
    public static string IdentityOf(long connectionId, string checkId, string scope) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"posture|{connectionId}|{checkId}|{scope}")));

    private async Task<PostureRunSummary> RecordAsync(long connectionId, PostureAssessment assessment, string? actor, long? syncRunId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var items = assessment.Items.GroupBy(i => (i.Check.Id, i.Scope)).Select(g => g.First()).ToList();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // The static gate above serialises one instance; this row lock serialises all of them on a shared database.
        await ConnectionRowLock.TakeAsync(db, connectionId, cancellationToken);

        await db.PostureResults.Where(r => r.ConnectionId == connectionId).ExecuteDeleteAsync(cancellationToken);
        db.PostureResults.AddRange(items.Select(i => new PostureResult
        {
            ConnectionId = connectionId, CheckId = i.Check.Id, Scope = i.Scope, ProjectName = i.ProjectName, Outcome = i.Outcome,
            Severity = i.Check.Severity, Evidence = Truncate(i.Evidence, PostureResult.MaxEvidenceLength), NeededPermission = i.NeededPermission, AssessedAt = now,
        }));

        var existing = await db.Findings
            .Where(f => f.ConnectionId == connectionId && f.SourceTool == PostureChecks.SourceTool)
            .ToDictionaryAsync(f => f.Identity, cancellationToken);
        var events = new List<(Finding Finding, string Kind, string? Reason)>();
        var seen = new HashSet<string>();
        int created = 0, resolved = 0, reopened = 0;
        foreach (var item in items)
        {
            var identity = IdentityOf(connectionId, item.Check.Id, item.Scope);
            seen.Add(identity);
            existing.TryGetValue(identity, out var finding);
            if (item.Outcome == PostureOutcome.Fail)
            {
                if (finding is null)
                {
                    finding = NewFinding(connectionId, identity, item, now);
                    db.Findings.Add(finding);
                    events.Add((finding, FindingEventKind.Opened, null));
                    created++;
                }
                else
                {
                    Describe(finding, item, now);
                    if (finding.Status == FindingStatus.Resolved)
                    {
                        finding.Status = FindingStatus.Open;
                        finding.ResolvedAt = null;
                        finding.ResolvedReason = null;
                        finding.ReopenCount++;
                        events.Add((finding, FindingEventKind.Reopened, "setting changed back"));
                        reopened++;
                    }
                }

                PriorityRules.Apply(finding, PriorityContext.For(finding, now));
            }
            else if (item.Outcome == PostureOutcome.Pass && finding is { Status: not FindingStatus.Resolved })
            {
                Resolve(finding, SettingFixed, now);
                events.Add((finding, FindingEventKind.Resolved, SettingFixed));
                resolved++;
            }
        }

        // A project or robot no longer there (or a project no longer scanned): only when its listing was complete.
        foreach (var finding in existing.Values.Where(f => f.Status != FindingStatus.Resolved && !seen.Contains(f.Identity)))
        {
            var kind = PostureChecks.Find(finding.VulnerabilityId)?.ScopeKind;
            if ((kind == PostureScopeKind.Project && assessment.ProjectsListed) || (kind == PostureScopeKind.Robot && assessment.RobotsListed))
            {
                Resolve(finding, NoLongerApplies, now);
                events.Add((finding, FindingEventKind.Resolved, NoLongerApplies));
                resolved++;
            }
        }

        await db.SaveChangesAsync(cancellationToken);
        db.FindingEvents.AddRange(events.Select(e => new FindingEvent
        {
            FindingId = e.Finding.Id, At = now, Kind = e.Kind, Reason = e.Reason, SyncRunId = syncRunId, Actor = actor,
        }));
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);

        return new PostureRunSummary(
            now, items.Count(i => i.Outcome == PostureOutcome.Pass), items.Count(i => i.Outcome == PostureOutcome.Fail),
            items.Count(i => i.Outcome == PostureOutcome.NotAssessed), created, resolved, reopened);
    }

    private static Finding NewFinding(long connectionId, string identity, PostureItem item, DateTimeOffset now)
    {
        var finding = new Finding
        {
            Identity = identity,
            ConnectionId = connectionId,
            ProjectName = item.ProjectName,
            RepositoryName = "",
            Digest = "",
            VulnerabilityId = item.Check.Id,
            PackageName = item.Check.ScopeKind == PostureScopeKind.Robot ? item.Scope : "",
            SourceTool = PostureChecks.SourceTool,
            ScannerName = PostureChecks.SourceTool,
            Status = FindingStatus.Open,
            FirstSeenAt = now,
        };
        Describe(finding, item, now);
        return finding;
    }

    // The evidence is the setting's value now, refreshed at every run that still finds the problem.
    private static void Describe(Finding finding, PostureItem item, DateTimeOffset now)
    {
        finding.Severity = item.Check.Severity;
        finding.Title = Truncate(item.Check.Name, Finding.MaxTitleLength);
        finding.Description = Truncate($"{item.Evidence}\n\nHow to fix: {item.Check.HowToFix}", Finding.MaxDescriptionLength);
        finding.Links = item.Check.DocsUrl;
        finding.ProjectIsPublic = null;
        finding.LastSeenAt = now;
    }

    private static void Resolve(Finding finding, string reason, DateTimeOffset now)
    {
        finding.Status = FindingStatus.Resolved;
        finding.ResolvedReason = reason;
        finding.ResolvedAt = now;
    }

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..(length - 1)] + "…";

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Posture of {Connection}: {Passed} passed, {Failed} failed, {NotAssessed} not assessed; findings {New} new, {Resolved} resolved")]
        public static partial void Assessed(ILogger logger, string connection, int passed, int failed, int notAssessed, int @new, int resolved);

        [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Posture checks of connection {ConnectionId} after sync run {RunId} failed; the sync itself is not affected")]
        public static partial void Failed(ILogger logger, long connectionId, long runId, Exception exception);
    }
}
