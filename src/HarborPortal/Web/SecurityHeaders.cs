namespace HarborPortal.Web;

/// <summary>
/// Headers on every response. The CSP allows no inline script and no third-party origin: every script and
/// style is served from the portal itself, and htmx is configured not to evaluate inline code.
/// </summary>
public static class SecurityHeaders
{
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
        "connect-src 'self'; form-action 'self' {0}; frame-ancestors 'none'; base-uri 'self'; object-src 'none'";

    /// <summary>The CSP for this app: form-action also allows the identity provider (the logout and login redirects leave from forms).</summary>
    public static string BuildPolicy(string? identityProviderOrigin) =>
        string.Format(System.Globalization.CultureInfo.InvariantCulture, ContentSecurityPolicy, identityProviderOrigin ?? "").Replace(" ;", ";", StringComparison.Ordinal);

    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app, string? identityProviderOrigin)
    {
        var policy = BuildPolicy(identityProviderOrigin);
        return app.Use((context, next) =>
        {
            var headers = context.Response.Headers;
            headers.ContentSecurityPolicy = policy;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "same-origin";
            headers["Cross-Origin-Opener-Policy"] = "same-origin";
            headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()";
            return next(context);
        });
    }
}
