using HarborPortal.Data;
using HarborPortal.Features.Api;
using HarborPortal.Features.Audit;
using HarborPortal.Features.Auth;
using HarborPortal.Features.Connections;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace HarborPortal.Features.Scanning;

/// <summary>Starting a sync and reading a run, for automation. Admin only; writes need an API token (as all of /api/v1).</summary>
public static class SyncEndpoints
{
    public const string RunsPath = ApiEndpoints.Prefix + "/sync-runs";

    public static IEndpointRouteBuilder MapSyncEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var connections = endpoints.MapGroup(ConnectionEndpoints.ApiPath)
            .RequireAuthorization(PortalPolicies.Viewer)
            .RequireAuthorization(PortalPolicies.Admin)
            .AddEndpointFilter(ConnectionEndpoints.RefuseCookieWritesAsync)
            .WithTags("Sync");
        connections.MapPost("/{id:long}/sync", StartAsync)
            .WithSummary("Starts a sync of the connection's findings; 202 with the run's id, 409 with the running run's id when one is under way.");

        var runs = endpoints.MapGroup(RunsPath)
            .RequireAuthorization(PortalPolicies.Viewer)
            .RequireAuthorization(PortalPolicies.Admin)
            .WithTags("Sync");
        runs.MapGet("/{id:long}", GetAsync).WithSummary("One sync run: status, counts and errors.");
        runs.MapPost("/{id:long}/cancel", CancelAsync)
            .AddEndpointFilter(ConnectionEndpoints.RefuseCookieWritesAsync)
            .WithSummary("Asks a pending or running run to stop (it ends Cancelled at its next safe point); 202, 404 unknown, 409 already finished.");

        // The connection page's and the Jobs page's live progress (htmx polls it) and their Cancel button (a form post).
        var pages = endpoints.MapGroup("/admin/connections/{connectionId:long}/syncs/{runId:long}")
            .RequireAuthorization(PortalPolicies.Admin)
            .ExcludeFromDescription();
        pages.MapGet("/progress", ProgressFragmentAsync);
        pages.MapPost("/cancel", CancelFormAsync);
        return endpoints;
    }

    private static async Task<Results<Accepted<SyncRunResponse>, Conflict<SyncRunResponse>, ProblemHttpResult>> CancelAsync(
        long id, SyncRequests requests, PortalDbContext db, AuditLog audit, HttpContext context)
    {
        if (await db.SyncRuns.AsNoTracking().SingleOrDefaultAsync(r => r.Id == id) is not { } run)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not Found", detail: $"There is no sync run {id}.");
        }

        if (!await requests.CancelAsync(id, context.User.Identity?.Name, CancellationToken.None))
        {
            return TypedResults.Conflict(SyncRunResponse.From(run));
        }

        await AuditCancelAsync(audit, context, run.ConnectionId, id);
        var cancelling = await db.SyncRuns.AsNoTracking().SingleAsync(r => r.Id == id);
        return TypedResults.Accepted($"{RunsPath}/{id}", SyncRunResponse.From(cancelling));
    }

    private static async Task<IResult> ProgressFragmentAsync(long connectionId, long runId, bool? jobs, PortalDbContext db, HttpContext context, CancellationToken cancellationToken)
    {
        var found = await db.SyncRuns.AsNoTracking()
            .Where(r => r.Id == runId && r.ConnectionId == connectionId)
            .Join(db.HarborConnections, r => r.ConnectionId, c => c.Id, (r, c) => new { Run = r, c.Name })
            .SingleOrDefaultAsync(cancellationToken);
        if (found is null)
        {
            return TypedResults.NotFound();
        }

        if (!found.Run.IsActive && context.Request.Headers.ContainsKey("HX-Request"))
        {
            // The run just ended: the history and counts around it are stale, so htmx reloads the page whole.
            context.Response.Headers["HX-Refresh"] = "true";
        }

        return new RazorComponentResult<SyncProgress>(new { Run = found.Run, ConnectionName = jobs == true ? found.Name : null });
    }

    private static async Task<IResult> CancelFormAsync(
        long connectionId, long runId, [FromForm] string? returnUrl, SyncRequests requests, PortalDbContext db, AuditLog audit, HttpContext context)
    {
        if (!await db.SyncRuns.AnyAsync(r => r.Id == runId && r.ConnectionId == connectionId))
        {
            return TypedResults.NotFound();
        }

        // False when the run ended meanwhile: the page it returns to shows how it ended.
        if (await requests.CancelAsync(runId, context.User.Identity?.Name, CancellationToken.None))
        {
            await AuditCancelAsync(audit, context, connectionId, runId);
        }

        // Only back into the portal: a posted address is never followed elsewhere.
        var local = returnUrl is ['/', not '/' and not '\\', ..] ? returnUrl : $"/admin/connections/{connectionId}#sync";
        return TypedResults.Redirect(local);
    }

    private static Task AuditCancelAsync(AuditLog audit, HttpContext context, long connectionId, long runId) =>
        audit.WriteAsync(
            "sync.cancel", true, context.User.Identity?.Name, context.User.FindFirst(PortalClaimTypes.AuthMethod)?.Value ?? "web",
            $"connection {connectionId}", $"run {runId}");

    private static async Task<Results<Accepted<SyncStartResponse>, Conflict<SyncStartResponse>, ProblemHttpResult>> StartAsync(
        long id, SyncRequests requests, HttpContext context)
    {
        var start = await requests.StartAsync(id, context.User.Identity?.Name, CancellationToken.None);
        if (start is null)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not Found", detail: $"There is no connection {id}.");
        }

        var response = new SyncStartResponse(start.RunId, start.Status, start.AlreadyRunning);
        return start.AlreadyRunning ? TypedResults.Conflict(response) : TypedResults.Accepted($"{RunsPath}/{start.RunId}", response);
    }

    private static async Task<Results<Ok<SyncRunResponse>, ProblemHttpResult>> GetAsync(long id, PortalDbContext db, CancellationToken cancellationToken) =>
        await db.SyncRuns.AsNoTracking().SingleOrDefaultAsync(r => r.Id == id, cancellationToken) is { } run
            ? TypedResults.Ok(SyncRunResponse.From(run))
            : TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not Found", detail: $"There is no sync run {id}.");
}

