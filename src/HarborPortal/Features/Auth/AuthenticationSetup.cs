using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace HarborPortal.Features.Auth;

/// <summary>Scheme names, paths and the composition of the portal's authentication.</summary>
public static class PortalAuthentication
{
    /// <summary>The default scheme: a bearer API token when the request carries one, else the session cookie.</summary>
    public const string PortalScheme = "Portal";
    public const string CookieScheme = CookieAuthenticationDefaults.AuthenticationScheme;
    public const string OidcScheme = "oidc";
    public const string ApiTokenScheme = "ApiToken";

    public const string LoginPath = "/account/login";
    public const string LogoutPath = "/account/logout";
    public const string CallbackPath = "/signin-oidc";
    public const string SignedOutCallbackPath = "/signout-callback-oidc";
    public const string BackchannelLogoutPath = "/signout-backchannel-oidc";

    public static WebApplicationBuilder AddPortalAuthentication(this WebApplicationBuilder builder)
    {
        builder.Services.AddAuthentication(PortalScheme)
            .AddPolicyScheme(PortalScheme, "Session cookie or API token", options =>
            {
                options.ForwardDefaultSelector = context =>
                    context.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
                        ? ApiTokenScheme
                        : CookieScheme;
            })
            .AddCookie(CookieScheme, options =>
            {
                options.Cookie.Name = "__harborportal";
                options.Cookie.HttpOnly = true;
                options.Cookie.SameSite = SameSiteMode.Lax;
                options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                options.LoginPath = LoginPath;
                options.ReturnUrlParameter = "returnUrl";
                options.ExpireTimeSpan = TimeSpan.FromHours(8);
                options.SlidingExpiration = true;
                options.Events.OnRedirectToAccessDenied = context =>
                {
                    // A real 403 with the 403 page (status code pages re-execute), not a redirect to a 200.
                    context.Response.StatusCode = StatusCodes.Status403Forbidden;
                    return Task.CompletedTask;
                };
            })
            .AddApiTokens();
        return builder;
    }
}
