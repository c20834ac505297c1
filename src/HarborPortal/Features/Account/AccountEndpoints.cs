using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using HarborPortal.Data;
using HarborPortal.Features.Auth;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace HarborPortal.Features.Account;

/// <summary>The forms of <see cref="AccountPage"/>: create and revoke one's own API tokens (antiforgery-checked form posts).</summary>
public static class AccountEndpoints
{
    public const string PagePath = "/account";

    /// <summary>The <c>?error=</c> codes the account page explains.</summary>
    public const string ErrorName = "name";
    public const string ErrorLifetime = "lifetime";
    public const string ErrorNoAccount = "no_account";
    public const string ErrorNotFound = "not_found";

    public static RouteGroupBuilder MapAccountEndpoints(this IEndpointRouteBuilder endpoints)
    {
        // Any signed-in user manages their own tokens: the default policy (authenticated), not a role.
        var account = endpoints.MapGroup(PagePath).RequireAuthorization(PortalPolicies.Viewer).ExcludeFromDescription();
        account.MapPost("/tokens", CreateTokenAsync);
        account.MapPost("/tokens/revoke", RevokeTokenAsync);
        return account;
    }

    private static async Task<RedirectHttpResult> CreateTokenAsync(
        [FromForm] string? name, [FromForm] string? expiresInDays, HttpContext context, PortalDbContext db, ApiTokens tokens)
    {
        var owner = ApiTokens.OwnerIdOf(context.User) is { } userId ? await db.UserAccounts.FindAsync([userId], context.RequestAborted) : null;
        if (owner is null)
        {
            return Back($"error={ErrorNoAccount}");
        }

        if (ApiTokens.ValidateName(name) is not null)
        {
            return Back($"error={ErrorName}");
        }

        if (!int.TryParse(expiresInDays, NumberStyles.None, CultureInfo.InvariantCulture, out var days)
            || ApiTokens.ValidateLifetime(days, ApiTokens.MaxDaysForUsers) is not null)
        {
            return Back($"error={ErrorLifetime}");
        }

        var created = await tokens.CreateAsync(owner, name!, days, owner.UserName, AuthMethodOf(context.User), CancellationToken.None);
        NewTokenCookie.Stash(context, owner.Id, created.Value);
        return Back($"created={created.Token.Id}");
    }

    private static async Task<RedirectHttpResult> RevokeTokenAsync([FromForm] long id, HttpContext context, ApiTokens tokens)
    {
        if (ApiTokens.OwnerIdOf(context.User) is not { } userId)
        {
            return Back($"error={ErrorNoAccount}");
        }

        var revoked = await tokens.RevokeAsync(id, userId, context.User.Identity?.Name ?? "?", AuthMethodOf(context.User), CancellationToken.None);
        return revoked is null ? Back($"error={ErrorNotFound}") : Back($"revoked={revoked.Id}");
    }

    /// <summary>The token made by the last form post, once: the cookie that carried it is deleted as it is read.</summary>
    public static string? TakeNewToken(HttpContext context, long userId) => NewTokenCookie.Take(context, userId);

    private static string AuthMethodOf(ClaimsPrincipal user) => user.FindFirstValue(PortalClaimTypes.AuthMethod) ?? "web";

    private static RedirectHttpResult Back(string query) => TypedResults.LocalRedirect($"{PagePath}?{query}");

    /// <summary>
    /// Carries a new token from the POST to the page after the redirect without putting it in a URL: encrypted, bound to
    /// its owner, valid five minutes, HttpOnly, sent only to <c>/account</c>, deleted when shown.
    /// </summary>
    private static class NewTokenCookie
    {
        private const string CookieName = "__harborportal_newtoken";
        private const string Purpose = "HarborPortal.Account.NewToken";

        public static void Stash(HttpContext context, long userId, string token)
        {
            var value = Protector(context).Protect($"{userId.ToString(CultureInfo.InvariantCulture)}:{token}", TimeSpan.FromMinutes(5));
            context.Response.Cookies.Append(CookieName, value, Options(context));
        }

        public static string? Take(HttpContext context, long userId)
        {
            if (!context.Request.Cookies.TryGetValue(CookieName, out var value))
            {
                return null;
            }

            context.Response.Cookies.Delete(CookieName, Options(context));
            try
            {
                var payload = Protector(context).Unprotect(value);
                var separator = payload.IndexOf(':', StringComparison.Ordinal);
                return separator > 0 && payload[..separator] == userId.ToString(CultureInfo.InvariantCulture) ? payload[(separator + 1)..] : null;
            }
            catch (CryptographicException)
            {
                // Expired, tampered with, or from before a key rotation: there is nothing to show.
                return null;
            }
        }

        private static ITimeLimitedDataProtector Protector(HttpContext context) =>
            context.RequestServices.GetRequiredService<IDataProtectionProvider>().CreateProtector(Purpose).ToTimeLimitedDataProtector();

        private static CookieOptions Options(HttpContext context) => new()
        {
            HttpOnly = true,
            Secure = context.Request.IsHttps,
            SameSite = SameSiteMode.Strict,
            Path = PagePath,
            IsEssential = true,
        };
    }
}
