using HarborPortal.Features.Auth;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;

namespace HarborPortal.Features.Api;

/// <summary>
/// Under <c>/api/v1</c>, a missing sign-in is a 401 Bearer challenge (never the cookie's redirect to the login page)
/// and a missing role is a 403 problem; elsewhere the framework's handling stands.
/// </summary>
public sealed class ApiAuthorizationResultHandler : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (!context.Request.Path.StartsWithSegments(ApiEndpoints.Prefix) || authorizeResult.Succeeded)
        {
            await _default.HandleAsync(next, context, policy, authorizeResult);
            return;
        }

        if (authorizeResult.Challenged)
        {
            await context.ChallengeAsync(PortalAuthentication.ApiTokenScheme);
            return;
        }

        await TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, detail: "Your role does not allow this request.").ExecuteAsync(context);
    }
}
