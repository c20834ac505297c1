using System.Globalization;
using System.Security.Claims;
using HarborPortal.Data;
using HarborPortal.Features.Audit;
using HarborPortal.Features.Auth;
using HarborPortal.Features.Findings;
using HarborPortal.Features.ThreatData;
using Microsoft.EntityFrameworkCore;

namespace HarborPortal.Features.Triage;

/// <summary>
/// What a person asks for: a status, why, until when (a risk acceptance), and how far the decision reaches.
/// Open and In progress change exactly the findings named; Risk accepted and False positive record a decision that
/// covers every finding of its scope, today's and the ones the sync brings later.
/// </summary>
public sealed record TriageChange(FindingStatus Status, string? Justification, DateOnly? ExpiresOn, TriageScope Scope = TriageScope.Repository);

/// <summary>A person and a team to assign (either or both null to clear).</summary>
public sealed record AssignmentChange(string? User, long? TeamId);

/// <summary>What a triage or assignment did: the findings it changed (the ones asked for and, through a decision, others).</summary>
public sealed record TriageOutcome(int Selected, int Changed, IReadOnlyList<long> DecisionIds);

/// <summary>A request that cannot be carried out, keyed by field as problem+json's errors are.</summary>
public sealed class TriageValidationException(Dictionary<string, string[]> errors)
    : Exception(string.Join(" ", errors.SelectMany(e => e.Value)))
{
    public Dictionary<string, string[]> Errors { get; } = errors;
}

/// <summary>
/// Every triage change goes through here (the finding page's forms, the queue's bulk actions, the API): it validates,
/// writes the findings, decisions and events in one unit, recomputes the priority of what changed, and audits once.
/// </summary>
public sealed class TriageCommands(PortalDbContext db, TimeProvider time, AuditLog audit)
{
    private const int Chunk = 500;

    public const string SystemActor = "system";

    /// <summary>The rules of a change; empty when it may be applied.</summary>
    public Dictionary<string, string[]> Validate(TriageChange change)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var justification = change.Justification?.Trim() ?? "";
        var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        switch (change.Status)
        {
            case FindingStatus.Resolved:
                errors["status"] = ["Resolved is set by the sync only, when the scanner no longer reports the finding."];
                break;
            case FindingStatus.RiskAccepted:
                if (justification.Length == 0)
                {
                    errors["justification"] = ["Accepting a risk needs a justification."];
                }

                if (change.ExpiresOn is not { } expires)
                {
                    errors["expiresOn"] = ["Accepting a risk needs an expiry date (yyyy-MM-dd): the findings reopen when it passes."];
                }
                else if (expires <= today)
                {
                    errors["expiresOn"] = [$"The expiry date must be in the future (after {today:yyyy-MM-dd})."];
                }

                break;
            case FindingStatus.FalsePositive:
                if (justification.Length == 0)
                {
                    errors["justification"] = ["Marking a false positive needs a justification."];
                }

                break;
            case FindingStatus.Open or FindingStatus.InProgress:
                break;
            default:
                errors["status"] = ["Not one of: Open, InProgress, RiskAccepted, FalsePositive."];
                break;
        }

        if (justification.Length > TriageDecision.MaxJustificationLength)
        {
            errors["justification"] = [$"At most {TriageDecision.MaxJustificationLength} characters."];
        }

        if (!Enum.IsDefined(change.Scope))
        {
            errors["scope"] = ["Not one of: Digest, Repository, Project."];
        }

