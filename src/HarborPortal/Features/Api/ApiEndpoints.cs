using System.Security.Claims;
using HarborPortal.Data;
using HarborPortal.Features.Audit;
using HarborPortal.Features.Auth;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.OpenApi;

namespace HarborPortal.Features.Api;

/// <summary>
/// The JSON API under <c>/api/v1</c>: every endpoint names a role policy (the group's default is Viewer), errors are
/// problem+json, and the session cookie only reads — writes need an API token, so none can be forged cross-site.
/// </summary>
public static class ApiEndpoints
{
    public const string Prefix = "/api/v1";
    public const string OpenApiPath = Prefix + "/openapi.json";

    public static IServiceCollection AddPortalApi(this IServiceCollection services)
    {
        services.AddOpenApi(options =>
        {
            // Only the JSON API: pages and form posts are not part of the contract.
            options.ShouldInclude = description => description.RelativePath?.StartsWith("api/v1/", StringComparison.Ordinal) == true;
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "HarborPortal API",
                    Version = "v1",
                    Description = "Send a personal API token as 'Authorization: Bearer hp_…' (create one on /account). The session cookie may read but not write.",
                };
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes["ApiToken"] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    Description = "A personal API token (hp_…).",
                };
                document.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("ApiToken", document)] = [] }];
                return Task.CompletedTask;
            });
        });
        services.AddExceptionHandler<ProblemDetailsExceptionHandler>();
        services.AddSingleton<IProblemDetailsWriter, ApiProblemDetailsWriter>();
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, ApiAuthorizationResultHandler>();
        return services;
    }

    public static RouteGroupBuilder MapApiEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup(Prefix)
            .RequireAuthorization(PortalPolicies.Viewer)
            .AddEndpointFilter(RefuseCookieWritesAsync);

        api.MapOpenApi("/openapi.json");

        api.MapGet("/me", GetMe).WithName("GetMe").WithSummary("Who is calling: user name, roles, groups and how they signed in.");
        api.MapGet("/me/tokens", ListMyTokensAsync).WithSummary("The caller's API tokens (never their values).");
        api.MapPost("/me/tokens", CreateMyTokenAsync).WithSummary("Creates an API token for the caller; the answer is the only place its value appears.");
        api.MapDelete("/me/tokens/{id:long}", RevokeMyTokenAsync).WithSummary("Revokes one of the caller's API tokens.");

        api.MapGet("/audit", GetAuditAsync).RequireAuthorization(PortalPolicies.Admin)
            .WithSummary("The audit log, newest first, 50 per page by default; pass nextBefore back as before for older events.");
        return api;
    }

    /// <summary>True for a caller signed in with an API token (not the session cookie).</summary>
    public static bool IsApiTokenCaller(ClaimsPrincipal user) =>
        user.Identity is { IsAuthenticated: true, AuthenticationType: PortalAuthentication.ApiTokenScheme }
        && user.HasClaim(PortalClaimTypes.AuthMethod, ApiTokenAuthenticationHandler.AuthMethod);

    private static async ValueTask<object?> RefuseCookieWritesAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var method = http.Request.Method;
        if (HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method) || IsApiTokenCaller(http.User))
        {
            return await next(context);
        }

        return TypedResults.Problem(
            statusCode: StatusCodes.Status403Forbidden,
            title: "Use an API token for writes",
            detail: "The session cookie can only read the API. Create a token on /account and send it as 'Authorization: Bearer hp_…'.");
    }

    private static Ok<MeResponse> GetMe(ClaimsPrincipal user) =>
        TypedResults.Ok(new MeResponse(
            ApiTokens.OwnerIdOf(user),
            user.Identity?.Name ?? "",
            user.FindFirstValue(PortalClaimTypes.DisplayName),
            user.FindFirstValue(PortalClaimTypes.AuthMethod),
            [.. PortalRoles.All.Where(user.IsInRole)],
            [.. user.FindAll(PortalClaimTypes.Group).Select(c => c.Value)]));

    private static async Task<Results<Ok<List<ApiTokenResponse>>, ProblemHttpResult>> ListMyTokensAsync(
        ClaimsPrincipal user, PortalDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        if (ApiTokens.OwnerIdOf(user) is not { } userId)
        {
            return NoAccount();
        }

        var now = time.GetUtcNow();
        var tokens = await db.ApiTokens.AsNoTracking().Where(t => t.UserAccountId == userId).OrderByDescending(t => t.Id).ToListAsync(cancellationToken);
        return TypedResults.Ok(tokens.Select(t => t.AsResponse(now)).ToList());
    }

    private static async Task<Results<Created<CreatedTokenResponse>, ValidationProblem, ProblemHttpResult>> CreateMyTokenAsync(
        CreateTokenRequest request, ClaimsPrincipal user, PortalDbContext db, ApiTokens tokens, TimeProvider time, CancellationToken cancellationToken)
    {
        var owner = ApiTokens.OwnerIdOf(user) is { } userId ? await db.UserAccounts.FindAsync([userId], cancellationToken) : null;
        if (owner is null)
        {
            return NoAccount();
        }

        var errors = new Dictionary<string, string[]>();
        if (ApiTokens.ValidateName(request.Name) is { } nameError)
        {
            errors["name"] = [nameError];
        }

        if (ApiTokens.ValidateLifetime(request.ExpiresInDays, ApiTokens.MaxDaysForUsers) is { } daysError)
        {
            errors["expiresInDays"] = [daysError];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var created = await tokens.CreateAsync(owner, request.Name!, request.ExpiresInDays, owner.UserName, ApiTokenAuthenticationHandler.AuthMethod, cancellationToken);
        return TypedResults.Created($"{Prefix}/me/tokens/{created.Token.Id}", new CreatedTokenResponse(created.Value, created.Token.AsResponse(time.GetUtcNow())));
    }

    private static async Task<Results<NoContent, NotFound, ProblemHttpResult>> RevokeMyTokenAsync(
        long id, ClaimsPrincipal user, ApiTokens tokens, CancellationToken cancellationToken)
    {
        if (ApiTokens.OwnerIdOf(user) is not { } userId)
        {
            return NoAccount();
        }

        var revoked = await tokens.RevokeAsync(id, userId, user.Identity?.Name ?? "?", ApiTokenAuthenticationHandler.AuthMethod, cancellationToken);
        return revoked is null ? TypedResults.NotFound() : TypedResults.NoContent();
    }

    private static async Task<Ok<AuditPageResponse>> GetAuditAsync(
        string? action, string? actor, bool? success, DateOnly? from, DateOnly? to, long? before, int? limit,
        PortalDbContext db, CancellationToken cancellationToken)
    {
        var page = await new AuditQuery(action, actor, success, from, to, before, limit ?? AuditQuery.PageSize).RunAsync(db.AuditEvents, cancellationToken);
        return TypedResults.Ok(new AuditPageResponse([.. page.Events.Select(e => e.AsResponse())], page.NextBefore));
    }

    private static ProblemHttpResult NoAccount() =>
        TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, detail: "This sign-in has no portal account, so it has no tokens.");
}
