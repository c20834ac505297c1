using System.Globalization;
using HarborPortal.Data;
using HarborPortal.Features.Auth;
using HarborPortal.Features.Connections;
using HarborPortal.Features.Findings;
using HarborPortal.Features.Teams;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;

namespace HarborPortal.Features.Triage;

/// <summary>
/// Triage's form posts (the finding page, the queue's bulk bar) and its API. Security and Admin triage and assign;
/// Developers comment on their teams' findings; every finding outside the caller's scope is a 404, like one that does
/// not exist. API writes need an API token; form posts carry the antiforgery token (bound from the form).
/// </summary>
public static class TriageEndpoints
{
    public static IEndpointRouteBuilder MapTriageEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var forms = endpoints.MapGroup("/findings").ExcludeFromDescription();
        forms.MapPost("/{id:long}/triage", TriageFormAsync).RequireAuthorization(PortalPolicies.Security);
        forms.MapPost("/{id:long}/assign", AssignFormAsync).RequireAuthorization(PortalPolicies.Security);
        forms.MapPost("/{id:long}/comments", CommentFormAsync).RequireAuthorization(PortalPolicies.Developer);
        forms.MapPost("/{id:long}/decision/end", EndDecisionFormAsync).RequireAuthorization(PortalPolicies.Security);
        forms.MapPost("/bulk", BulkFormAsync).RequireAuthorization(PortalPolicies.Security);
        forms.MapGet("/suggest-assignee", SuggestAssigneeAsync).RequireAuthorization(PortalPolicies.Security);

