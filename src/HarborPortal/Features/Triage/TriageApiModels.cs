using HarborPortal.Features.Findings;

namespace HarborPortal.Features.Triage;

/// <summary>
/// <c>POST /api/v1/findings/{id}/triage</c>: a status; Risk accepted needs a justification and expiresOn (a future
/// yyyy-MM-dd), False positive a justification. Scope (Digest, Repository — the default —, Project) says how far a
/// Risk accepted / False positive decision reaches.
/// </summary>
public sealed record TriageRequest(FindingStatus? Status, string? Justification, DateOnly? ExpiresOn, TriageScope? Scope);

/// <summary>
/// <c>POST /api/v1/findings/triage</c>: either <c>ids</c> or <c>filter</c> (the queue's query string, e.g.
/// <c>severity=Critical&amp;project=team-a</c>, re-run by the server); then a status change (as <see cref="TriageRequest"/>)
/// or, with <c>assign</c> true, an assignment to <c>assignee</c> (a user name) and/or <c>teamId</c>.
/// </summary>
public sealed record BulkTriageRequest(
    IReadOnlyList<long>? Ids, string? Filter, FindingStatus? Status, string? Justification, DateOnly? ExpiresOn, TriageScope? Scope,
    bool? Assign, string? Assignee, long? TeamId);

/// <summary><c>POST /api/v1/findings/{id}/assign</c>: a user name and/or a team id; both null unassigns.</summary>
public sealed record AssignRequest(string? Assignee, long? TeamId);

public sealed record CommentRequest(string? Text);

/// <param name="Selected">Findings the request named (or its filter matched), resolved ones left out of a status change.</param>
/// <param name="Changed">Findings whose status or assignment changed, through a decision's scope included.</param>
public sealed record TriageResultResponse(int Selected, int Changed, IReadOnlyList<long> DecisionIds);

public sealed record CommentResponse(long Id, long FindingId, string Author, DateTimeOffset At, string Text);

public sealed record DecisionResponse(
    long Id, TriageScope Scope, FindingStatus Status, string Justification, DateTimeOffset? ExpiresAt, string DecidedBy, DateTimeOffset DecidedAt,
    string Description, DateTimeOffset? EndedAt, string? EndedBy, string? EndedWhy);

/// <summary><c>GET /api/v1/findings/{id}/timeline</c>: the status and where it came from, the assignment, and the timeline newest first.</summary>
public sealed record TimelineResponse(
    long FindingId, FindingStatus Status, DecisionResponse? Decision, string? AssignedTo, long? AssignedTeamId, IReadOnlyList<TimelineEntry> Entries);

internal static class TriageApiMappings
{
    public static DecisionResponse AsResponse(this TriageDecision d) =>
        new(d.Id, d.Scope, d.Status, d.Justification, d.ExpiresAt, d.DecidedBy, d.DecidedAt, d.Describe(), d.EndedAt, d.EndedBy, d.EndedWhy);
}
