using HarborPortal.Data;
using HarborPortal.Features.Api;
using HarborPortal.Features.Auth;
using HarborPortal.Features.Connections;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace HarborPortal.Features.ThreatData;

/// <summary>One feed's state as the API shows it.</summary>
public sealed record ThreatFeedResponse(
    ThreatFeedKind Feed, string Name, bool Enabled, string Url, bool UrlIsDefault, string? Source, DateTimeOffset? DataDate, string? DataVersion,
    DateTimeOffset? FetchedAt, int EntryCount, DateTimeOffset? LastAttemptAt, string? LastError, bool FetchPending);

/// <summary><c>/admin/threat-data</c> form posts (Admin; antiforgery) and <c>/api/v1/threat-data</c>.</summary>
public static class ThreatDataEndpoints
{
    public const string PagePath = "/admin/threat-data";

    public static IEndpointRouteBuilder MapThreatDataEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var admin = endpoints.MapGroup(PagePath).RequireAuthorization(PortalPolicies.Admin).ExcludeFromDescription();
        admin.MapPost("/{feed}/settings", SaveSettingsAsync);
        admin.MapPost("/{feed}/fetch", FetchAsync);
        admin.MapPost("/{feed}/upload", UploadFormAsync);
        // Polled by htmx while a "Fetch now" is under way.
        admin.MapGet("/{feed}/progress", ProgressAsync);

        // Viewer is the /api/v1 baseline every API endpoint names; Security narrows it, and Admin the upload.
        var api = endpoints.MapGroup(ApiEndpoints.Prefix + "/threat-data")
            .RequireAuthorization(PortalPolicies.Viewer)
            .RequireAuthorization(PortalPolicies.Security)
            .AddEndpointFilter(ConnectionEndpoints.RefuseCookieWritesAsync)
            .WithTags("Threat data");
        api.MapGet("/", GetStatusAsync).WithSummary("The CISA KEV and EPSS feeds: enabled, URL, the data's date, entry count, last fetch and last error.");
        api.MapPost("/{feed}/upload", UploadApiAsync).RequireAuthorization(PortalPolicies.Admin).DisableAntiforgery()
            .WithSummary("Replaces a feed's data with the request body (KEV JSON, or EPSS CSV plain or gzip), for sites without internet access.");
        return endpoints;
    }

    public static bool TryParse(string? value, out ThreatFeedKind kind) =>
        Enum.TryParse(value, ignoreCase: true, out kind) && Enum.IsDefined(kind);

    public static async Task<List<ThreatFeedResponse>> StatusAsync(PortalDbContext db, ThreatDataOptions options, CancellationToken cancellationToken)
    {
        var stored = await db.ThreatFeeds.AsNoTracking().ToListAsync(cancellationToken);
        return [.. Enum.GetValues<ThreatFeedKind>().Select(kind =>
        {
            var feed = stored.SingleOrDefault(f => f.Kind == kind) ?? new ThreatFeed { Kind = kind };
            return new ThreatFeedResponse(
                kind, ThreatDataSetup.Describe(kind), feed.Enabled, feed.Url ?? options.DefaultUrl(kind), feed.Url is null, feed.Source, feed.DataDate, feed.DataVersion,
                feed.FetchedAt, feed.EntryCount, feed.LastAttemptAt, feed.LastError, feed.FetchPending);
        })];
    }

    private static async Task<IResult> SaveSettingsAsync(string feed, [FromForm] string? enabled, [FromForm] string? url, ThreatDataCommands commands, HttpContext context)
    {
        if (!TryParse(feed, out var kind))
        {
            return TypedResults.NotFound();
        }

        var error = await commands.SaveSettingsAsync(kind, enabled is "true" or "on", url, context.User, context.RequestAborted);
        return Back(error is null ? $"saved={kind}" : $"error={Uri.EscapeDataString(error)}");
    }

    private static async Task<IResult> FetchAsync(string feed, ThreatDataCommands commands, HttpContext context)
    {
        if (!TryParse(feed, out var kind))
        {
            return TypedResults.NotFound();
        }

        await commands.RequestFetchAsync(kind, context.User, context.RequestAborted);
        return Back($"fetching={kind}");
    }

    private static async Task<IResult> UploadFormAsync(string feed, IFormFile? file, ThreatDataCommands commands, HttpContext context)
    {
        if (!TryParse(feed, out var kind))
        {
            return TypedResults.NotFound();
        }

        if (file is null || file.Length == 0)
        {
            return Back($"error={Uri.EscapeDataString("Choose a file to upload.")}");
        }

        await using var stream = file.OpenReadStream();
        var result = await commands.UploadAsync(kind, stream, file.FileName, context.User, context.RequestAborted);
        return Back(result.Succeeded ? $"done={Uri.EscapeDataString(result.Message)}" : $"error={Uri.EscapeDataString(result.Message)}");
    }

    private static async Task<IResult> ProgressAsync(string feed, PortalDbContext db, HttpContext context, CancellationToken cancellationToken)
    {
        if (!TryParse(feed, out var kind))
        {
            return TypedResults.NotFound();
        }

        var stored = await db.ThreatFeeds.AsNoTracking().SingleOrDefaultAsync(f => f.Kind == kind, cancellationToken);
        if (stored?.FetchPending == true)
        {
            return TypedResults.Content(ProgressHtml(kind), "text/html");
        }

        // Done: the status card, counts and error are stale, so htmx reloads the page whole.
        context.Response.Headers["HX-Refresh"] = "true";
        return TypedResults.Content($"<div data-testid=\"{Id(kind)}-fetch-done\">Done.</div>", "text/html");
    }

    /// <summary>The placeholder that polls while a fetch is under way; the page renders the same one.</summary>
    public static string ProgressHtml(ThreatFeedKind kind) =>
        $"""<div class="alert alert-info py-2 small" role="status" data-testid="{Id(kind)}-fetch-pending" hx-get="{PagePath}/{Id(kind)}/progress" hx-trigger="every 2s" hx-swap="outerHTML"><span class="spinner-border spinner-border-sm me-1" aria-hidden="true"></span> Fetching… <a href="{PagePath}">refresh</a></div>""";

    public static string Id(ThreatFeedKind kind) => kind.ToString().ToLowerInvariant();

    private static async Task<Ok<List<ThreatFeedResponse>>> GetStatusAsync(PortalDbContext db, IOptions<ThreatDataOptions> options, CancellationToken cancellationToken) =>
        TypedResults.Ok(await StatusAsync(db, options.Value, cancellationToken));

    private static async Task<IResult> UploadApiAsync(string feed, HttpRequest request, ThreatDataCommands commands, HttpContext context)
    {
        if (!TryParse(feed, out var kind))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such feed", detail: "The feeds are 'kev' and 'epss'.");
        }

        var result = await commands.UploadAsync(kind, request.Body, $"api-{Id(kind)}", context.User, context.RequestAborted);
        return result.Succeeded
            ? TypedResults.Ok(result)
            : TypedResults.Problem(statusCode: StatusCodes.Status422UnprocessableEntity, title: "The file was not stored", detail: result.Message);
    }

    private static RedirectHttpResult Back(string query) => TypedResults.LocalRedirect($"{PagePath}?{query}");
}
