using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Diagnostics;

namespace HarborPortal.Web;

/// <summary>
/// What a failed request shows. API callers get problem+json; people get <c>/error/{status}</c>, a page that
/// says what happened and never how.
/// </summary>
public static class ErrorPages
{
    public static IApplicationBuilder UsePortalErrorPages(this IApplicationBuilder app)
    {
        app.UseWhen(c => c.Request.Path.StartsWithSegments("/api"), api => api.UseExceptionHandler().UseStatusCodePages());
        app.UseWhen(c => !c.Request.Path.StartsWithSegments("/api"), pages =>
        {
            pages.UseExceptionHandler("/error/500", createScopeForErrors: true);
            pages.UseStatusCodePages(context => ReExecuteAsGetAsync(context.HttpContext, context.HttpContext.Response.StatusCode, context.Next));
        });
        return app;
    }

    /// <summary>
    /// A failed form post must still get its error page. The built-in re-execution keeps the method, and a page
    /// component answering a POST expects its own form (and antiforgery token), so the error page would itself
    /// fail with 400: re-execute as a GET instead.
    /// </summary>
    private static async Task ReExecuteAsGetAsync(HttpContext context, int statusCode, RequestDelegate next)
    {
        var request = context.Request;
        var (originalPath, originalQuery, originalMethod) = (request.Path, request.QueryString, request.Method);
        var endpoint = context.GetEndpoint();
        var routeValues = new RouteValueDictionary(request.RouteValues);

        context.Features.Set<IStatusCodeReExecuteFeature>(new StatusCodeReExecuteFeature
        {
            OriginalPath = originalPath.Value ?? "",
            OriginalPathBase = request.PathBase.Value ?? "",
            OriginalQueryString = originalQuery.HasValue ? originalQuery.Value : null,
            Endpoint = endpoint,
            RouteValues = routeValues,
        });
        context.SetEndpoint(null);
        request.RouteValues.Clear();
        request.Path = $"/error/{statusCode}";
        request.QueryString = QueryString.Empty;
        request.Method = HttpMethods.Get;
        context.Features.Set<IAntiforgeryValidationFeature?>(null);

        // A fresh scope: a page that set 404 while rendering has already initialised this request's
        // NavigationManager, and rendering the error page in the same scope would fail.
        var originalServices = context.RequestServices;
        await using var scope = originalServices.GetRequiredService<IServiceScopeFactory>().CreateAsyncScope();
        context.RequestServices = scope.ServiceProvider;
        try
        {
            context.Response.StatusCode = statusCode;
            await next(context);
        }
        finally
        {
            context.RequestServices = originalServices;
            request.Path = originalPath;
            request.QueryString = originalQuery;
            request.Method = originalMethod;
            context.Features.Set<IStatusCodeReExecuteFeature?>(null);
        }
    }
}

public static class AntiforgeryEnforcement
{
    /// <summary>
    /// A form post whose antiforgery token is missing or wrong ends here with 400, before any endpoint binds the
    /// form: minimal API handlers would otherwise throw while reading it, and the user would see a 500.
    /// </summary>
    public static IApplicationBuilder RejectInvalidAntiforgeryTokens(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            if (context.Features.Get<IAntiforgeryValidationFeature>() is { IsValid: false })
            {
                context.Response.StatusCode = StatusCodes.Status400BadRequest;
                return Task.CompletedTask;
            }

            return next(context);
        });
}
