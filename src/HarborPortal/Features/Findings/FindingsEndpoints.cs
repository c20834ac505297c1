using System.Globalization;
using HarborPortal.Data;
using HarborPortal.Features.Api;
using HarborPortal.Features.Auth;
using HarborPortal.Features.Teams;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace HarborPortal.Features.Findings;

/// <summary>
/// The queue's htmx fragments (the filtered view, type-ahead, the unique-vulnerability count) and <c>/api/v1/findings</c>.
/// Every read is scoped by <see cref="TeamScopes"/> before it runs: a developer's other-team finding is a 404.
/// </summary>
public static class FindingsEndpoints
{
    public const string ApiPath = ApiEndpoints.Prefix + "/findings";

    public static IEndpointRouteBuilder MapFindingsEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var fragments = endpoints.MapGroup("/findings").RequireAuthorization(PortalPolicies.Viewer).ExcludeFromDescription();
        fragments.MapGet("/view", ViewFragmentAsync);
        fragments.MapGet("/suggest/{kind}", SuggestFragmentAsync);
        fragments.MapGet("/unique", UniqueFragmentAsync);

        var api = endpoints.MapGroup(ApiPath).RequireAuthorization(PortalPolicies.Viewer).WithTags("Findings");
        api.MapGet("/", ListAsync)
            .WithSummary("Findings matching the queue's filters (the same query-string names as /findings), 50 per page by default; pass nextCursor back as after.");
        api.MapGet("/{id:long}", GetAsync).WithSummary("One finding with its evidence and the explanation of its priority.");
        return endpoints;
    }

    private static async Task<RazorComponentResult<FindingsView>> ViewFragmentAsync(HttpContext context, FindingsViewLoader loader)
    {
        var model = await loader.LoadAsync(context, context.RequestAborted);

        // The address bar shows the page's URL for this view, so that it can be bookmarked and the back button returns to it.
        var query = model.Filter.ToQueryString(true, ("after", model.After));
        context.Response.Headers["HX-Push-Url"] = "/findings" + query;
        return new RazorComponentResult<FindingsView>(new { Model = model });
    }

    private static async Task<IResult> SuggestFragmentAsync(string kind, HttpContext context, FindingQueue queue, PortalDbContext db)
    {
        if (!Enum.TryParse<FindingTermKind>(kind, ignoreCase: true, out var termKind) || !Enum.IsDefined(termKind) || int.TryParse(kind, out _))
        {
            return TypedResults.NotFound();
        }

        // The type-ahead input sends its own value under its own name (project=…, package=…).
        var text = context.Request.Query[kind].ToString();
        var scope = await TeamScopes.ForAsync(db, context.User, context.RequestAborted);
        var values = await queue.SuggestAsync(termKind, text, scope, cancellationToken: context.RequestAborted);
        return new RazorComponentResult<Suggestions>(new { Values = values });
    }

    private static async Task<IResult> UniqueFragmentAsync(HttpContext context, FindingQueue queue, PortalDbContext db)
    {
        var filter = FindingFilter.Parse(context.Request.Query, out var errors);
        if (errors.Count > 0)
        {
            return TypedResults.Content("");
        }

        var scope = await TeamScopes.ForAsync(db, context.User, context.RequestAborted);
        var count = await queue.CountVulnerabilitiesAsync(filter, scope, context.RequestAborted);
        return TypedResults.Content(
            $"<span>· <strong data-testid=\"unique-vulnerabilities\">{count.ToString("N0", CultureInfo.InvariantCulture)}</strong> unique vulnerabilities</span>",
            "text/html; charset=utf-8");
    }

    private static async Task<Results<Ok<FindingListResponse>, ValidationProblem>> ListAsync(
        HttpContext context, FindingQueue queue, PortalDbContext db, string? after, int? limit)
    {
        var filter = FindingFilter.Parse(context.Request.Query.Where(q => q.Key is not ("after" or "limit")), out var errors);
        if (filter.Group != FindingGrouping.None)
        {
            errors["group"] = ["The API lists findings; group them on the page."];
        }

        if (limit is < 1 or > FindingQueue.MaxPageSize)
        {
            errors["limit"] = [$"Between 1 and {FindingQueue.MaxPageSize}."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var scope = await TeamScopes.ForAsync(db, context.User, context.RequestAborted);
        try
        {
            var page = await queue.PageAsync(filter, scope, after, limit ?? FindingQueue.DefaultPageSize, context.RequestAborted);
            return TypedResults.Ok(new FindingListResponse([.. page.Items.Select(f => f.AsResponse())], page.NextCursor));
        }
        catch (InvalidCursorException e)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["after"] = [e.Message] });
        }
    }

    private static async Task<Results<Ok<FindingDetailsResponse>, ProblemHttpResult>> GetAsync(
        long id, HttpContext context, PortalDbContext db, TimeProvider time)
    {
        var scope = await TeamScopes.ForAsync(db, context.User, context.RequestAborted);
        var finding = await db.Findings.AsNoTracking().SingleOrDefaultAsync(f => f.Id == id, context.RequestAborted);

        // Out of a developer's scope answers exactly like a finding that does not exist: nothing about it leaks.
        if (finding is null || !scope.Allows(finding.ProjectName))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not Found", detail: $"There is no finding {id}.");
        }

        var threats = await ThreatData.ThreatIntel.LoadAsync(db, context.RequestAborted);
        var priority = PriorityRules.Evaluate(finding, threats.ContextFor(finding, time.GetUtcNow()));
        return TypedResults.Ok(finding.AsDetailsResponse(priority));
    }
}
