using System.Globalization;
using System.Security.Claims;
using System.Text.Encodings.Web;
using HarborPortal.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace HarborPortal.Features.Auth;

/// <summary>
/// <c>Authorization: Bearer hp_…</c>: the token's hash is looked up; a live token signs its owner in with the roles the
/// owner has now. Failures answer 401 with <c>WWW-Authenticate: Bearer error="invalid_token"</c> and problem+json.
/// </summary>
public sealed partial class ApiTokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    IDbContextFactory<PortalDbContext> contexts,
    TimeProvider time)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    public const string AuthMethod = "api-token";

    // Writing on every call would turn each read into a write; a minute is precise enough for "last used".
    private static readonly TimeSpan LastUsedPrecision = TimeSpan.FromMinutes(1);

    private const string NotValid = "The token is not valid.";
    private const string Expired = "The token has expired.";
    private const string Revoked = "The token has been revoked.";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.NoResult();
        }

        var value = header["Bearer ".Length..].Trim();
        if (!ApiTokens.HasTokenShape(value))
        {
            Log.Refused(Logger, "malformed", null);
            return AuthenticateResult.Fail(NotValid);
        }

        var hash = ApiTokens.Hash(value);
        await using var db = await contexts.CreateDbContextAsync(Context.RequestAborted);
        var token = await db.ApiTokens.AsNoTracking().Include(t => t.UserAccount)
            .SingleOrDefaultAsync(t => t.TokenHash == hash, Context.RequestAborted);
        var now = time.GetUtcNow();
        var failure = token switch
        {
            null or { UserAccount: null } => NotValid,
            { RevokedAt: not null } => Revoked,
            _ when token.ExpiresAt <= now => Expired,
            _ => null,
        };
        if (failure is not null)
        {
            Log.Refused(Logger, failure, token?.Id);
            return AuthenticateResult.Fail(failure);
        }

        if (token!.LastUsedAt is null || now - token.LastUsedAt >= LastUsedPrecision)
        {
            await db.ApiTokens.Where(t => t.Id == token.Id).ExecuteUpdateAsync(s => s.SetProperty(t => t.LastUsedAt, now), Context.RequestAborted);
        }

        return AuthenticateResult.Success(new AuthenticationTicket(CreatePrincipal(token.UserAccount!), Scheme.Name));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        Response.StatusCode = StatusCodes.Status401Unauthorized;

        // RFC 6750: no error code when the request carried no token at all.
        var problem = result.Failure?.Message;
        Response.Headers.WWWAuthenticate = problem is null
            ? "Bearer"
            : $"Bearer error=\"invalid_token\", error_description=\"{problem}\"";
        await TypedResults.Problem(
                statusCode: StatusCodes.Status401Unauthorized,
                detail: problem ?? "Sign in, or send an API token as 'Authorization: Bearer hp_…'.")
            .ExecuteAsync(Context);
    }

    private ClaimsPrincipal CreatePrincipal(UserAccount user)
    {
        List<Claim> claims =
        [
            new(PortalClaimTypes.Name, user.UserName),
            new(PortalClaimTypes.UserId, user.Id.ToString(CultureInfo.InvariantCulture)),
            new(PortalClaimTypes.Issuer, user.Issuer),
            new(PortalClaimTypes.Subject, user.Subject),
            new(PortalClaimTypes.AuthMethod, AuthMethod),
        ];
        if (!string.IsNullOrEmpty(user.DisplayName))
        {
            claims.Add(new(PortalClaimTypes.DisplayName, user.DisplayName));
        }

        claims.AddRange(user.RoleList.Select(PortalRoles.Normalize).OfType<string>().Distinct().Select(role => new Claim(PortalClaimTypes.Role, role)));
        claims.AddRange(user.GroupList.Select(group => new Claim(PortalClaimTypes.Group, group)));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, Scheme.Name, PortalClaimTypes.Name, PortalClaimTypes.Role));
    }

    private static partial class Log
    {
        // Never the token itself: only why, and which stored token when it is one.
        [LoggerMessage(1, LogLevel.Information, "API token refused: {Reason} (token id {TokenId})")]
        public static partial void Refused(ILogger logger, string reason, long? tokenId);
    }
}

public static class ApiTokenAuthenticationExtensions
{
    /// <summary>The <see cref="PortalAuthentication.ApiTokenScheme"/> scheme and the token service the account page, API and CLI use.</summary>
    public static AuthenticationBuilder AddApiTokens(this AuthenticationBuilder builder)
    {
        builder.Services.AddScoped<ApiTokens>();
        return builder.AddScheme<AuthenticationSchemeOptions, ApiTokenAuthenticationHandler>(PortalAuthentication.ApiTokenScheme, "API token", null);
    }
}
