using HarborPortal.Data;
using HarborPortal.Features.Auth;
using HarborPortal.Features.Teams;

namespace HarborPortal.Features.Findings;

/// <summary>
/// Downloads of the queue's view: <c>/findings/export.csv|json</c> for the page's toolbar (the page's own query string)
/// and <c>/api/v1/findings/export?format=csv|json</c> for scripts. Every role may export what it may read: a developer's
/// export is scoped to their teams' projects before the query runs, like the page.
/// </summary>
public static class FindingsExportEndpoints
{
    public const string CsvPath = "/findings/export.csv";
    public const string JsonPath = "/findings/export.json";
    public const string ApiPath = FindingsEndpoints.ApiPath + "/export";

    public static IEndpointRouteBuilder MapFindingsExportEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet(CsvPath, (HttpContext context, PortalDbContext db, TimeProvider time) => ExportAsync(context, db, time, FindingExportFormat.Csv))
            .RequireAuthorization(PortalPolicies.Viewer).ExcludeFromDescription();
        endpoints.MapGet(JsonPath, (HttpContext context, PortalDbContext db, TimeProvider time) => ExportAsync(context, db, time, FindingExportFormat.Json))
            .RequireAuthorization(PortalPolicies.Viewer).ExcludeFromDescription();

        endpoints.MapGet(ApiPath, ApiExportAsync)
            .RequireAuthorization(PortalPolicies.Viewer)
            .WithTags("Findings")
            .WithSummary("Every finding matching the queue's filters (the query-string names of /findings), in the page's order, as one CSV or JSON file streamed as it is read.")
            .WithDescription("CSV: a header row, then one row per finding (RFC 4180, UTF-8; cells that start like a spreadsheet formula get a leading apostrophe). "
                + "JSON: an array of objects with the same columns (tags as an array). The file name carries the filter and the UTC time.")
            .Produces<string>(StatusCodes.Status200OK, "text/csv", "application/json")
            .ProducesValidationProblem();
        return endpoints;
    }

    /// <param name="format">csv (the default) or json.</param>
    private static Task<IResult> ApiExportAsync(HttpContext context, PortalDbContext db, TimeProvider time, string? format)
    {
        var parsed = (format ?? "csv").Trim().ToLowerInvariant() switch
        {
            "csv" => FindingExportFormat.Csv,
            "json" => FindingExportFormat.Json,
            _ => (FindingExportFormat?)null,
        };

        return parsed is { } known
            ? ExportAsync(context, db, time, known)
            : Task.FromResult<IResult>(TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["format"] = [$"'{format}' is not csv or json."] }));
    }

    private static async Task<IResult> ExportAsync(HttpContext context, PortalDbContext db, TimeProvider time, FindingExportFormat format)
    {
        // The page's whole query string is welcome (sort, group, a page's cursor): an export is the view from its first row.
        var filter = FindingFilter.Parse(context.Request.Query, out var errors);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "The export's filters could not be read.");
        }

        var scope = await TeamScopes.ForAsync(db, context.User, context.RequestAborted);
        return new FindingsExportResult(filter, scope, format, FindingsExport.FileName(filter, time.GetUtcNow(), format));
    }
}
