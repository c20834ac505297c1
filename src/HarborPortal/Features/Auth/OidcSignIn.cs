using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text.Json;
using HarborPortal.Features.Account;
using HarborPortal.Features.Audit;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.OAuth;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;

namespace HarborPortal.Features.Auth;

/// <summary>
/// The OIDC scheme's events: turns the token response into the portal's principal (validated id_token, userinfo for
/// what it lacks, roles from groups, the local account) and turns every failure into the login page with a code.
/// </summary>
public sealed partial class OidcSignIn(
    OidcTokenValidator validator,
    OidcConfigurationProvider configuration,
    UserAccounts accounts,
    AuditLog audit,
    IOptions<OidcOptions> options,
    ILogger<OidcSignIn> logger) : OAuthEvents
{
    public const string Method = "oidc";

    /// <summary>Any failure we cannot name better: the login page's generic message.</summary>
    public const string GenericFailure = "failed";

    public override async Task CreatingTicket(OAuthCreatingTicketContext context)
    {
        var oidc = options.Value;
        var ct = context.HttpContext.RequestAborted;

        if (!context.TokenResponse.Response!.RootElement.TryGetProperty("id_token", out var idTokenElement) || idTokenElement.GetString() is not { Length: > 0 } idToken)
        {
            throw new OidcSignInException(LoginErrors.InvalidToken, "the token response has no id_token (is the openid scope granted?)");
        }

        if (!context.Properties.Items.Remove(OidcHandler.NonceKey, out var nonce) || string.IsNullOrEmpty(nonce))
        {
            throw new OidcSignInException(LoginErrors.InvalidState, "the state carries no nonce");
        }

        OidcTokenValidation validation;
        try
        {
            validation = await validator.ValidateIdTokenAsync(idToken, nonce, ct);
        }
        catch (InvalidOperationException ex)
        {
            throw new OidcSignInException(LoginErrors.ProviderUnavailable, "the provider's keys could not be read to check the id_token", innerException: ex);
        }

        if (!validation.IsValid)
        {
            throw new OidcSignInException(LoginErrors.InvalidToken, $"the id_token was refused: {validation.Failure}");
        }

        var token = validation.Token!;
        var claims = new ProviderClaims(token, oidc);
        if (claims.LacksAny)
        {
            await FillFromUserInfoAsync(context, claims, token.Subject, ct);
        }

        var userName = claims.UserName;
        if (string.IsNullOrEmpty(userName))
        {
            Log.NoUserName(logger, oidc.UsernameClaim);
            userName = token.Subject;
        }

        var mapping = RoleMapping.Map(claims.Groups, oidc.RoleMappings, oidc.RequireMappedGroup);
        if (mapping.UnmatchedGroups.Count > 0)
        {
            Log.UnmatchedGroups(logger, userName, string.Join(", ", mapping.UnmatchedGroups));
        }

        if (mapping.IsRefused)
        {
            throw new OidcSignInException(LoginErrors.NoMappedGroup, "the user is in no mapped group and Oidc:RequireMappedGroup is set", userName);
        }

        var account = await accounts.UpsertAsync(
            new ProviderProfile(token.Issuer, token.Subject, userName, claims.Email, claims.DisplayName, claims.Groups, mapping.Roles), ct);

        context.Principal = BuildPrincipal(account, token, claims.Groups, mapping.Roles);

        // The id_token is kept for logout's id_token_hint (the base handler saves only the OAuth tokens); the ticket
        // is protected at rest by DatabaseTicketStore and never logged.
        context.Properties.StoreTokens(
            context.Properties.GetTokens().Append(new AuthenticationToken { Name = "id_token", Value = idToken }).ToList());

        await audit.WriteAsync("signin", true, account.UserName, Method, cancellationToken: ct);
        Log.SignedIn(logger, account.UserName, string.Join(",", mapping.Roles));
    }

    public override async Task RemoteFailure(RemoteFailureContext context)
    {
        var failure = context.Failure;
        var code = Classify(failure);
        var userName = (failure as OidcSignInException)?.UserName;
        Log.SignInFailed(logger, code, failure?.Message ?? "unknown", failure);
        await audit.WriteAsync("signin", false, userName, Method, details: $"{code}: {failure?.Message}", cancellationToken: context.HttpContext.RequestAborted);

        context.Response.Redirect($"{PortalAuthentication.LoginPath}?error={Uri.EscapeDataString(code)}");
        context.HandleResponse();
    }

    /// <summary>The login page's error code for a failed callback; the real reason goes to the log.</summary>
    internal static string Classify(Exception? failure) => failure switch
    {
        OidcSignInException known => known.ErrorCode,
        { Data: var data } when data["error"] is "access_denied" => LoginErrors.AccessDenied,
        // The OAuth handler's own wording for a missing/forged state and a missing correlation cookie.
        { Message: "The oauth state was missing or invalid." or "Correlation failed." } => LoginErrors.InvalidState,
        HttpRequestException => LoginErrors.ProviderUnavailable,
        { InnerException: HttpRequestException } => LoginErrors.ProviderUnavailable,
        _ => GenericFailure,
    };

    private async Task FillFromUserInfoAsync(OAuthCreatingTicketContext context, ProviderClaims claims, string subject, CancellationToken ct)
    {
        string? endpoint;
        try
        {
            endpoint = (await configuration.GetAsync(ct)).UserInfoEndpoint;
        }
        catch (InvalidOperationException)
        {
            return;
        }

        if (string.IsNullOrEmpty(endpoint) || string.IsNullOrEmpty(context.AccessToken))
        {
            return;
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, endpoint);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", context.AccessToken);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        try
        {
            using var response = await context.Backchannel.SendAsync(request, ct);
            if (!response.IsSuccessStatusCode)
            {
                Log.UserInfoFailed(logger, $"status {(int)response.StatusCode}");
                return;
            }

            using var userInfo = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
            var root = userInfo.RootElement;
            // OIDC Core 5.3.4: a userinfo answer about someone else must not be used.
            if (!root.TryGetProperty("sub", out var sub) || sub.GetString() != subject)
            {
                throw new OidcSignInException(LoginErrors.InvalidToken, "the userinfo sub differs from the id_token's");
            }

            claims.FillFrom(root);
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or TaskCanceledException)
        {
            // The id_token alone is enough to sign in; userinfo only adds what it lacked.
            Log.UserInfoFailed(logger, ex.Message);
        }
    }

    private static ClaimsPrincipal BuildPrincipal(UserAccount account, JsonWebToken token, IReadOnlyList<string> groups, IReadOnlyList<string> roles)
    {
        var claims = new List<Claim>
        {
            new(PortalClaimTypes.Name, account.UserName),
            new(PortalClaimTypes.UserId, account.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new(PortalClaimTypes.Issuer, token.Issuer),
            new(PortalClaimTypes.Subject, token.Subject),
            new(PortalClaimTypes.AuthMethod, Method),
        };
        if (token.TryGetPayloadValue<string>(PortalClaimTypes.ProviderSessionId, out var sid) && !string.IsNullOrEmpty(sid))
        {
            claims.Add(new(PortalClaimTypes.ProviderSessionId, sid));
        }

        if (!string.IsNullOrEmpty(account.DisplayName))
        {
            claims.Add(new(PortalClaimTypes.DisplayName, account.DisplayName));
        }

        if (!string.IsNullOrEmpty(account.Email))
        {
            claims.Add(new(PortalClaimTypes.Email, account.Email));
        }

        claims.AddRange(groups.Select(g => new Claim(PortalClaimTypes.Group, g)));
        claims.AddRange(roles.Select(r => new Claim(PortalClaimTypes.Role, r)));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, Method, PortalClaimTypes.Name, PortalClaimTypes.Role));
    }

    /// <summary>The claims we read, from the id_token first and userinfo for the gaps.</summary>
    private sealed class ProviderClaims
    {
        private readonly OidcOptions _options;
        private List<string>? _groups;

        public ProviderClaims(JsonWebToken token, OidcOptions options)
        {
            _options = options;
            UserName = Read(token, options.UsernameClaim);
            Email = Read(token, "email");
            DisplayName = Read(token, "name");
            // JsonWebToken gives one claim per element of an array, and one for a single string.
            var groups = token.Claims.Where(c => c.Type == options.GroupsClaim).Select(c => c.Value).ToList();
            _groups = groups.Count > 0 ? groups : null;
        }

        public string? UserName { get; private set; }

        public string? Email { get; private set; }

        public string? DisplayName { get; private set; }

        public IReadOnlyList<string> Groups => _groups ?? [];

        public bool LacksAny => UserName is null || Email is null || DisplayName is null || _groups is null;

        public void FillFrom(JsonElement userInfo)
        {
            UserName ??= ReadString(userInfo, _options.UsernameClaim);
            Email ??= ReadString(userInfo, "email");
            DisplayName ??= ReadString(userInfo, "name");
            if (_groups is null && userInfo.TryGetProperty(_options.GroupsClaim, out var groups))
            {
                _groups = groups.ValueKind switch
                {
                    JsonValueKind.Array => groups.EnumerateArray().Where(g => g.ValueKind == JsonValueKind.String).Select(g => g.GetString()!).ToList(),
                    JsonValueKind.String => [groups.GetString()!],
                    _ => null,
                };
            }
        }

        private static string? Read(JsonWebToken token, string claim) =>
            token.TryGetPayloadValue<string>(claim, out var value) && !string.IsNullOrWhiteSpace(value) ? value : null;

        private static string? ReadString(JsonElement element, string name) =>
            element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(value.GetString()) ? value.GetString() : null;
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "{UserName} signed in through OIDC with roles {Roles}")]
        public static partial void SignedIn(ILogger logger, string userName, string roles);

        [LoggerMessage(2, LogLevel.Warning, "OIDC sign-in failed ({Code}): {Reason}")]
        public static partial void SignInFailed(ILogger logger, string code, string reason, Exception? exception);

        [LoggerMessage(3, LogLevel.Debug, "Groups of {UserName} that map to no portal role: {Groups}")]
        public static partial void UnmatchedGroups(ILogger logger, string userName, string groups);

        [LoggerMessage(4, LogLevel.Warning, "Neither the id_token nor userinfo has the {Claim} claim: using sub as the user name")]
        public static partial void NoUserName(ILogger logger, string claim);

        [LoggerMessage(5, LogLevel.Warning, "The userinfo endpoint could not fill the missing claims: {Reason}")]
        public static partial void UserInfoFailed(ILogger logger, string reason);
    }
}
