using HarborPortal.Features.Account;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OAuth;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;

namespace HarborPortal.Features.Auth;

/// <summary>Scheme names, paths and the composition of the portal's authentication.</summary>
public static class PortalAuthentication
{
    /// <summary>The default scheme: a bearer API token when the request carries one, else the session cookie.</summary>
    public const string PortalScheme = "Portal";
    public const string CookieScheme = CookieAuthenticationDefaults.AuthenticationScheme;
    public const string OidcScheme = "oidc";
    public const string ApiTokenScheme = "ApiToken";

    public const string CookieName = "__harborportal";

    public const string LoginPath = "/account/login";
    public const string LogoutPath = "/account/logout";
    public const string CallbackPath = "/signin-oidc";
    public const string SignedOutCallbackPath = "/signout-callback-oidc";
    public const string BackchannelLogoutPath = "/signout-backchannel-oidc";

    public static WebApplicationBuilder AddPortalAuthentication(this WebApplicationBuilder builder)
    {
        var services = builder.Services;

        // Server-side sessions: the cookie holds a session id, the ticket lives in the database (DatabaseTicketStore).
        services.AddOptions<PortalSessionOptions>().BindConfiguration(PortalSessionOptions.SectionName);
        services.AddSingleton<DatabaseTicketStore>();
        services.AddSingleton<ITicketStore>(sp => sp.GetRequiredService<DatabaseTicketStore>());

        var authentication = services.AddAuthentication(PortalScheme)
            .AddPolicyScheme(PortalScheme, "Session cookie or API token", options =>
            {
                options.ForwardDefaultSelector = context =>
                    context.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
                        ? ApiTokenScheme
                        : CookieScheme;
            })
            .AddCookie(CookieScheme, options =>
            {
                options.Cookie.Name = CookieName;
                options.Cookie.HttpOnly = true;
                options.Cookie.SameSite = SameSiteMode.Lax;
                options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                options.LoginPath = LoginPath;
                options.ReturnUrlParameter = "returnUrl";
                options.SlidingExpiration = true;
                options.Events.OnRedirectToLogin = context =>
                {
                    // A session cookie that no longer finds its session (revoked, ended by authentik, expired): say so.
                    if (context.Request.Cookies.ContainsKey(CookieName))
                    {
                        context.RedirectUri = QueryHelpers.AddQueryString(context.RedirectUri, "error", LoginErrors.SessionEnded);
                        context.Response.Cookies.Delete(CookieName);
                    }

                    context.Response.Redirect(context.RedirectUri);
                    return Task.CompletedTask;
                };
                options.Events.OnRedirectToAccessDenied = context =>
                {
                    // A real 403 with the 403 page (status code pages re-execute), not a redirect to a 200.
                    context.Response.StatusCode = StatusCodes.Status403Forbidden;
                    return Task.CompletedTask;
                };
            })
            .AddApiTokens();
        services.AddOptions<CookieAuthenticationOptions>(CookieScheme)
            .Configure<ITicketStore, IOptions<PortalSessionOptions>>((options, store, session) =>
            {
                options.SessionStore = store;
                options.ExpireTimeSpan = session.Value.IdleTimeout;
            });

        // OpenID Connect against authentik. Registered only when configured: an OAuth scheme without a client id
        // fails its options validation on every request, and the login page hides the button anyway.
        services.AddSingleton<OidcConfigurationProvider>();
        services.AddSingleton<OidcTokenValidator>();
        services.AddSingleton<OidcHealth>();
        services.AddSingleton<UserAccounts>();
        services.AddOptions<OidcOptions>()
            .Validate(o => !o.IsConfigured || (o.ClockSkew >= TimeSpan.Zero && o.ClockSkew <= TimeSpan.FromMinutes(2)), "Oidc:ClockSkew must be between 0 and 2 minutes.")
            .Validate(o => !RoleMapping.InvalidMappings(o.RoleMappings).Any(), "Oidc:RoleMappings maps a group to a role that does not exist (use Admin, Security, Developer or Viewer).")
            .Validate(o => !o.IsConfigured || !string.IsNullOrWhiteSpace(o.ClientSecret), "Oidc:ClientSecret is required when Oidc:Authority and Oidc:ClientId are set (authentik: the provider's Client Secret).")
            .ValidateOnStart();
        if (builder.Configuration.GetSection(OidcOptions.SectionName).Get<OidcOptions>() is { IsConfigured: true })
        {
            authentication.AddOAuth<OAuthOptions, OidcHandler>(OidcScheme, "OpenID Connect", _ => { });
            services.AddOptions<OAuthOptions>(OidcScheme).Configure<IOptions<OidcOptions>>((options, oidc) => ConfigureOidc(options, oidc.Value));
            services.AddScoped<OidcSignIn>();
            services.AddHostedService<OidcStartupCheck>();
        }

        return builder;
    }

    private static void ConfigureOidc(OAuthOptions options, OidcOptions oidc)
    {
        options.ClientId = oidc.ClientId;
        options.ClientSecret = oidc.ClientSecret;
        options.CallbackPath = CallbackPath;
        options.SignInScheme = CookieScheme;

        // OidcHandler reads the real endpoints from discovery per request; these only satisfy option validation.
        options.AuthorizationEndpoint = OidcHandler.FromDiscovery;
        options.TokenEndpoint = OidcHandler.FromDiscovery;

        // S256 always: authentik assumes "plain" when code_challenge_method is missing.
        options.UsePkce = true;
        options.Scope.Clear();
        foreach (var scope in oidc.Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries).Prepend("openid").Distinct(StringComparer.Ordinal))
        {
            options.Scope.Add(scope);
        }

        // Keeps the OAuth tokens in the ticket (and OidcSignIn adds the id_token, for logout's id_token_hint). With
        // offline_access in Oidc:Scopes the refresh token is kept too; nothing uses it yet (no refresh logic).
        options.SaveTokens = true;

        // Lax, not None: the callback is a top-level GET, and a None cookie without Secure is dropped on http loopback.
        options.CorrelationCookie.SameSite = SameSiteMode.Lax;
        options.CorrelationCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        options.BackchannelTimeout = TimeSpan.FromSeconds(30);
        options.EventsType = typeof(OidcSignIn);
    }
}
