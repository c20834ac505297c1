using HarborPortal.Data;
using HarborPortal.Features.Api;
using HarborPortal.Features.Auth;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace HarborPortal.Features.Connections;

/// <summary>
/// <c>/api/v1/connections</c>: the admin screens' operations for automation. Admin only; like the rest of
/// <c>/api/v1</c> the session cookie may read but every write needs an API token. (The admin pages post their own
/// forms: see <see cref="ConnectionEditPage"/>.)
/// </summary>
public static class ConnectionEndpoints
{
    public const string ApiPath = ApiEndpoints.Prefix + "/connections";

    public static RouteGroupBuilder MapConnectionEndpoints(this IEndpointRouteBuilder endpoints)
    {
        // Viewer is the /api/v1 baseline every API endpoint names; Admin narrows it.
        var api = endpoints.MapGroup(ApiPath)
            .RequireAuthorization(PortalPolicies.Viewer)
            .RequireAuthorization(PortalPolicies.Admin)
            .AddEndpointFilter(RefuseCookieWritesAsync)
            .WithTags("Connections");

        api.MapGet("/", ListAsync).WithSummary("Every Harbor connection, with its last verification and sync (never a secret).");
        api.MapPost("/", CreateAsync).WithSummary("Registers a Harbor; the secret is write-only and never returned.");
        api.MapGet("/{id:long}", GetAsync).WithSummary("One connection (never its secret).");
        api.MapPut("/{id:long}", UpdateAsync).WithSummary("Replaces a connection's settings; an absent or empty secret keeps the stored one.");
        api.MapPost("/{id:long}/secret", RotateSecretAsync).WithSummary("Rotates the stored secret.");
        api.MapDelete("/{id:long}", DeleteAsync)
            .WithSummary("Deletes a connection; findings=keep|purge (required) says what happens to its findings.");
        api.MapPost("/{id:long}/verify", VerifyAsync).WithSummary("Starts a connectivity verification; 202 with the run's id.");
        api.MapGet("/{id:long}/verification", GetVerificationAsync)
            .WithSummary("The latest verification (or runId=…): each step's name, ok, durationMs, detail and hint.");

        // The checklist fragment the edit page polls (htmx) while a run is under way.
        endpoints.MapGet("/admin/connections/{id:long}/verification/{runId:long}", ChecklistFragmentAsync)
            .RequireAuthorization(PortalPolicies.Admin)
            .ExcludeFromDescription();
        return api;
    }

    private static async Task<Ok<List<ConnectionResponse>>> ListAsync(PortalDbContext db, CancellationToken cancellationToken)
    {
        var connections = await db.HarborConnections.AsNoTracking().OrderBy(c => c.Name).ToListAsync(cancellationToken);
        return TypedResults.Ok(connections.Select(c => c.AsResponse()).ToList());
    }

    private static async Task<Results<Ok<ConnectionResponse>, ProblemHttpResult>> GetAsync(long id, PortalDbContext db, CancellationToken cancellationToken) =>
        await db.HarborConnections.AsNoTracking().SingleOrDefaultAsync(c => c.Id == id, cancellationToken) is { } connection
            ? TypedResults.Ok(connection.AsResponse())
            : NotFound(id);

    private static async Task<Results<Created<ConnectionResponse>, ValidationProblem>> CreateAsync(
        ConnectionRequest request, ConnectionCommands commands, HttpContext context)
    {
        var result = await commands.CreateAsync(request.ToForm(), context.User, CancellationToken.None);
        return result.Connection is { } connection
            ? TypedResults.Created($"{ApiPath}/{connection.Id}", connection.AsResponse())
            : TypedResults.ValidationProblem(result.Errors!.ToProblemErrors());
    }

    private static async Task<Results<Ok<ConnectionResponse>, ValidationProblem, ProblemHttpResult>> UpdateAsync(
        long id, ConnectionRequest request, ConnectionCommands commands, HttpContext context)
    {
        var result = await commands.UpdateAsync(id, request.ToForm(), context.User, CancellationToken.None);
        return Answer(id, result);
    }

