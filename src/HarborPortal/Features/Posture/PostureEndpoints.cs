using HarborPortal.Data;
using HarborPortal.Features.Audit;
using HarborPortal.Features.Auth;
using HarborPortal.Features.Connections;
using HarborPortal.Features.Findings;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace HarborPortal.Features.Posture;

/// <summary>Running and reading a connection's posture checks, for automation. Admin only; the run needs an API token (as every /api/v1 write).</summary>
public static class PostureEndpoints
{
    public static IEndpointRouteBuilder MapPostureEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var connections = endpoints.MapGroup(ConnectionEndpoints.ApiPath)
            .RequireAuthorization(PortalPolicies.Viewer)
            .RequireAuthorization(PortalPolicies.Admin)
            .AddEndpointFilter(ConnectionEndpoints.RefuseCookieWritesAsync)
            .WithTags("Posture");
        connections.MapPost("/{id:long}/posture", RunAsync)
            .WithSummary("Runs the Harbor posture checks of the connection now and answers with every result (Pass, Fail, NotAssessed); 404 for an unknown connection.");
        connections.MapGet("/{id:long}/posture", GetAsync)
            .WithSummary("The latest posture results of the connection and its score (passed of assessed, not assessed beside it).");
        return endpoints;
    }

    /// <summary>Writes the audit entry of a posture run requested by a person (the page's button or the API).</summary>
    public static Task AuditRunAsync(AuditLog audit, HttpContext context, long connectionId, PostureRunSummary summary) =>
        audit.WriteAsync(
            "connection.posture", true, context.User.Identity?.Name, context.User.FindFirst(PortalClaimTypes.AuthMethod)?.Value ?? "web",
            $"connection {connectionId}", $"{summary.Passed} passed, {summary.Failed} failed, {summary.NotAssessed} not assessed");

    private static async Task<Results<Ok<PostureResponse>, ProblemHttpResult>> RunAsync(
        long id, PostureRunner runner, PortalDbContext db, AuditLog audit, HttpContext context, CancellationToken cancellationToken)
    {
        if (await runner.RunAsync(id, context.User.Identity?.Name, null, cancellationToken) is not { } summary)
        {
            return NotFound(id);
        }

        await AuditRunAsync(audit, context, id, summary);
        return TypedResults.Ok((await PostureResponse.LoadAsync(db, id, cancellationToken))!);
    }

    private static async Task<Results<Ok<PostureResponse>, ProblemHttpResult>> GetAsync(long id, PortalDbContext db, CancellationToken cancellationToken) =>
        await PostureResponse.LoadAsync(db, id, cancellationToken) is { } response ? TypedResults.Ok(response) : NotFound(id);

    private static ProblemHttpResult NotFound(long id) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not Found", detail: $"There is no connection {id}.");
}

/// <summary>One check's result in the API: the check, the scope, the outcome and its evidence, and how to fix it.</summary>
public sealed record PostureCheckResponse(
    string CheckId, string Name, Severity Severity, string Scope, string ProjectName, PostureOutcome Outcome, string Evidence,
    string? NeededPermission, string HowToFix, string Documentation);

public sealed record PostureScoreResponse(int Passed, int Failed, int NotAssessed, int? Percent);

/// <summary>A connection's posture: null <c>assessedAt</c> and no results until it was first checked.</summary>
public sealed record PostureResponse(long ConnectionId, DateTimeOffset? AssessedAt, PostureScoreResponse Score, IReadOnlyList<PostureCheckResponse> Results)
{
    public static async Task<PostureResponse?> LoadAsync(PortalDbContext db, long connectionId, CancellationToken cancellationToken)
    {
        if (await PostureScores.ForConnectionAsync(db, connectionId, cancellationToken) is not { } score)
        {
            return null;
        }

        var results = await PostureView.LoadAsync(db, connectionId, cancellationToken);
        return new PostureResponse(
            connectionId, score.AssessedAt, new PostureScoreResponse(score.Passed, score.Failed, score.NotAssessed, score.Percent),
            [.. results.Select(r => new PostureCheckResponse(
                r.Check.Id, r.Check.Name, r.Check.Severity, r.Result.Scope, r.Result.ProjectName, r.Result.Outcome, r.Result.Evidence,
                r.Result.NeededPermission, r.Check.HowToFix, r.Check.DocsUrl))]);
    }
}

/// <summary>A stored result with its check, in the panel's order: by check, then scope.</summary>
public sealed record PostureRow(PostureCheck Check, PostureResult Result)
{
    /// <summary>The open posture finding of this row, when it failed.</summary>
    public long? FindingId { get; init; }
}

public static class PostureView
{
    public static async Task<IReadOnlyList<PostureRow>> LoadAsync(PortalDbContext db, long connectionId, CancellationToken cancellationToken)
    {
        var results = await db.PostureResults.AsNoTracking().Where(r => r.ConnectionId == connectionId).ToListAsync(cancellationToken);
        var findings = await db.Findings.AsNoTracking()
            .Where(f => f.ConnectionId == connectionId && f.SourceTool == PostureChecks.SourceTool)
            .Select(f => new { f.Id, f.Identity })
            .ToDictionaryAsync(f => f.Identity, f => f.Id, cancellationToken);
        var order = PostureChecks.All.Select((c, i) => (c.Id, i)).ToDictionary(x => x.Id, x => x.i);
        return [.. results
            .Where(r => PostureChecks.Find(r.CheckId) is not null)
            .OrderBy(r => order[r.CheckId]).ThenBy(r => r.Scope, StringComparer.Ordinal)
            .Select(r => new PostureRow(PostureChecks.Find(r.CheckId)!, r)
            {
                FindingId = r.Outcome == PostureOutcome.Fail && findings.TryGetValue(PostureRunner.IdentityOf(connectionId, r.CheckId, r.Scope), out var id) ? id : null,
            })];
    }
}
