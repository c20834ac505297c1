using HarborPortal.Data;
using HarborPortal.Features.Api;
using HarborPortal.Features.Auth;
using HarborPortal.Features.Connections;
using Microsoft.AspNetCore.Http.HttpResults;
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
        return endpoints;
    }

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
    DateTimeOffset? FinishedAt, SyncRunCounts Counts, IReadOnlyList<string> Errors)
{
    public static SyncRunResponse From(SyncRun run) => new(
        run.Id, run.ConnectionId, run.Status, run.RequestedBy, run.RequestedAt, run.StartedAt, run.FinishedAt,
        new SyncRunCounts(run.Projects, run.Repositories, run.ArtifactsSeen, run.ArtifactsChanged, run.ArtifactsSkipped, run.ArtifactsNotScanned,
            run.ArtifactsRemoved, run.ReportsFetched, run.FindingsNew, run.FindingsUpdated, run.FindingsResolved, run.FindingsReopened, run.ErrorCount,
            run.ArtifactsTotal, run.ArtifactsScanRequested, run.ArtifactsScanFailed),
        run.ErrorList);
}