        var api = endpoints.MapGroup(FindingsEndpoints.ApiPath)
            .RequireAuthorization(PortalPolicies.Viewer)
            .AddEndpointFilter(ConnectionEndpoints.RefuseCookieWritesAsync)
            .WithTags("Triage");
        api.MapPost("/{id:long}/triage", TriageApiAsync).RequireAuthorization(PortalPolicies.Security)
            .WithSummary("Sets a finding's status: Open, InProgress, RiskAccepted (justification + future expiresOn) or FalsePositive (justification); scope Digest|Repository|Project.");
        api.MapPost("/triage", BulkApiAsync).RequireAuthorization(PortalPolicies.Security)
            .WithSummary("Bulk triage or assignment of ids, or of every finding matching filter (the queue's query string); one audit event.");
        api.MapPost("/{id:long}/assign", AssignApiAsync).RequireAuthorization(PortalPolicies.Security)
            .WithSummary("Assigns a finding to a portal user (assignee, a user name) and/or a team (teamId); both null unassigns.");
        api.MapPost("/{id:long}/comments", CommentApiAsync).RequireAuthorization(PortalPolicies.Developer)
            .WithSummary("Adds a plain-text comment (Security/Admin on any finding, Developers on their teams' findings).");
        api.MapGet("/{id:long}/timeline", TimelineApiAsync)
            .WithSummary("The finding's status and the decision behind it, its assignment, and its timeline (events, decisions, comments), newest first.");
        return endpoints;
    }

    /// <summary>The ids of every finding matching the queue's filter in the caller's scope (what "apply to all matching" changes).</summary>
    public static async Task<List<long>> MatchingIdsAsync(PortalDbContext db, FindingFilter filter, FindingScope scope, CancellationToken cancellationToken)
    {
        var sql = new FindingSql(filter with { Group = FindingGrouping.None }, scope, SqlDialect.For(db));
        var ids = new List<long>();
        var connection = db.Database.GetDbConnection();
        var opened = connection.State != System.Data.ConnectionState.Open;
        if (opened)
        {
            await connection.OpenAsync(cancellationToken);
        }

        try
        {
            await using var command = connection.CreateCommand();
            command.CommandText = $"SELECT \"Id\" FROM \"Findings\" WHERE {FindingSql.Where(sql.Terms)} ORDER BY \"Id\"";
            sql.AddParametersTo(command);

            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                ids.Add(reader.GetInt64(0));
            }
        }
        finally
        {
            if (opened)
            {
                await connection.CloseAsync();
            }
        }

        return ids;
    }

    // ---- forms ----

    private static async Task<IResult> TriageFormAsync(long id, IFormCollection form, TriageCommands commands, PortalDbContext db, HttpContext context)
    {
        if (await VisibleAsync(db, context, id) is null)
        {
            return TypedResults.NotFound();
        }

        var change = ReadChange(form, out var errors);
        if (errors.Count > 0)
        {
            return Back(id, error: First(errors));
        }

        try
        {
            var outcome = await commands.TriageAsync([id], change!, context.User, null, context.RequestAborted);
            if (outcome.Selected == 0)
            {
                return Back(id, error: "A resolved finding cannot be triaged: the sync reopens it when the scanner reports it again.");
            }

            return Back(id, done: $"{TriageCommands.Label(change!.Status)}: {outcome.Changed} finding{(outcome.Changed == 1 ? "" : "s")} changed.");
        }
        catch (TriageValidationException e)
        {
            return Back(id, error: e.Message);
        }
    }

    private static async Task<IResult> AssignFormAsync(long id, IFormCollection form, TriageCommands commands, PortalDbContext db, HttpContext context)
    {
        if (await VisibleAsync(db, context, id) is null)
        {
            return TypedResults.NotFound();
        }

        if (!TryReadTeam(form["team"], out var team))
        {
            return Back(id, error: "Choose a team from the list.");
        }

        try
        {
            await commands.AssignAsync([id], new AssignmentChange(form["assignee"], team), context.User, null, context.RequestAborted);
            return Back(id, done: "Assignment saved.");
        }
        catch (TriageValidationException e)
        {
            return Back(id, error: e.Message);
        }
    }

    private static async Task<IResult> CommentFormAsync(long id, IFormCollection form, TriageCommands commands, PortalDbContext db, HttpContext context)
    {
        if (await VisibleAsync(db, context, id) is null)
        {
            return TypedResults.NotFound();
        }

        try
        {
            await commands.CommentAsync(id, form["text"], context.User, context.RequestAborted);
            return Back(id, done: "Comment added.");
        }
        catch (TriageValidationException e)
        {
            return Back(id, error: e.Message);
        }
    }

    private static async Task<IResult> EndDecisionFormAsync(long id, IFormCollection form, TriageCommands commands, PortalDbContext db, HttpContext context)
    {
        if (await VisibleAsync(db, context, id) is not { TriageDecisionId: { } decisionId })
        {
            return TypedResults.NotFound();
        }

        try
        {
            var changed = await commands.EndDecisionAsync(decisionId, form["why"], context.User, context.RequestAborted);
            return Back(id, done: $"Decision #{decisionId} ended: {changed} finding{(changed == 1 ? "" : "s")} back to Open.");
        }
        catch (TriageValidationException e)
        {
            return Back(id, error: e.Message);
        }
    }

    /// <summary>The queue's bulk bar: the ticked rows (ids) or, with all=1, every finding matching the filter it was shown with.</summary>
    private static async Task<IResult> BulkFormAsync(IFormCollection form, TriageCommands commands, PortalDbContext db, HttpContext context)
    {
        var query = form["filter"].ToString().TrimStart('?');
        string BackToQueue(string key, string message) =>
            "/findings?" + (query.Length > 0 ? query + "&" : "") + $"{key}={Uri.EscapeDataString(message)}";

        var (ids, filterError) = await SelectAsync(db, context, form["all"] == "1" ? null : ParseIds(form["ids"]), form["all"] == "1" ? query : null);
        if (filterError is not null)
        {
            return TypedResults.LocalRedirect(BackToQueue("bulkError", filterError));
        }

        if (ids.Count == 0)
        {
            return TypedResults.LocalRedirect(BackToQueue("bulkError", "Tick at least one finding, or apply to all matching."));
        }

        try
        {
            TriageOutcome outcome;
            var describedFilter = form["all"] == "1" ? (query.Length == 0 ? "(everything)" : query) : null;
            if (form["action"] == "assign")
            {
                if (!TryReadTeam(form["team"], out var team))
                {
                    return TypedResults.LocalRedirect(BackToQueue("bulkError", "Choose a team from the list."));
                }

                outcome = await commands.AssignAsync(ids, new AssignmentChange(form["assignee"], team), context.User, describedFilter, context.RequestAborted);
            }
            else
            {
                var change = ReadChange(form, out var errors);
                if (errors.Count > 0)
                {
                    return TypedResults.LocalRedirect(BackToQueue("bulkError", First(errors)));
                }

                outcome = await commands.TriageAsync(ids, change!, context.User, describedFilter, context.RequestAborted);
            }

            return TypedResults.LocalRedirect(BackToQueue("bulkDone", $"{outcome.Selected} selected, {outcome.Changed} changed."));
        }
        catch (TriageValidationException e)
        {
            return TypedResults.LocalRedirect(BackToQueue("bulkError", e.Message));
        }
    }

    private static async Task<IResult> SuggestAssigneeAsync(HttpContext context, PortalDbContext db)
    {
        // Type-ahead over the people who have signed in: a prefix of the user name, a few at a time.
        var text = context.Request.Query["assignee"].ToString().Trim();
        var names = await db.UserAccounts.AsNoTracking()
            .Where(u => u.UserName.StartsWith(text))
            .OrderBy(u => u.UserName).Select(u => u.UserName).Distinct().Take(10).ToListAsync(context.RequestAborted);
        return new RazorComponentResult<Suggestions>(new { Values = names });
    }

    // ---- API ----

    private static async Task<Results<Ok<TriageResultResponse>, ValidationProblem, ProblemHttpResult>> TriageApiAsync(
        long id, TriageRequest request, TriageCommands commands, PortalDbContext db, HttpContext context)
    {
        if (await VisibleAsync(db, context, id) is not { } finding)
        {
            return NotFound(id);
        }

        if (finding.Status == FindingStatus.Resolved)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["status"] = ["A resolved finding cannot be triaged: the sync reopens it when the scanner reports it again."],
            });
        }

        if (request.Status is not { } status)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["status"] = ["Required: Open, InProgress, RiskAccepted or FalsePositive."] });
        }

        try
        {
            var outcome = await commands.TriageAsync([id], new TriageChange(status, request.Justification, request.ExpiresOn, request.Scope ?? TriageScope.Repository),
                context.User, null, context.RequestAborted);
            return TypedResults.Ok(new TriageResultResponse(outcome.Selected, outcome.Changed, outcome.DecisionIds));
        }
        catch (TriageValidationException e)
        {
            return TypedResults.ValidationProblem(e.Errors);
        }
    }

    private static async Task<Results<Ok<TriageResultResponse>, ValidationProblem>> BulkApiAsync(
        BulkTriageRequest request, TriageCommands commands, PortalDbContext db, HttpContext context)
    {
        if ((request.Ids is null) == (request.Filter is null))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["ids"] = ["Give either ids or filter (the queue's query string)."] });
        }

        var (ids, filterError) = await SelectAsync(db, context, request.Ids, request.Filter?.TrimStart('?'));
        if (filterError is not null)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["filter"] = [filterError] });
        }

        try
        {
            var described = request.Filter is { } f ? (f.Length == 0 ? "(everything)" : f) : null;
            TriageOutcome outcome;
            if (request.Assign == true)
            {
                outcome = await commands.AssignAsync(ids, new AssignmentChange(request.Assignee, request.TeamId), context.User, described, context.RequestAborted);
            }
            else if (request.Status is { } status)
            {
                outcome = await commands.TriageAsync(ids, new TriageChange(status, request.Justification, request.ExpiresOn, request.Scope ?? TriageScope.Repository),
                    context.User, described, context.RequestAborted);
            }
            else
            {
                return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["status"] = ["Give a status, or assign: true with an assignee and/or teamId."] });
            }

            return TypedResults.Ok(new TriageResultResponse(outcome.Selected, outcome.Changed, outcome.DecisionIds));
        }
        catch (TriageValidationException e)
        {
            return TypedResults.ValidationProblem(e.Errors);
        }
    }

    private static async Task<Results<Ok<TriageResultResponse>, ValidationProblem, ProblemHttpResult>> AssignApiAsync(
        long id, AssignRequest request, TriageCommands commands, PortalDbContext db, HttpContext context)
    {
        if (await VisibleAsync(db, context, id) is null)
        {
            return NotFound(id);
        }

        try
        {
            var outcome = await commands.AssignAsync([id], new AssignmentChange(request.Assignee, request.TeamId), context.User, null, context.RequestAborted);
            return TypedResults.Ok(new TriageResultResponse(outcome.Selected, outcome.Changed, []));
        }
        catch (TriageValidationException e)
        {
            return TypedResults.ValidationProblem(e.Errors);
        }
    }

    private static async Task<Results<Created<CommentResponse>, ValidationProblem, ProblemHttpResult>> CommentApiAsync(
        long id, CommentRequest request, TriageCommands commands, PortalDbContext db, HttpContext context)
    {
        if (await VisibleAsync(db, context, id) is null)
        {
            return NotFound(id);
        }

        try
        {
            var comment = await commands.CommentAsync(id, request.Text, context.User, context.RequestAborted);
            return TypedResults.Created($"{FindingsEndpoints.ApiPath}/{id}/timeline",
                new CommentResponse(comment.Id, comment.FindingId, comment.Author, comment.At, comment.Text));
        }
        catch (TriageValidationException e)
        {
            return TypedResults.ValidationProblem(e.Errors);
        }
    }

    private static async Task<Results<Ok<TimelineResponse>, ProblemHttpResult>> TimelineApiAsync(
        long id, PortalDbContext db, FindingTimelineLoader loader, HttpContext context)
    {
        if (await VisibleAsync(db, context, id) is not { } finding)
        {
            return NotFound(id);
        }

        var view = await loader.LoadAsync(finding, context.RequestAborted);
        return TypedResults.Ok(new TimelineResponse(finding.Id, finding.Status, view.Decision?.AsResponse(), finding.AssignedTo, finding.AssignedTeamId, view.Timeline));
    }

    // ---- helpers ----

    // The finding when the caller may read it; null for one that does not exist or is outside a developer's teams (same answer).
    private static async Task<Finding?> VisibleAsync(PortalDbContext db, HttpContext context, long id)
    {
        var scope = await TeamScopes.ForAsync(db, context.User, context.RequestAborted);
        var finding = await db.Findings.AsNoTracking().SingleOrDefaultAsync(f => f.Id == id, context.RequestAborted);
        return finding is not null && scope.Allows(finding.ProjectName) ? finding : null;
    }

    private static async Task<(List<long> Ids, string? Error)> SelectAsync(PortalDbContext db, HttpContext context, IReadOnlyList<long>? ids, string? filterQuery)
    {
        var scope = await TeamScopes.ForAsync(db, context.User, context.RequestAborted);
        if (filterQuery is not null)
        {
            var filter = FindingFilter.Parse(QueryHelpers.ParseQuery(filterQuery).Where(p => p.Key is not ("after" or "limit")), out var errors);
            return errors.Count > 0 ? ([], First(errors)) : (await MatchingIdsAsync(db, filter, scope, context.RequestAborted), null);
        }

        // Named ids are kept only when the caller may read them.
        var wanted = (ids ?? []).Distinct().ToList();
        var visible = new List<long>();
        foreach (var chunk in wanted.Chunk(500))
        {
            var rows = await db.Findings.AsNoTracking().Where(f => chunk.Contains(f.Id)).Select(f => new { f.Id, f.ProjectName }).ToListAsync(context.RequestAborted);
            visible.AddRange(rows.Where(r => scope.Allows(r.ProjectName)).Select(r => r.Id));
        }

        return (visible, null);
    }

    private static TriageChange? ReadChange(IFormCollection form, out Dictionary<string, string[]> errors)
    {
        errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (!Enum.TryParse<FindingStatus>(form["status"], ignoreCase: true, out var status) || !Enum.IsDefined(status) || int.TryParse(form["status"], out _))
        {
            errors["status"] = ["Choose a status."];
            return null;
        }

        DateOnly? expires = null;
        var expiresText = form["expiresOn"].ToString().Trim();
        if (expiresText.Length > 0)
        {
            if (DateOnly.TryParseExact(expiresText, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
            {
                expires = date;
            }
            else
            {
                errors["expiresOn"] = [$"'{expiresText}' is not a date (yyyy-MM-dd)."];
            }
        }

        var scope = TriageScope.Repository;
        var scopeText = form["scope"].ToString();
        if (scopeText.Length > 0 && (!Enum.TryParse(scopeText, ignoreCase: true, out scope) || !Enum.IsDefined(scope) || int.TryParse(scopeText, out _)))
        {
            errors["scope"] = ["Not one of: Digest, Repository, Project."];
        }

        return new TriageChange(status, form["justification"], expires, scope);
    }

    private static bool TryReadTeam(string? text, out long? team)
    {
        team = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }

        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
        {
            team = id;
            return true;
        }

        return false;
    }

    private static List<long> ParseIds(Microsoft.Extensions.Primitives.StringValues values) =>
        [.. values.SelectMany(v => (v ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Select(v => long.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : -1).Where(id => id > 0)];

    private static string First(Dictionary<string, string[]> errors) => string.Join(" ", errors.SelectMany(e => e.Value));

    private static RedirectHttpResult Back(long id, string? done = null, string? error = null) =>
        TypedResults.LocalRedirect($"/findings/{id}" + (error is not null ? $"?error={Uri.EscapeDataString(error)}" : done is not null ? $"?done={Uri.EscapeDataString(done)}" : "") + "#triage");

    private static ProblemHttpResult NotFound(long id) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not Found", detail: $"There is no finding {id}.");
}
