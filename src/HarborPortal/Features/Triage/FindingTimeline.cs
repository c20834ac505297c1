using HarborPortal.Data;
using HarborPortal.Features.Findings;
using Microsoft.EntityFrameworkCore;

namespace HarborPortal.Features.Triage;

/// <summary>One line of a finding's timeline: a sync's or a person's change, a decision that covers it, or a comment.</summary>
/// <param name="Kind">A <see cref="FindingEventKind"/> or <see cref="TriageEventKind"/>, <c>Decision</c>, <c>DecisionEnded</c> or <c>Comment</c>.</param>
public sealed record TimelineEntry(DateTimeOffset At, string Kind, string Text, string? Actor, long? SyncRunId);

/// <summary>Everything the finding page's triage column shows: the decision behind the status, the timeline, the people and teams to assign.</summary>
public sealed record FindingTriageView(TriageDecision? Decision, IReadOnlyList<TimelineEntry> Timeline, string? AssignedTeamName);

/// <summary>Reads a finding's timeline, newest first: its events, the decisions that covered it, its comments.</summary>
public sealed class FindingTimelineLoader(PortalDbContext db)
{
    public const int MaxEntries = 500;

    public async Task<FindingTriageView> LoadAsync(Finding finding, CancellationToken cancellationToken)
    {
        var entries = new List<TimelineEntry>();
        var events = await db.FindingEvents.AsNoTracking().Where(e => e.FindingId == finding.Id)
            .OrderByDescending(e => e.At).ThenByDescending(e => e.Id).Take(MaxEntries).ToListAsync(cancellationToken);
        entries.AddRange(events.Select(e => new TimelineEntry(e.At, e.Kind, Describe(e), e.Actor, e.SyncRunId)));

        // Decisions of this vulnerability and package that reach (or reached) this image: few rows through their index.
        var decisions = (await db.TriageDecisions.AsNoTracking()
                .Where(d => d.VulnerabilityId == finding.VulnerabilityId && d.PackageName == finding.PackageName && d.ConnectionId == finding.ConnectionId)
                .ToListAsync(cancellationToken))
            .Where(d => d.Covers(finding)).ToList();
        foreach (var decision in decisions)
        {
            entries.Add(new TimelineEntry(decision.DecidedAt, "Decision", $"Decision #{decision.Id}: {decision.Describe()}", decision.DecidedBy, null));
            if (decision.EndedAt is { } ended)
            {
                entries.Add(new TimelineEntry(ended, "DecisionEnded", $"Decision #{decision.Id} ended: {decision.EndedWhy}", decision.EndedBy, null));
            }
        }

        var comments = await db.FindingComments.AsNoTracking().Where(c => c.FindingId == finding.Id)
            .OrderByDescending(c => c.At).Take(MaxEntries).ToListAsync(cancellationToken);
        entries.AddRange(comments.Select(c => new TimelineEntry(c.At, "Comment", c.Text, c.Author, null)));

        var current = finding.TriageDecisionId is { } id ? await db.TriageDecisions.AsNoTracking().SingleOrDefaultAsync(d => d.Id == id, cancellationToken) : null;
        var team = finding.AssignedTeamId is { } teamId ? await db.Teams.Where(t => t.Id == teamId).Select(t => t.Name).SingleOrDefaultAsync(cancellationToken) : null;
        return new FindingTriageView(current, [.. entries.OrderByDescending(e => e.At).Take(MaxEntries)], team ?? (finding.AssignedTeamId is { } gone ? $"team {gone} (deleted)" : null));
    }

    private static string Describe(FindingEvent e) => e.Kind switch
    {
        FindingEventKind.Opened => "Opened: first reported by a sync",
        FindingEventKind.Resolved => $"Resolved: {e.Reason ?? "no longer reported"}",
        FindingEventKind.Reopened => "Reopened: reported again by a sync",
        TriageEventKind.RiskAcceptanceExpired => $"Reopened: {e.Reason}",
        TriageEventKind.Untriaged => $"Back to Open: {e.Reason}",
        TriageEventKind.StatusChanged => $"Status: {e.Reason}",
        TriageEventKind.Assigned => $"Assignment: {e.Reason}",
        _ => e.Reason ?? e.Kind,
    };
}
