using HarborPortal.Data;
using HarborPortal.Features.Auth;
using HarborPortal.Features.Connections;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace HarborPortal.Features.Locations;

/// <summary>
/// <c>GET/PUT /api/v1/connections/{id}/locations</c> for automation (Admin; writes with an API token, as all of
/// <c>/api/v1</c>), and the editor's htmx fragments under <c>/admin/connections/{id}/locations/…</c>.
/// </summary>
public static class LocationsEndpoints
{
    public const string ErrorKey = "locations";

    public static IEndpointRouteBuilder MapLocationsEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup(ConnectionEndpoints.ApiPath)
            .RequireAuthorization(PortalPolicies.Viewer)
            .RequireAuthorization(PortalPolicies.Admin)
            .AddEndpointFilter(ConnectionEndpoints.RefuseCookieWritesAsync)
            .WithTags("Locations");
        api.MapGet("/{id:long}/locations", GetAsync)
            .WithSummary("The connection's scanned locations; every project and every tagged artifact until some are saved.");
        api.MapPut("/{id:long}/locations", PutAsync)
            .WithSummary("Replaces the connection's scanned locations; 400 with the reasons when the selection cannot be saved.");

        // The fragments post the editor's form (the draft can list thousands of projects: too much for a query string),
        // so they carry its antiforgery token and the same form limit as the page.
        var fragments = endpoints.MapGroup("/admin/connections/{id:long}/locations")
            .RequireAuthorization(PortalPolicies.Admin)
            .WithMetadata(new RequireAntiforgeryTokenAttribute(), new RequestFormLimitsAttribute { ValueCountLimit = LocationsForm.MaxFormValues })
            .ExcludeFromDescription();
        fragments.MapPost("/tree", TreeAsync);
        fragments.MapPost("/repositories", RepositoriesAsync);
        fragments.MapPost("/choose", ChooseAsync);
        fragments.MapPost("/match", MatchAsync);
        fragments.MapPost("/preview", PreviewAsync);
        return endpoints;
    }

    private static async Task<Results<Ok<ScanLocations>, ProblemHttpResult>> GetAsync(long id, PortalDbContext db, CancellationToken cancellationToken) =>
        await db.HarborConnections.AnyAsync(c => c.Id == id, cancellationToken)
            ? TypedResults.Ok(await ConnectionLocations.ForAsync(db, id, cancellationToken))
            : NotFound(id);

    private static async Task<Results<Ok<ScanLocations>, ValidationProblem, ProblemHttpResult>> PutAsync(
        long id, ScanLocations selection, LocationsCommands commands, HttpContext context)
    {
        var result = await commands.SaveAsync(id, selection, context.User, CancellationToken.None);
        return result switch
        {
            { IsNotFound: true } => NotFound(id),
            { Saved: { } saved } => TypedResults.Ok(saved),
            _ => TypedResults.ValidationProblem(new Dictionary<string, string[]> { [ErrorKey] = [.. result.Errors] }),
        };
    }

    private static async Task<IResult> TreeAsync(long id, PortalDbContext db, LocationsHarbor harbor, HttpContext context)
    {
        if (await ReadAsync(id, db, context) is not { } request)
        {
            return TypedResults.NotFound();
        }

        var (search, searchProblem) = LocationsHarbor.CleanSearch(Value(request.Form, context, "q"));
        var page = PageNumber(Value(request.Form, context, "page"));
        var (settings, problem) = harbor.SettingsFor(request.Connection);
        var view = new ProjectTreeView
        {
            ConnectionId = id,
            Search = search,
            SearchProblem = searchProblem,
            Page = page,
            Listed = request.Draft.Listed,
            Problem = problem,
            Projects = settings is null || searchProblem is not null ? null : await harbor.ProjectsAsync(settings, search, page, context.RequestAborted),
        };

        // The address bar follows the tree, so a reload or a shared link shows the same page of projects.
        context.Response.Headers["HX-Push-Url"] = LocationsUrls.Page(id, search, page);
        return new RazorComponentResult<ProjectTreeResults>(new { View = view });
    }

    private static async Task<IResult> RepositoriesAsync(long id, PortalDbContext db, LocationsHarbor harbor, HttpContext context)
    {
        if (await ReadAsync(id, db, context) is not { } request || ProjectName(context) is not { } project)
        {
            return TypedResults.NotFound();
        }

        var (search, searchProblem) = LocationsHarbor.CleanSearch(Value(request.Form, context, "rq"));
        var page = PageNumber(Value(request.Form, context, "rpage"));
        var (settings, problem) = harbor.SettingsFor(request.Connection);
        var view = new RepositoryListView
        {
            ConnectionId = id,
            Project = project,
            Search = search,
            SearchProblem = searchProblem,
            Page = page,
            Problem = problem,
            Selection = request.Draft.ToSelection(),
            TreeSearch = request.Form[LocationsForm.TreeQuery].ToString(),
            TreePage = PageNumber(request.Form[LocationsForm.TreePage]),
            Repositories = settings is null || searchProblem is not null ? null : await harbor.RepositoriesAsync(settings, project, search, page, context.RequestAborted),
        };
        return new RazorComponentResult<RepositoryList>(new { View = view });
    }

    private static async Task<IResult> ChooseAsync(long id, PortalDbContext db, HttpContext context)
    {
        if (await ReadAsync(id, db, context) is not { } request || ProjectName(context) is not { } project)
        {
            return TypedResults.NotFound();
        }

        // Already a row of the form (a second tick from another page of the tree): only the tick changes.
        var listed = request.Form[LocationsForm.Listed].Contains(project);
        var row = request.Draft.Projects.FirstOrDefault(p => p.Name == project) ?? new DraftProject { Name = project };
        context.Response.Headers["HX-Trigger"] = "locations-changed";
        return new RazorComponentResult<ChooseResult>(new { ConnectionId = id, Project = row, AddRow = !listed });
    }

    private static async Task<IResult> MatchAsync(long id, PortalDbContext db, LocationsHarbor harbor, HttpContext context)
    {
        if (await ReadAsync(id, db, context) is not { } request || ProjectName(context) is not { } project)
        {
            return TypedResults.NotFound();
        }

        var row = request.Draft.Projects.FirstOrDefault(p => p.Name == project) ?? new DraftProject { Name = project };
        var rules = row.ToLocation();
        if (rules.Include.Concat(rules.Exclude).Select(p => Glob.Problem(p) is { } why ? $"pattern '{p}' {why}" : null).FirstOrDefault(p => p is not null) is { } bad)
        {
            return new RazorComponentResult<MatchHint>(new { Failure = bad });
        }

        var (settings, problem) = harbor.SettingsFor(request.Connection);
        if (settings is null)
        {
            return new RazorComponentResult<MatchHint>(new { Failure = problem });
        }

        var answer = await harbor.MatchAsync(id, settings, rules, context.RequestAborted);
        return new RazorComponentResult<MatchHint>(new { Match = answer.Value, Failure = answer.Failure, row.AllRepositories });
    }

    private static async Task<IResult> PreviewAsync(long id, PortalDbContext db, LocationsHarbor harbor, LocationsPreview previews, HttpContext context)
    {
        if (await ReadAsync(id, db, context) is not { } request)
        {
            return TypedResults.NotFound();
        }

        var selection = request.Draft.ToSelection();
        if (selection.Validate() is { Count: > 0 } errors)
        {
            return new RazorComponentResult<LocationsPreviewPanel>(new { Problem = string.Join(" ", errors) });
        }

        var (settings, problem) = harbor.SettingsFor(request.Connection);
        if (settings is null)
        {
            return new RazorComponentResult<LocationsPreviewPanel>(new { Problem = problem });
        }

        var result = await previews.CountAsync(settings, selection, context.RequestAborted);
        return new RazorComponentResult<LocationsPreviewPanel>(new { Result = result });
    }

    private static async Task<FragmentRequest?> ReadAsync(long id, PortalDbContext db, HttpContext context)
    {
        var connection = await db.HarborConnections.AsNoTracking().SingleOrDefaultAsync(c => c.Id == id, context.RequestAborted);
        if (connection is null)
        {
            return null;
        }

        var form = context.Request.HasFormContentType ? await context.Request.ReadFormAsync(context.RequestAborted) : FormCollection.Empty;
        return new FragmentRequest(connection, form, LocationsDraft.Read(form));
    }

    // A search box posts its value; a link carries it in its address.
    private static string? Value(IFormCollection form, HttpContext context, string name) =>
        form.ContainsKey(name) ? form[name].ToString() : context.Request.Query[name].ToString();

    private static int PageNumber(string? text) => int.TryParse(text, out var page) && page > 0 ? page : 1;

    private static string? ProjectName(HttpContext context) =>
        context.Request.Query["project"].ToString() is var name && LocationsHarbor.IsName(name) ? name : null;

    private static ProblemHttpResult NotFound(long id) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not Found", detail: $"There is no connection {id}.");

    private sealed record FragmentRequest(HarborConnection Connection, IFormCollection Form, LocationsDraft Draft);
}
