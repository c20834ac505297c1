using System.Diagnostics;
using Microsoft.AspNetCore.WebUtilities;

namespace HarborPortal.Features.Api;

/// <summary>
/// Under <c>/api</c>, problem details are written as problem+json whatever the caller accepts: the framework's writer
/// declines a browser's <c>Accept: text/html</c>, and status code pages would then answer in plain text.
/// Comes after the framework's writer, so it only answers what that one declined.
/// </summary>
public sealed class ApiProblemDetailsWriter : IProblemDetailsWriter
{
    public bool CanWrite(ProblemDetailsContext context) => context.HttpContext.Request.Path.StartsWithSegments("/api");

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        var http = context.HttpContext;
        var problem = context.ProblemDetails;
        problem.Status ??= http.Response.StatusCode;
        problem.Title ??= ReasonPhrases.GetReasonPhrase(problem.Status.Value);
        problem.Extensions.TryAdd("traceId", http.TraceIdentifier);
        return new ValueTask(http.Response.WriteAsJsonAsync(problem, options: null, contentType: "application/problem+json"));
    }
}
