using HarborPortal.Features.Auth;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;

namespace HarborPortal.Web;

/// <summary>
/// Belt and braces for <c>/admin</c>: every admin page names the Admin policy itself, and this also refuses
/// any other path under <c>/admin</c> — including ones that do not exist (yet) — so a non-admin cannot even
/// learn which admin pages are there.
/// </summary>
public static class AdminArea
{
    public static IApplicationBuilder UseAdminArea(this IApplicationBuilder app) =>
        app.UseWhen(c => c.Request.Path.StartsWithSegments("/admin", StringComparison.OrdinalIgnoreCase), admin => admin.Use(async (context, next) =>
        {
            var authorization = context.RequestServices.GetRequiredService<IAuthorizationService>();
            if (context.User.Identity?.IsAuthenticated != true)
            {
                await context.ChallengeAsync();
                return;
            }

            if (!(await authorization.AuthorizeAsync(context.User, PortalPolicies.Admin)).Succeeded)
            {
                await context.ForbidAsync();
                return;
            }

            await next(context);
        }));
}
