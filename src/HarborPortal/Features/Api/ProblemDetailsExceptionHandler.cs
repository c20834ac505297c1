using Microsoft.AspNetCore.Diagnostics;

namespace HarborPortal.Features.Api;

/// <summary>
/// Unhandled exceptions under <c>/api</c> become problem+json without internals (the middleware has logged them).
/// Declines everything else, so pages keep their error page.
/// </summary>
public sealed class ProblemDetailsExceptionHandler : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (!httpContext.Request.Path.StartsWithSegments("/api"))
        {
            return false;
        }

        // A malformed request says what was wrong with it; anything else says nothing about the server.
        var result = exception is BadHttpRequestException bad
            ? TypedResults.Problem(statusCode: bad.StatusCode, detail: bad.Message)
            : TypedResults.Problem(statusCode: StatusCodes.Status500InternalServerError, detail: "The portal could not complete the request. The error was logged.");
        await result.ExecuteAsync(httpContext);
        return true;
    }
}
