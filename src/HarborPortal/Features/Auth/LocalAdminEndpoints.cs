using HarborPortal.Features.Account;
using HarborPortal.Features.Audit;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace HarborPortal.Features.Auth;

public static class LocalAdminEndpoints
{
    public const string SignInPath = "/account/login/local";

    /// <summary>
    /// <c>POST /account/login/local</c>: the break-glass admin's form (<see cref="LocalLoginForm"/>). Anonymous; the
    /// antiforgery token is checked because the handler binds the form.
    /// </summary>
    public static IEndpointConventionBuilder MapLocalAdminEndpoints(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapPost(SignInPath, SignInAsync).AllowAnonymous().ExcludeFromDescription();

    private static async Task<RedirectHttpResult> SignInAsync(
        [FromForm] string? username,
        [FromForm] string? password,
        [FromForm] string? returnUrl,
        LocalAdmin localAdmin,
        AuditLog audit,
        HttpContext context)
    {
        // Not the request's token: a client that hangs up must not skip the failure count or the audit line.
        var cancellationToken = CancellationToken.None;
        var result = await localAdmin.VerifyAsync(username, password, cancellationToken);
        var target = LoginErrors.IsLocalUrl(returnUrl) ? returnUrl! : "/";

        switch (result.Outcome)
        {
            case LocalSignInOutcome.Succeeded:
                var principal = await localAdmin.CreatePrincipalAsync(result.UserName!, cancellationToken);
                await context.SignInAsync(PortalAuthentication.CookieScheme, principal);
                await audit.WriteAsync("signin", true, result.UserName, LocalAdmin.AuthMethod, cancellationToken: cancellationToken);
                return TypedResults.LocalRedirect(target);

            case LocalSignInOutcome.LockedNow:
                await audit.WriteAsync("signin", false, result.UserName, LocalAdmin.AuthMethod, details: Explain(result), cancellationToken: cancellationToken);
                await audit.WriteAsync("lockout", true, result.UserName, LocalAdmin.AuthMethod, localAdmin.UserName,
                    $"Locked for {LocalAdmin.LockoutDuration.TotalMinutes:0} minutes after {LocalAdmin.MaxFailedAttempts} failed sign-ins", cancellationToken);
                return Refuse(LoginErrors.LockedOut, target);

            case LocalSignInOutcome.LockedOut:
                await audit.WriteAsync("signin", false, result.UserName, LocalAdmin.AuthMethod, details: "Refused: the local administrator is locked", cancellationToken: cancellationToken);
                return Refuse(LoginErrors.LockedOut, target);

            case LocalSignInOutcome.Disabled:
                await audit.WriteAsync("signin", false, null, LocalAdmin.AuthMethod, details: "Refused: the local administrator is disabled", cancellationToken: cancellationToken);
                return Refuse(LoginErrors.InvalidCredentials, target);

            default:
                await audit.WriteAsync("signin", false, result.UserName, LocalAdmin.AuthMethod, details: Explain(result), cancellationToken: cancellationToken);
                return Refuse(LoginErrors.InvalidCredentials, target);
        }
    }

    // What was typed as a user name is not recorded unless it is the admin's: people type passwords into that field.
    private static string Explain(LocalSignInResult result) =>
        result.UserName is null ? "Unknown user name (not recorded)" : "Wrong password";

    private static RedirectHttpResult Refuse(string error, string returnUrl) =>
        TypedResults.LocalRedirect(returnUrl == "/"
            ? $"{PortalAuthentication.LoginPath}?error={error}"
            : $"{PortalAuthentication.LoginPath}?error={error}&returnUrl={Uri.EscapeDataString(returnUrl)}");
}
