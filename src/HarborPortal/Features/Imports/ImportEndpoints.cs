using HarborPortal.Features.Auth;
using HarborPortal.Features.Connections;
using HarborPortal.Features.Findings;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace HarborPortal.Features.Imports;

/// <summary>
/// Report uploads: the form of <c>/findings/import</c> (antiforgery, then back to the page with the result) and
/// <c>POST /api/v1/findings/imports</c> (an API token: the session cookie only reads the API). Security and Admin only.
/// </summary>
public static class ImportEndpoints
{
    public const string PagePath = "/findings/import";
    public const string FormPath = PagePath + "/upload";
    public const string ApiPath = FindingsEndpoints.ApiPath + "/imports";

    // Room for the form's other fields and the multipart framing around the file.
    private const long FormOverheadBytes = 1024 * 1024;

    public static IEndpointRouteBuilder MapImportEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var limit = new RequestSizeLimit(endpoints.ServiceProvider.GetRequiredService<IOptions<ImportOptions>>().Value.MaxFileBytes + FormOverheadBytes);

        endpoints.MapPost(FormPath, UploadFormAsync)
            .RequireAuthorization(PortalPolicies.Security)
            .WithMetadata(limit)
            .ExcludeFromDescription();

        endpoints.MapPost(ApiPath, UploadApiAsync)
            .RequireAuthorization(PortalPolicies.Viewer)
            .RequireAuthorization(PortalPolicies.Security)
            .AddEndpointFilter(ConnectionEndpoints.RefuseCookieWritesAsync)
            // An API token is the credential; there is no cookie for a forged request to ride on.
            .DisableAntiforgery()
            .WithMetadata(limit)
            .WithTags("Findings")
            .WithSummary("Imports a Trivy JSON report or a SARIF 2.1.0 log for an image (multipart: file, connectionId, image, optional format=auto|trivy|sarif); "
                + "its results become findings of the source tool 'Trivy (import)' or 'SARIF: <tool>', deduplicated, and the tool's findings of the image "
                + "the file no longer has are resolved.");
        return endpoints;
    }

    private static async Task<RedirectHttpResult> UploadFormAsync(
        IFormFile? file, [FromForm] string? connectionId, [FromForm] string? image, [FromForm] string? format, ReportImporter importer, HttpContext context)
    {
        var outcome = await importer.ImportAsync(new ImportRequest(file, connectionId, image, format), context.User, context.RequestAborted);

        // Post, redirect, get: a reload of the result page never uploads twice. The form's values come back with an error.
        var query = outcome.Summary is { } s
            ? QueryString.Create(new Dictionary<string, string?>
            {
                ["imported"] = s.Image,
                ["file"] = s.FileName,
                ["tools"] = string.Join(',', s.SourceTools),
                ["new"] = Number(s.Counts.New),
                ["updated"] = Number(s.Counts.Updated),
                ["resolved"] = Number(s.Counts.Resolved),
                ["reopened"] = Number(s.Counts.Reopened),
                ["unchanged"] = Number(s.Counts.Unchanged),
            })
            : QueryString.Create(new Dictionary<string, string?> { ["error"] = outcome.Error, ["connectionId"] = connectionId, ["image"] = image, ["format"] = format });
        return TypedResults.LocalRedirect(PagePath + query.ToUriComponent());
    }

    private static async Task<Results<Ok<ImportResponse>, ValidationProblem>> UploadApiAsync(
        IFormFile? file, [FromForm] string? connectionId, [FromForm] string? image, [FromForm] string? format, ReportImporter importer, HttpContext context)
    {
        var outcome = await importer.ImportAsync(new ImportRequest(file, connectionId, image, format), context.User, context.RequestAborted);
        return outcome.Summary is { } summary
            ? TypedResults.Ok(summary.AsResponse())
            : TypedResults.ValidationProblem(new Dictionary<string, string[]> { [outcome.Field!] = [outcome.Error!] }, detail: outcome.Error, title: "Nothing was imported");
    }

    private static string Number(int value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private sealed class RequestSizeLimit(long bytes) : IRequestSizeLimitMetadata
    {
        public long? MaxRequestBodySize => bytes;
    }
}
