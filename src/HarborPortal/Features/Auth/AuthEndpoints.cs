using System.Security.Claims;
using System.Security.Cryptography;
using HarborPortal.Features.Account;
using HarborPortal.Features.Audit;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;

namespace HarborPortal.Features.Auth;

/// <summary>Login through the provider, logout (RP-initiated and back-channel), and the admin's session revoke.</summary>
public static partial class AuthEndpoints
{
    public static IEndpointRouteBuilder MapAuthEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/account/login/oidc", Login).AllowAnonymous();
        endpoints.MapPost(PortalAuthentication.LogoutPath, LogoutAsync).AllowAnonymous();
        endpoints.MapGet(PortalAuthentication.SignedOutCallbackPath, () => Results.Redirect($"{PortalAuthentication.LoginPath}?signedOut=1")).AllowAnonymous();

        // The provider posts here server to server: no cookie, no antiforgery token; the signed logout token is the credential.
        endpoints.MapPost(PortalAuthentication.BackchannelLogoutPath, BackchannelLogoutAsync).AllowAnonymous().DisableAntiforgery();

        endpoints.MapPost("/admin/sessions/revoke", RevokeAsync).RequireAuthorization(PortalPolicies.Admin);
        return endpoints;
    }

    private static IResult Login(string? returnUrl, IOptions<OidcOptions> options)
    {
        if (!options.Value.IsConfigured)
        {
            return Results.Redirect(PortalAuthentication.LoginPath);
        }

        // Only local paths: anything else would make the login an open redirect.
        var properties = new AuthenticationProperties { RedirectUri = LoginErrors.IsLocalUrl(returnUrl) ? returnUrl : "/" };
        return Results.Challenge(properties, [PortalAuthentication.OidcScheme]);
    }

    private static async Task<IResult> LogoutAsync(
        HttpContext context, IAntiforgery antiforgery, DatabaseTicketStore sessions, OidcConfigurationProvider configuration, AuditLog audit, ILoggerFactory loggers)
    {
        // A form post without a form field of its own, so antiforgery is checked here rather than by parameter binding.
        if (!await antiforgery.IsRequestValidAsync(context))
        {
            return Results.BadRequest();
        }

        var signedOut = $"{PortalAuthentication.LoginPath}?signedOut=1";
        var result = await context.AuthenticateAsync(PortalAuthentication.CookieScheme);
        if (!result.Succeeded)
        {
            return Results.Redirect(signedOut);
        }

        var user = result.Principal;
        var method = user.FindFirstValue(PortalClaimTypes.AuthMethod) ?? "unknown";
        if (DatabaseTicketStore.SessionId(result.Properties) is { } sessionId)
        {
            await sessions.EndAsync(sessionId, "signout", context.RequestAborted);
        }

        await context.SignOutAsync(PortalAuthentication.CookieScheme);
        await audit.WriteAsync("signout", true, user.Identity?.Name, method, cancellationToken: context.RequestAborted);

        var idToken = result.Properties?.GetTokenValue("id_token");
        if (method != OidcSignIn.Method || string.IsNullOrEmpty(idToken))
        {
            return Results.Redirect(signedOut);
        }

        // RP-initiated logout: authentik ends its own session and comes back to /signout-callback-oidc (which must be
        // registered as a post-logout redirect URI there, or authentik stays on its own page).
        string? endSession;
        try
        {
            endSession = (await configuration.GetAsync(context.RequestAborted)).EndSessionEndpoint;
        }
        catch (InvalidOperationException ex)
        {
            Log.EndSessionUnavailable(loggers.CreateLogger(typeof(AuthEndpoints)), ex);
            return Results.Redirect(signedOut);
        }

        if (string.IsNullOrEmpty(endSession))
        {
            return Results.Redirect(signedOut);
        }

        var request = context.Request;
        return Results.Redirect(QueryHelpers.AddQueryString(endSession, new Dictionary<string, string?>
        {
            ["id_token_hint"] = idToken,
            ["post_logout_redirect_uri"] = $"{request.Scheme}://{request.Host}{request.PathBase}{PortalAuthentication.SignedOutCallbackPath}",
            ["state"] = WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(16)),
        }));
    }

    private static async Task<IResult> BackchannelLogoutAsync(
        HttpContext context, OidcTokenValidator validator, DatabaseTicketStore sessions, AuditLog audit, IOptions<OidcOptions> options, ILoggerFactory loggers)
    {
        // OpenID Connect Back-Channel Logout 1.0 §2.8: the answer must not be cached.
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers.Pragma = "no-cache";
        var logger = loggers.CreateLogger(typeof(AuthEndpoints));

        string? logoutToken = null;
        if (context.Request.HasFormContentType)
        {
            var form = await context.Request.ReadFormAsync(context.RequestAborted);
            logoutToken = form["logout_token"];
        }

        if (string.IsNullOrEmpty(logoutToken) || !options.Value.IsConfigured)
        {
            return Invalid("The request has no logout_token.");
        }

        OidcTokenValidation validation;
        try
        {
            validation = await validator.ValidateLogoutTokenAsync(logoutToken, context.RequestAborted);
        }
        catch (InvalidOperationException ex)
        {
            // Discovery unreachable: the token cannot be checked. authentik does not retry, so say so loudly.
            Log.BackchannelLogoutUnverifiable(logger, ex);
            return Invalid("The logout token cannot be verified now.");
        }

        if (!validation.IsValid)
        {
            Log.BackchannelLogoutRefused(logger, validation.Failure!);
            return Invalid("The logout token is not valid.");
        }

        var token = validation.Token!;
        token.TryGetPayloadValue<string>(PortalClaimTypes.ProviderSessionId, out var sid);
        var users = await sessions.EndProviderSessionsAsync(token.Issuer, sid, token.Subject, "backchannel", context.RequestAborted);
        Log.BackchannelLogout(logger, users.Count, sid, token.Subject);
        await audit.WriteAsync(
            "signout", true, users.Count > 0 ? string.Join(", ", users) : token.Subject, "backchannel",
            target: string.IsNullOrEmpty(sid) ? $"sub {token.Subject}" : $"sid {sid}",
            details: users.Count > 0 ? "sessions ended by the identity provider" : "no active session matched",
            cancellationToken: context.RequestAborted);
        return Results.Ok();

        static ProblemHttpResult Invalid(string detail) =>
            TypedResults.Problem(detail, statusCode: StatusCodes.Status400BadRequest, title: "Invalid logout request");
    }

    private static async Task<IResult> RevokeAsync([FromForm] string sessionId, HttpContext context, DatabaseTicketStore sessions, AuditLog audit)
    {
        var revoked = await sessions.EndAsync(sessionId, "revoked", context.RequestAborted);
        if (revoked)
        {
            await audit.WriteAsync("session.revoke", true, context.User.Identity?.Name, "web", target: $"session {sessionId[..Math.Min(8, sessionId.Length)]}…", cancellationToken: context.RequestAborted);
        }

        return Results.Redirect($"/admin/sessions?revoked={(revoked ? 1 : 0)}");
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "The provider's end_session_endpoint is unknown (discovery failed): signed out locally only")]
        public static partial void EndSessionUnavailable(ILogger logger, Exception exception);

        [LoggerMessage(2, LogLevel.Warning, "Back-channel logout refused: {Reason}")]
        public static partial void BackchannelLogoutRefused(ILogger logger, string reason);

        [LoggerMessage(3, LogLevel.Error, "Back-channel logout could not be verified: discovery is unavailable")]
        public static partial void BackchannelLogoutUnverifiable(ILogger logger, Exception exception);

        [LoggerMessage(4, LogLevel.Information, "Back-channel logout ended {Count} user(s)' sessions (sid {Sid}, sub {Subject})")]
        public static partial void BackchannelLogout(ILogger logger, int count, string? sid, string subject);
    }
}
