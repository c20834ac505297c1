using System.Diagnostics;

namespace HarborPortal.Features.Operations;

/// <summary>
/// Gives every request a correlation id, in its log scope and in the <c>X-Correlation-Id</c> response header, so that a
/// user's "it failed at 10:42" (the error page shows the id) leads to the log lines. A well-formed id sent by the reverse
/// proxy is kept, so that the proxy's logs and the portal's share it; anything else is replaced, never logged as sent.
/// </summary>
public sealed partial class CorrelationIdMiddleware(RequestDelegate next, ILogger<CorrelationIdMiddleware> logger)
{
    public const string HeaderName = "X-Correlation-Id";
    public const string ScopeKey = "CorrelationId";
    public const int MaxLength = 64;

    public async Task InvokeAsync(HttpContext context)
    {
        var id = context.Request.Headers[HeaderName] is [{ } sent] && IsWellFormed(sent)
            ? sent
            : Activity.Current?.TraceId.ToHexString() ?? context.TraceIdentifier;
        context.TraceIdentifier = id;
        context.Response.Headers[HeaderName] = id;
        using (logger.BeginScope(new Dictionary<string, object> { [ScopeKey] = id }))
        {
            await next(context);
        }
    }

    // Letters, digits and - _ . : only: a header is attacker-controlled and ends up in log files and other systems.
    public static bool IsWellFormed(string value) =>
        value.Length is > 0 and <= MaxLength && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':');
}