    private static async Task<Results<Ok<ConnectionResponse>, ValidationProblem, ProblemHttpResult>> RotateSecretAsync(
        long id, RotateSecretRequest request, ConnectionCommands commands, HttpContext context)
    {
        var result = await commands.RotateSecretAsync(id, request.Secret, context.User, CancellationToken.None);
        return Answer(id, result);
    }

    private static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> DeleteAsync(
        long id, string? findings, ConnectionCommands commands, HttpContext context)
    {
        // No default: deleting a registry's findings, or keeping them orphaned, is a choice the caller must make.
        if (!Enum.TryParse<FindingsOnDelete>(findings, ignoreCase: true, out var choice) || !Enum.IsDefined(choice) || int.TryParse(findings, out _))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["findings"] = ["Say what happens to this connection's findings: findings=keep or findings=purge."],
            });
        }

        return await commands.DeleteAsync(id, choice, context.User, CancellationToken.None) is null ? NotFound(id) : TypedResults.NoContent();
    }

    private static async Task<Results<Accepted<VerificationStarted>, ProblemHttpResult>> VerifyAsync(long id, ConnectionVerifier verifier, HttpContext context)
    {
        var run = await verifier.RequestAsync(id, VerificationTriggers.Api, context.User.Identity?.Name, CancellationToken.None);
        return run is null
            ? NotFound(id)
            : TypedResults.Accepted($"{ApiPath}/{id}/verification?runId={run.Id}", new VerificationStarted(run.Id, run.Status));
    }

    private static async Task<Results<Ok<VerificationResponse>, ProblemHttpResult>> GetVerificationAsync(long id, long? runId, PortalDbContext db, CancellationToken cancellationToken)
    {
        var run = await db.ConnectionVerifications.AsNoTracking()
            .Where(v => v.ConnectionId == id && (runId == null || v.Id == runId))
            .OrderByDescending(v => v.Id)
            .FirstOrDefaultAsync(cancellationToken);
        return run is null
            ? TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not Found", detail: $"Connection {id} has no such verification run (or does not exist).")
            : TypedResults.Ok(run.AsResponse());
    }

    private static async Task<IResult> ChecklistFragmentAsync(long id, long runId, PortalDbContext db, HttpContext context, CancellationToken cancellationToken)
    {
        if (await db.ConnectionVerifications.AsNoTracking().SingleOrDefaultAsync(v => v.Id == runId && v.ConnectionId == id, cancellationToken) is not { } run)
        {
            return TypedResults.NotFound();
        }

        if (run.IsDone && context.Request.Headers.ContainsKey("HX-Request"))
        {
            // The run just ended: the rest of the page (status card, history, list) is stale, so htmx reloads it whole.
            context.Response.Headers["HX-Refresh"] = "true";
        }

        return new RazorComponentResult<ConnectivityChecklist>(new { Run = run });
    }

    private static Results<Ok<ConnectionResponse>, ValidationProblem, ProblemHttpResult> Answer(long id, ConnectionResult result) => result switch
    {
        { IsNotFound: true } => NotFound(id),
        { Connection: { } connection } => TypedResults.Ok(connection.AsResponse()),
        _ => TypedResults.ValidationProblem(result.Errors!.ToProblemErrors()),
    };

    private static ProblemHttpResult NotFound(long id) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not Found", detail: $"There is no connection {id}.");

    // The same rule as the rest of /api/v1 (ApiEndpoints): a cookie can be sent cross-site, a bearer token cannot.
    internal static async ValueTask<object?> RefuseCookieWritesAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method) || ApiEndpoints.IsApiTokenCaller(http.User))
        {
            return await next(context);
        }

        return TypedResults.Problem(
            statusCode: StatusCodes.Status403Forbidden,
            title: "Use an API token for writes",
            detail: "The session cookie can only read the API. Create a token on /account and send it as 'Authorization: Bearer hp_…'.");
    }
}