public sealed record SyncStartResponse(long RunId, SyncRunStatus Status, bool AlreadyRunning);

/// <summary>A run's counts; <c>artifactsSeen</c> of <c>artifactsTotal</c> is its progress (the total is 0 until enumeration has counted).</summary>
public sealed record SyncRunCounts(
    int Projects, int Repositories, int ArtifactsSeen, int ArtifactsChanged, int ArtifactsSkipped, int ArtifactsNotScanned, int ArtifactsRemoved,
    int ReportsFetched, int FindingsNew, int FindingsUpdated, int FindingsResolved, int FindingsReopened, int Errors,
    int ArtifactsTotal, int ArtifactsScanRequested, int ArtifactsScanFailed);

public sealed record SyncRunResponse(
    long RunId, long ConnectionId, SyncRunStatus Status, string? RequestedBy, DateTimeOffset RequestedAt, DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt, SyncRunCounts Counts, IReadOnlyList<string> Errors,
    SyncTrigger Trigger, SyncRunProgress Progress, bool CancelRequested, DateTimeOffset? CancelRequestedAt, string? CancelRequestedBy)
{
    public static SyncRunResponse From(SyncRun run) => new(
        run.Id, run.ConnectionId, run.Status, run.RequestedBy, run.RequestedAt, run.StartedAt, run.FinishedAt,
        new SyncRunCounts(run.Projects, run.Repositories, run.ArtifactsSeen, run.ArtifactsChanged, run.ArtifactsSkipped, run.ArtifactsNotScanned,
            run.ArtifactsRemoved, run.ReportsFetched, run.FindingsNew, run.FindingsUpdated, run.FindingsResolved, run.FindingsReopened, run.ErrorCount,
            run.ArtifactsTotal, run.ArtifactsScanRequested, run.ArtifactsScanFailed),
        run.ErrorList,
        run.Trigger, SyncRunProgress.For(run), run.CancelRequestedAt is not null, run.CancelRequestedAt, run.CancelRequestedBy);
}
