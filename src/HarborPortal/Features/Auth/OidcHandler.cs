using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text.Json;
using HarborPortal.Features.Account;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.OAuth;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace HarborPortal.Features.Auth;

/// <summary>
/// ASP.NET Core's OAuth handler (PKCE, state, correlation cookie, callback) turned into an OpenID Connect code-flow
/// client: the endpoints come from discovery, and every challenge carries a nonce.
/// </summary>
/// <remarks>
/// Options are validated and cached per scheme before any request, but discovery is asynchronous and may not be
/// reachable yet, so the options hold <see cref="FromDiscovery"/> placeholders and the handler (one per request, like
/// the framework's own OpenIdConnectHandler) fetches the configuration when it needs it: at the challenge, where it
/// moves the query the base class built onto the discovered authorization endpoint, and at the code exchange.
/// </remarks>
public sealed partial class OidcHandler(
    IOptionsMonitor<OAuthOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    OidcConfigurationProvider configuration) : OAuthHandler<OAuthOptions>(options, loggerFactory, encoder)
{
    /// <summary>Where the nonce waits (inside the protected <c>state</c>) for the id_token to come back.</summary>
    public const string NonceKey = "nonce";

    /// <summary>A placeholder for the endpoints discovery supplies (<c>.invalid</c> can never resolve).</summary>
    public const string FromDiscovery = "https://from-discovery.invalid/";

    private OpenIdConnectConfiguration? _configuration;

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        try
        {
            _configuration = await configuration.GetAsync(Context.RequestAborted);
        }
        catch (Exception ex) when (ex is InvalidOperationException or HttpRequestException or IOException)
        {
            // Also the challenges the framework starts by itself: never an error page because authentik is down.
            Log.ProviderUnavailable(Logger, ex);
            Response.Redirect($"{PortalAuthentication.LoginPath}?error={LoginErrors.ProviderUnavailable}");
            return;
        }

        await base.HandleChallengeAsync(properties);
    }

    protected override string BuildChallengeUrl(AuthenticationProperties properties, string redirectUri)
    {
        // Before the base call, which protects the properties into `state`: the nonce comes back inside it.
        var nonce = WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(32));
        properties.Items[NonceKey] = nonce;
        var url = new Uri(base.BuildChallengeUrl(properties, redirectUri));

        var parameters = QueryHelpers.ParseQuery(url.Query);
        parameters[NonceKey] = nonce;
        var endpoint = _configuration?.AuthorizationEndpoint;
        if (string.IsNullOrEmpty(endpoint))
        {
            throw new InvalidOperationException("The provider's discovery document has no authorization_endpoint.");
        }

        return QueryHelpers.AddQueryString(endpoint, parameters);
    }

    /// <summary>The base exchange, addressed to the discovered token endpoint (client_secret_post, PKCE verifier).</summary>
    protected override async Task<OAuthTokenResponse> ExchangeCodeAsync(OAuthCodeExchangeContext context)
    {
        OpenIdConnectConfiguration config;
        try
        {
            config = await configuration.GetAsync(Context.RequestAborted);
        }
        catch (InvalidOperationException ex)
        {
            throw new OidcSignInException(LoginErrors.ProviderUnavailable, "discovery failed before the code exchange", innerException: ex);
        }

        var parameters = new Dictionary<string, string>
        {
            ["client_id"] = Options.ClientId,
            ["client_secret"] = Options.ClientSecret,
            ["redirect_uri"] = context.RedirectUri,
            ["code"] = context.Code,
            ["grant_type"] = "authorization_code",
        };
        if (context.Properties.Items.Remove(OAuthConstants.CodeVerifierKey, out var verifier) && verifier is not null)
        {
            parameters[OAuthConstants.CodeVerifierKey] = verifier;
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, config.TokenEndpoint) { Content = new FormUrlEncodedContent(parameters) };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));

        HttpResponseMessage response;
        try
        {
            response = await Backchannel.SendAsync(request, Context.RequestAborted);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            throw new OidcSignInException(LoginErrors.ProviderUnavailable, "the token endpoint could not be reached", innerException: ex);
        }

        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(Context.RequestAborted);
            if (!response.IsSuccessStatusCode)
            {
                // The body is the provider's OAuth error (error, error_description), never a token: safe to log.
                throw new OidcSignInException(LoginErrors.InvalidToken, $"the token endpoint answered {(int)response.StatusCode}: {Shorten(body)}");
            }

            try
            {
                return OAuthTokenResponse.Success(JsonDocument.Parse(body));
            }
            catch (JsonException ex)
            {
                throw new OidcSignInException(LoginErrors.InvalidToken, "the token endpoint's answer is not JSON", innerException: ex);
            }
        }
    }

    private static string Shorten(string value) => value.Length > 300 ? value[..300] : value;

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "The identity provider's discovery document could not be read; sign-in sends the user back to the login page")]
        public static partial void ProviderUnavailable(ILogger logger, Exception exception);
    }
}

/// <summary>A sign-in that failed for a reason we know: <see cref="ErrorCode"/> is the login page's <c>?error=</c>.</summary>
public sealed class OidcSignInException(string errorCode, string reason, string? userName = null, Exception? innerException = null)
    : Exception(reason, innerException)
{
    public string ErrorCode { get; } = errorCode;

    /// <summary>Who tried, when the provider told us before the failure (for the audit log).</summary>
    public string? UserName { get; } = userName;
}