        return errors;
    }

    /// <summary>
    /// Applies <paramref name="change"/> to the findings <paramref name="findingIds"/> (resolved ones are left alone: the
    /// sync owns them). Throws <see cref="TriageValidationException"/> with nothing changed when the change breaks a rule.
    /// </summary>
    public async Task<TriageOutcome> TriageAsync(
        IReadOnlyCollection<long> findingIds, TriageChange change, ClaimsPrincipal user, string? filter, CancellationToken cancellationToken)
    {
        var errors = Validate(change);
        if (errors.Count > 0)
        {
            throw new TriageValidationException(errors);
        }

        var actor = ActorOf(user);
        var now = time.GetUtcNow();
        var justification = change.Justification?.Trim() ?? "";
        var findings = await LoadAsync(findingIds, cancellationToken);
        // A status change recomputes the priority with every input the sync uses, threat data included.
        var threats = await ThreatIntel.LoadAsync(db, cancellationToken);
        var changed = 0;
        var decisionIds = new List<long>();

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (change.Status is FindingStatus.Open or FindingStatus.InProgress)
        {
            foreach (var finding in findings)
            {
                if (finding.Status == change.Status && finding.TriageDecisionId is null)
                {
                    continue;
                }

                var from = finding.Status;
                finding.Status = change.Status;
                finding.TriageDecisionId = null;
                finding.RiskAcceptedUntil = null;
                PriorityRules.Apply(finding, threats.ContextFor(finding, now));
                AddEvent(finding.Id, now, TriageEventKind.StatusChanged, $"{Label(from)} → {Label(change.Status)}" + (justification.Length > 0 ? $": {justification}" : ""), actor);
                changed++;
            }

            await db.SaveChangesAsync(cancellationToken);
        }
        else
        {
            // One decision per distinct reach: a bulk action over one repository's images records one repository decision.
            var expires = change.ExpiresOn is { } on && change.Status == FindingStatus.RiskAccepted
                ? new DateTimeOffset(on.ToDateTime(new TimeOnly(23, 59, 59)), TimeSpan.Zero)
                : (DateTimeOffset?)null;
            var groups = findings.GroupBy(f => Key(f, change.Scope)).ToList();
            var decisions = new List<TriageDecision>();
            var ended = new List<TriageDecision>();
            foreach (var group in groups)
            {
                var first = group.First();
                var decision = new TriageDecision
                {
                    Scope = change.Scope,
                    ConnectionId = first.ConnectionId,
                    ProjectName = first.ProjectName,
                    RepositoryName = change.Scope == TriageScope.Project ? null : first.RepositoryName,
                    Digest = change.Scope == TriageScope.Digest ? first.Digest : null,
                    VulnerabilityId = first.VulnerabilityId,
                    PackageName = first.PackageName,
                    Status = change.Status,
                    Justification = justification,
                    ExpiresAt = expires,
                    DecidedBy = actor,
                    DecidedAt = now,
                };
                db.TriageDecisions.Add(decision);
                decisions.Add(decision);
            }

            await db.SaveChangesAsync(cancellationToken);
            decisionIds.AddRange(decisions.Select(d => d.Id));

            // The new decision replaces the live ones of the same reach, and the ones that set these findings' status
            // (a different scope: narrowing or widening). Their other findings are evaluated again below.
            foreach (var decision in decisions)
            {
                var sameReach = await LiveDecisionsFor(decision.VulnerabilityId, decision.PackageName, decision.ConnectionId)
                    .Where(d => d.Id != decision.Id && d.Scope == decision.Scope && d.ProjectName == decision.ProjectName
                        && d.RepositoryName == decision.RepositoryName && d.Digest == decision.Digest)
                    .ToListAsync(cancellationToken);
                ended.AddRange(sameReach);
            }

            var previousIds = findings.Where(f => f.TriageDecisionId is { } id && !decisionIds.Contains(id)).Select(f => f.TriageDecisionId!.Value).Distinct().ToList();
            ended.AddRange(await db.TriageDecisions.Where(d => previousIds.Contains(d.Id) && d.EndedAt == null).ToListAsync(cancellationToken));
            foreach (var old in ended.DistinctBy(d => d.Id))
            {
                old.EndedAt = now;
                old.EndedBy = actor;
                old.EndedWhy = $"replaced by decision #{decisions.First(d => d.VulnerabilityId == old.VulnerabilityId && d.PackageName == old.PackageName).Id}";
            }

            await db.SaveChangesAsync(cancellationToken);
            var candidates = new Dictionary<long, Finding>();
            foreach (var decision in decisions)
            {
                foreach (var finding in await CoveredBy(decision).ToListAsync(cancellationToken))
                {
                    candidates.TryAdd(finding.Id, finding);
                }
            }

            var endedIds = ended.Select(d => d.Id).Distinct().ToList();
            foreach (var finding in await db.Findings.Where(f => f.TriageDecisionId != null && endedIds.Contains(f.TriageDecisionId.Value)).ToListAsync(cancellationToken))
            {
                candidates.TryAdd(finding.Id, finding);
            }

            changed = await ReevaluateAsync([.. candidates.Values], now, actor, TriageEventKind.Untriaged, "the decision no longer covers this image", cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        await audit.WriteAsync("findings.triage", true, actor, MethodOf(user), Target(findings),
            Details(
                ("status", change.Status.ToString()),
                ("scope", change.Status is FindingStatus.RiskAccepted or FindingStatus.FalsePositive ? change.Scope.ToString() : null),
                ("expires", change.ExpiresOn?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)),
                ("why", justification),
                ("selected", findings.Count.ToString(CultureInfo.InvariantCulture)),
                ("changed", changed.ToString(CultureInfo.InvariantCulture)),
                ("decisions", decisionIds.Count == 0 ? null : string.Join(",", decisionIds)),
                ("filter", filter)),
            cancellationToken);
        return new TriageOutcome(findings.Count, changed, decisionIds);
    }

    /// <summary>Assigns the findings to a portal user (by user name) and/or a team; nulls clear. Resolved findings too: work may follow them.</summary>
    public async Task<TriageOutcome> AssignAsync(
        IReadOnlyCollection<long> findingIds, AssignmentChange change, ClaimsPrincipal user, string? filter, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var userName = string.IsNullOrWhiteSpace(change.User) ? null : change.User.Trim();
        string? teamName = null;
        if (userName is not null && !await db.UserAccounts.AnyAsync(u => u.UserName == userName, cancellationToken))
        {
            errors["assignee"] = [$"There is no portal user '{userName}' (people appear after their first sign-in)."];
        }

        if (change.TeamId is { } teamId)
        {
            teamName = await db.Teams.Where(t => t.Id == teamId).Select(t => t.Name).SingleOrDefaultAsync(cancellationToken);
            if (teamName is null)
            {
                errors["team"] = [$"There is no team {teamId}."];
            }
        }

        if (errors.Count > 0)
        {
            throw new TriageValidationException(errors);
        }

        var actor = ActorOf(user);
        var now = time.GetUtcNow();
        var findings = await LoadAsync(findingIds, cancellationToken, includeResolved: true);
        var text = (userName, teamName) switch
        {
            (null, null) => "unassigned",
            ({ } person, null) => $"assigned to {person}",
            (null, { } team) => $"assigned to team {team}",
            ({ } person, { } team) => $"assigned to {person} (team {team})",
        };
        var changed = 0;
        foreach (var finding in findings.Where(f => f.AssignedTo != userName || f.AssignedTeamId != change.TeamId))
        {
            finding.AssignedTo = userName;
            finding.AssignedTeamId = change.TeamId;
            AddEvent(finding.Id, now, TriageEventKind.Assigned, text, actor);
            changed++;
        }

        await db.SaveChangesAsync(cancellationToken);
        await audit.WriteAsync("findings.assign", true, actor, MethodOf(user), Target(findings),
            Details(("what", text), ("selected", findings.Count.ToString(CultureInfo.InvariantCulture)), ("changed", changed.ToString(CultureInfo.InvariantCulture)), ("filter", filter)),
            cancellationToken);
        return new TriageOutcome(findings.Count, changed, []);
    }

    /// <summary>Adds a plain-text comment; the caller has checked that the author may read (and so comment on) the finding.</summary>
    public async Task<FindingComment> CommentAsync(long findingId, string? text, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var body = text?.Trim() ?? "";
        if (body.Length == 0)
        {
            throw new TriageValidationException(new() { ["text"] = ["A comment needs some text."] });
        }

        if (body.Length > FindingComment.MaxTextLength)
        {
            throw new TriageValidationException(new() { ["text"] = [$"At most {FindingComment.MaxTextLength} characters."] });
        }

        var comment = new FindingComment { FindingId = findingId, Author = ActorOf(user), At = time.GetUtcNow(), Text = body };
        db.FindingComments.Add(comment);
        await db.SaveChangesAsync(cancellationToken);
        await audit.WriteAsync("finding.comment", true, comment.Author, MethodOf(user), $"finding {findingId}", $"comment {comment.Id}, {body.Length} characters", cancellationToken);
        return comment;
    }

    /// <summary>Ends a live decision by hand; its findings go back to Open unless another decision covers them.</summary>
    public async Task<int> EndDecisionAsync(long decisionId, string? why, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var decision = await db.TriageDecisions.SingleOrDefaultAsync(d => d.Id == decisionId && d.EndedAt == null, cancellationToken)
            ?? throw new TriageValidationException(new() { ["decision"] = [$"There is no live decision {decisionId}."] });
        var actor = ActorOf(user);
        var now = time.GetUtcNow();
        var reason = string.IsNullOrWhiteSpace(why) ? "revoked" : Truncate($"revoked: {why.Trim()}", 256);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        decision.EndedAt = now;
        decision.EndedBy = actor;
        decision.EndedWhy = reason;
        await db.SaveChangesAsync(cancellationToken);
        var findings = await db.Findings.Where(f => f.TriageDecisionId == decisionId).ToListAsync(cancellationToken);
        var changed = await ReevaluateAsync(findings, now, actor, TriageEventKind.Untriaged, $"decision #{decisionId} {reason} by {actor}", cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        await audit.WriteAsync("triage.decision.end", true, actor, MethodOf(user), $"decision {decisionId}",
            Details(("why", reason), ("changed", changed.ToString(CultureInfo.InvariantCulture))), cancellationToken);
        return changed;
    }

    /// <summary>
    /// Ends every risk acceptance whose date has passed at <paramref name="now"/>: its findings reopen (event
    /// "risk acceptance expired", priority recomputed), and each expiry is audited. Returns how many findings reopened.
    /// </summary>
    public async Task<int> ExpireRiskAcceptancesAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var expired = await db.TriageDecisions
            .Where(d => d.Status == FindingStatus.RiskAccepted && d.EndedAt == null && d.ExpiresAt != null && d.ExpiresAt <= now)
            .ToListAsync(cancellationToken);
        var reopened = 0;
        foreach (var decision in expired)
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            decision.EndedAt = now;
            decision.EndedBy = SystemActor;
            decision.EndedWhy = "expired";
            await db.SaveChangesAsync(cancellationToken);
            var findings = await db.Findings.Where(f => f.TriageDecisionId == decision.Id).ToListAsync(cancellationToken);
            var changed = await ReevaluateAsync(findings, now, SystemActor, TriageEventKind.RiskAcceptanceExpired,
                $"risk acceptance expired (decision #{decision.Id}, until {decision.ExpiresAt!.Value.UtcDateTime:yyyy-MM-dd})", cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            reopened += changed;
            await audit.WriteAsync("triage.risk-acceptance.expired", true, SystemActor, "job", $"decision {decision.Id}",
                Details(("scope", decision.DescribeScope()), ("vulnerability", decision.VulnerabilityId), ("package", decision.PackageName),
                    ("reopened", changed.ToString(CultureInfo.InvariantCulture))), cancellationToken);
            db.ChangeTracker.Clear();
        }

        return reopened;
    }

    /// <summary>
    /// Gives each (tracked, unresolved) finding the status of the most specific live decision that covers it, or Open when
    /// the decision behind its status is gone; recomputes the priority and records an event for each change.
    /// </summary>
    private async Task<int> ReevaluateAsync(List<Finding> findings, DateTimeOffset now, string actor, string untriagedKind, string untriagedReason, CancellationToken cancellationToken)
    {
        var threats = await ThreatIntel.LoadAsync(db, cancellationToken);
        var changed = 0;
        foreach (var byVulnerability in findings.Where(f => f.Status != FindingStatus.Resolved).GroupBy(f => (f.VulnerabilityId, f.PackageName, f.ConnectionId)))
        {
            var (vulnerability, package, connection) = byVulnerability.Key;
            var live = (await LiveDecisionsFor(vulnerability, package, connection).ToListAsync(cancellationToken))
                .Where(d => d.IsLiveAt(now)).OrderBy(d => d.Scope).ThenByDescending(d => d.Id).ToList();
            foreach (var finding in byVulnerability)
            {
                var best = live.FirstOrDefault(d => d.Covers(finding));
                if (best is not null)
                {
                    if (finding.TriageDecisionId == best.Id && finding.Status == best.Status && finding.RiskAcceptedUntil == best.ExpiresAt)
                    {
                        continue;
                    }

                    finding.Status = best.Status;
                    finding.TriageDecisionId = best.Id;
                    finding.RiskAcceptedUntil = best.ExpiresAt;
                    AddEvent(finding.Id, now, TriageEventKind.Triaged, $"Triaged by decision #{best.Id}: {Truncate(best.Describe(), 200)}", actor);
                }
                else if (finding.TriageDecisionId is not null && finding.Status is FindingStatus.RiskAccepted or FindingStatus.FalsePositive)
                {
                    finding.Status = FindingStatus.Open;
                    finding.TriageDecisionId = null;
                    finding.RiskAcceptedUntil = null;
                    AddEvent(finding.Id, now, untriagedKind, untriagedReason, actor);
                }
                else
                {
                    continue;
                }

                PriorityRules.Apply(finding, threats.ContextFor(finding, now));
                changed++;
            }
        }

        await db.SaveChangesAsync(cancellationToken);
        return changed;
    }

    private IQueryable<TriageDecision> LiveDecisionsFor(string vulnerability, string package, long connection) =>
        db.TriageDecisions.Where(d => d.VulnerabilityId == vulnerability && d.PackageName == package && d.ConnectionId == connection && d.EndedAt == null);

    private IQueryable<Finding> CoveredBy(TriageDecision d)
    {
        var findings = db.Findings.Where(f => f.VulnerabilityId == d.VulnerabilityId && f.PackageName == d.PackageName && f.ConnectionId == d.ConnectionId
            && f.Status != FindingStatus.Resolved);
        return d.Scope switch
        {
            TriageScope.Digest => findings.Where(f => f.RepositoryName == d.RepositoryName && f.Digest == d.Digest),
            TriageScope.Repository => findings.Where(f => f.RepositoryName == d.RepositoryName),
            _ => findings.Where(f => f.ProjectName == d.ProjectName),
        };
    }

    private async Task<List<Finding>> LoadAsync(IReadOnlyCollection<long> ids, CancellationToken cancellationToken, bool includeResolved = false)
    {
        var findings = new List<Finding>();
        foreach (var chunk in ids.Distinct().Chunk(Chunk))
        {
            findings.AddRange(await db.Findings.Where(f => chunk.Contains(f.Id) && (includeResolved || f.Status != FindingStatus.Resolved)).ToListAsync(cancellationToken));
        }

        return findings;
    }

    private void AddEvent(long findingId, DateTimeOffset at, string kind, string reason, string actor) =>
        db.FindingEvents.Add(new FindingEvent { FindingId = findingId, At = at, Kind = kind, Reason = Truncate(reason, FindingEvent.MaxReasonLength), Actor = actor });

    private static (TriageScope, long, string, string?, string?, string, string) Key(Finding f, TriageScope scope) => (
        scope, f.ConnectionId, f.ProjectName,
        scope == TriageScope.Project ? null : f.RepositoryName,
        scope == TriageScope.Digest ? f.Digest : null,
        f.VulnerabilityId, f.PackageName);

    public static string Label(FindingStatus status) => status switch
    {
        FindingStatus.InProgress => "In progress",
        FindingStatus.RiskAccepted => "Risk accepted",
        FindingStatus.FalsePositive => "False positive",
        _ => status.ToString(),
    };

    public static string ActorOf(ClaimsPrincipal user) => user.Identity?.Name is { Length: > 0 } name ? name : "?";

    private static string MethodOf(ClaimsPrincipal user) => user.FindFirstValue(PortalClaimTypes.AuthMethod) ?? "web";

    private static string Target(IReadOnlyCollection<Finding> findings) =>
        findings.Count == 1 ? $"finding {findings.First().Id}" : $"{findings.Count} findings";

    private static string Details(params (string Name, string? Value)[] parts) =>
        string.Join("; ", parts.Where(p => !string.IsNullOrEmpty(p.Value)).Select(p => $"{p.Name}: {p.Value}"));

    private static string Truncate(string value, int max) => value.Length > max ? value[..(max - 1)] + "…" : value;
}
