using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Web;
using AngleSharp.Html.Parser;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;
using Xunit.Abstractions;

namespace HarborPortal.Tests.Infrastructure;

/// <summary>
/// Real tests of the test identity provider: node + oidc-provider, driven over HTTP without a browser.
/// </summary>
public sealed class IdentityProviderFixtureTests(ITestOutputHelper output)
{
    private const string RedirectUri = "http://127.0.0.1:1/signin-oidc";
    private const string PostLogoutRedirectUri = "http://127.0.0.1:1/signout-callback-oidc";

    [Fact]
    public async Task Discovery_Looks_Like_Authentik()
    {
        await using var idp = await StartAsync("RS256");
        using var http = new HttpClient();

        using var discovery = await GetJsonAsync(http, idp.DiscoveryUrl);
        var d = discovery.RootElement;

        var issuer = d.GetProperty("issuer").GetString()!;
        Assert.EndsWith("/application/o/harbor-portal/", issuer, StringComparison.Ordinal);
        Assert.Equal($"http://127.0.0.1:{idp.Port}/application/o/harbor-portal/", issuer);
        Assert.Equal(idp.Issuer, issuer);
        Assert.Equal(idp.Issuer, idp.Authority);

        Assert.Equal(["RS256"], Strings(d, "id_token_signing_alg_values_supported"));
        Assert.Contains("S256", Strings(d, "code_challenge_methods_supported"));
        Assert.Contains("client_secret_basic", Strings(d, "token_endpoint_auth_methods_supported"));
        Assert.Contains("client_secret_post", Strings(d, "token_endpoint_auth_methods_supported"));
        Assert.Subset(Strings(d, "scopes_supported").ToHashSet(), new HashSet<string> { "openid", "profile", "email", "offline_access" });
        Assert.Contains("groups", Strings(d, "claims_supported"));
        Assert.DoesNotContain("groups", Strings(d, "scopes_supported"));

        // authentik: authorize/token/userinfo are shared; jwks and end-session are per slug.
        var origin = $"http://127.0.0.1:{idp.Port}";
        Assert.Equal($"{origin}/application/o/authorize/", d.GetProperty("authorization_endpoint").GetString());
        Assert.Equal($"{origin}/application/o/token/", d.GetProperty("token_endpoint").GetString());
        Assert.Equal($"{origin}/application/o/userinfo/", d.GetProperty("userinfo_endpoint").GetString());
        Assert.Equal($"{issuer}jwks/", d.GetProperty("jwks_uri").GetString());
        Assert.Equal($"{issuer}end-session/", d.GetProperty("end_session_endpoint").GetString());

        using var jwks = await GetJsonAsync(http, d.GetProperty("jwks_uri").GetString()!);
        var key = Assert.Single(jwks.RootElement.GetProperty("keys").EnumerateArray());
        Assert.Equal("RSA", key.GetProperty("kty").GetString());
        Assert.Equal("RS256", key.GetProperty("alg").GetString());
        Assert.False(string.IsNullOrEmpty(key.GetProperty("kid").GetString()));
        Assert.False(key.TryGetProperty("d", out _), "the JWKS must not leak the private key");

        // authentik redirects the bare issuer URL to its discovery document.
        using var noRedirect = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        using var bare = await noRedirect.GetAsync(new Uri(issuer));
        Assert.Equal(HttpStatusCode.Found, bare.StatusCode);
        Assert.EndsWith("/application/o/harbor-portal/.well-known/openid-configuration", bare.Headers.Location!.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Discovery_Advertises_Only_HS256_When_There_Is_No_Signing_Key()
    {
        await using var idp = await StartAsync("HS256");
        using var http = new HttpClient();

        using var discovery = await GetJsonAsync(http, idp.DiscoveryUrl);
        var d = discovery.RootElement;

        Assert.Equal(idp.Issuer, d.GetProperty("issuer").GetString());
        Assert.Equal(["HS256"], Strings(d, "id_token_signing_alg_values_supported"));

        using var jwks = await GetJsonAsync(http, d.GetProperty("jwks_uri").GetString()!);
        Assert.Empty(jwks.RootElement.GetProperty("keys").EnumerateArray());
    }

    [Fact]
    public async Task A_Server_That_Fails_To_Start_Reports_Its_Stderr()
    {
        // "token" is one of authentik's reserved slugs; the server refuses it and exits.
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => IdentityProviderFixture.StartAsync(new IdentityProviderOptions
        {
            Slug = "token",
            RedirectUris = [RedirectUri],
            Log = output.WriteLine,
        }));
        Assert.Contains("reserved", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Health_Endpoint_Answers_Ok()
    {
        await using var idp = await StartAsync("RS256");
        using var http = new HttpClient();
        using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{idp.Port}/_test/health"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("RS256")]
    [InlineData("HS256")]
    public async Task Code_Flow_With_Pkce_Issues_An_Authentik_Like_Id_Token(string signing)
    {
        await using var idp = await StartAsync(signing);
        using var rp = await RelyingParty.CreateAsync(idp);

        var tokens = await rp.SignInAsync("dev", "dev-pass");

        var (header, payload) = await rp.VerifyIdTokenAsync(tokens.IdToken);
        Assert.Equal(signing, header.GetProperty("alg").GetString());
        if (signing == "RS256")
        {
            Assert.False(string.IsNullOrEmpty(header.GetProperty("kid").GetString()));
        }

        var dev = IdentityProviderFixture.User("dev");
        Assert.Equal(idp.Issuer, payload.GetProperty("iss").GetString());
        Assert.Equal(idp.ClientId, payload.GetProperty("aud").GetString());
        Assert.Equal(tokens.Nonce, payload.GetProperty("nonce").GetString());
        Assert.Equal(dev.Sub, payload.GetProperty("sub").GetString());
        Assert.Equal(64, dev.Sub.Length);
        Assert.Equal("dev", payload.GetProperty("preferred_username").GetString());
        Assert.Equal("dev", payload.GetProperty("nickname").GetString());
        Assert.Equal("Dana Developer", payload.GetProperty("name").GetString());
        Assert.Equal("Dana Developer", payload.GetProperty("given_name").GetString());
        Assert.Equal(["harbor-portal-developers", "team-a"], Strings(payload, "groups"));
        Assert.Equal("dev@example.test", payload.GetProperty("email").GetString());
        Assert.Equal(JsonValueKind.False, payload.GetProperty("email_verified").ValueKind);
        Assert.False(string.IsNullOrEmpty(payload.GetProperty("sid").GetString()));
        Assert.Equal(["pwd"], Strings(payload, "amr"));
        Assert.True(payload.TryGetProperty("auth_time", out _));

        // The access token works at the (shared) userinfo endpoint, with the same claims.
        using var userinfo = await rp.UserInfoAsync(tokens.AccessToken);
        Assert.Equal(HttpStatusCode.OK, userinfo.Status);
        Assert.Equal(dev.Sub, userinfo.Json!.RootElement.GetProperty("sub").GetString());
        Assert.Equal(["harbor-portal-developers", "team-a"], Strings(userinfo.Json.RootElement, "groups"));
    }

    [Theory]
    [InlineData("RS256")]
    [InlineData("HS256")]
    public async Task Id_Token_Validates_With_Microsoft_IdentityModel_From_Discovery(string signing)
    {
        await using var idp = await StartAsync(signing);
        using var rp = await RelyingParty.CreateAsync(idp);
        var tokens = await rp.SignInAsync("nogroup", "nogroup-pass");

        // What the portal's OpenID Connect handler does: read discovery (over http), then validate.
        var manager = new ConfigurationManager<OpenIdConnectConfiguration>(
            idp.DiscoveryUrl, new OpenIdConnectConfigurationRetriever(), new HttpDocumentRetriever { RequireHttps = false });
        var configuration = await manager.GetConfigurationAsync(CancellationToken.None);
        Assert.Equal(idp.Issuer, configuration.Issuer);
        Assert.Equal(signing == "RS256" ? 1 : 0, configuration.SigningKeys.Count);

        var parameters = new TokenValidationParameters
        {
            ValidIssuer = configuration.Issuer,
            ValidAudience = idp.ClientId,
            ValidAlgorithms = configuration.IdTokenSigningAlgValuesSupported,
            // authentik without a signing key (HS256): the client secret is the key.
            IssuerSigningKeys = signing == "RS256"
                ? configuration.SigningKeys
                : [new SymmetricSecurityKey(Encoding.UTF8.GetBytes(idp.ClientSecret))],
        };
        var result = await new JsonWebTokenHandler().ValidateTokenAsync(tokens.IdToken, parameters);
        Assert.True(result.IsValid, result.Exception?.ToString());
        Assert.Equal("nogroup", result.Claims["preferred_username"]);
        Assert.Equal(IdentityProviderFixture.User("nogroup").Sub, result.Claims["sub"]);
    }

    [Fact]
    public async Task Wrong_Password_Shows_The_Form_Again()
    {
        await using var idp = await StartAsync("RS256");
        using var rp = await RelyingParty.CreateAsync(idp);

        var login = await rp.StartAuthorizeAsync(scope: "openid profile email");
        var page = Assert.IsType<string>(login.LoginPage);
        Assert.Contains("authentik", page, StringComparison.Ordinal);

        var (status, body, _) = await rp.SubmitLoginAsync(login, "dev", "not-the-password");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("Invalid username or password", body, StringComparison.Ordinal);
        Assert.Contains("name=\"password\"", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Session_Is_Reused_Until_Rp_Initiated_Logout_Which_Also_Sends_Back_Channel_Logout()
    {
        await using var receiver = await BackchannelReceiver.StartAsync();
        await using var idp = await StartAsync("RS256", receiver.Uri);
        using var rp = await RelyingParty.CreateAsync(idp);

        var first = await rp.SignInAsync("viewer", "viewer-pass");

        // Second authorize: the provider session (cookie) is kept, no password asked.
        var again = await rp.StartAuthorizeAsync();
        Assert.Null(again.LoginPage);
        Assert.NotNull(again.Code);

        // RP-initiated logout with id_token_hint and a registered post_logout_redirect_uri.
        var landing = await rp.LogoutAsync(first.IdToken, PostLogoutRedirectUri, state: "bye");
        Assert.StartsWith(PostLogoutRedirectUri, landing.ToString(), StringComparison.Ordinal);
        Assert.Equal("bye", HttpUtility.ParseQueryString(landing.Query)["state"]);

        var (_, firstPayload) = await rp.VerifyIdTokenAsync(first.IdToken);
        var logoutToken = await receiver.NextAsync();
        var (_, logoutPayload) = await rp.VerifyIdTokenAsync(logoutToken, expectedTyp: "logout+jwt");
        Assert.Equal(firstPayload.GetProperty("sid").GetString(), logoutPayload.GetProperty("sid").GetString());
        Assert.Equal(IdentityProviderFixture.User("viewer").Sub, logoutPayload.GetProperty("sub").GetString());

        // After logout the password is asked again.
        var afterLogout = await rp.StartAuthorizeAsync();
        Assert.NotNull(afterLogout.LoginPage);
    }

    [Fact]
    public async Task Logout_With_An_Unregistered_Post_Logout_Uri_Is_Refused()
    {
        await using var idp = await StartAsync("RS256");
        using var rp = await RelyingParty.CreateAsync(idp);
        var tokens = await rp.SignInAsync("dev", "dev-pass");

        var url = $"{rp.EndSessionEndpoint}?id_token_hint={Uri.EscapeDataString(tokens.IdToken)}&post_logout_redirect_uri={Uri.EscapeDataString("http://127.0.0.1:1/elsewhere")}";
        var (status, _, location) = await rp.SendAsync(new HttpRequestMessage(HttpMethod.Get, url));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Null(location);

        // authentik requires id_token_hint along with post_logout_redirect_uri.
        url = $"{rp.EndSessionEndpoint}?post_logout_redirect_uri={Uri.EscapeDataString(PostLogoutRedirectUri)}";
        (status, _, location) = await rp.SendAsync(new HttpRequestMessage(HttpMethod.Get, url));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Null(location);
    }

    [Theory]
    [InlineData("RS256")]
    [InlineData("HS256")]
    public async Task Ending_Sessions_Sends_A_Back_Channel_Logout_Token_And_Forgets_The_Session(string signing)
    {
        await using var receiver = await BackchannelReceiver.StartAsync();
        await using var idp = await StartAsync(signing, receiver.Uri);
        using var rp = await RelyingParty.CreateAsync(idp);

        var tokens = await rp.SignInAsync("sec", "sec-pass");
        var (_, idPayload) = await rp.VerifyIdTokenAsync(tokens.IdToken);

        var result = await idp.EndSessionsDetailedAsync("sec");
        Assert.Equal(1, result.Sessions);
        Assert.Equal(1, result.Delivered);
        Assert.Equal([200], result.Statuses);

        var logoutToken = await receiver.NextAsync();
        var (header, payload) = await rp.VerifyIdTokenAsync(logoutToken, expectedTyp: "logout+jwt");
        Assert.Equal(signing, header.GetProperty("alg").GetString());
        Assert.Equal(idp.Issuer, payload.GetProperty("iss").GetString());
        Assert.Equal(idp.ClientId, payload.GetProperty("aud").GetString());
        Assert.Equal(idPayload.GetProperty("sub").GetString(), payload.GetProperty("sub").GetString());
        Assert.Equal(idPayload.GetProperty("sid").GetString(), payload.GetProperty("sid").GetString());
        Assert.True(payload.TryGetProperty("iat", out _));
        Assert.False(string.IsNullOrEmpty(payload.GetProperty("jti").GetString()));
        Assert.True(payload.GetProperty("events").TryGetProperty("http://schemas.openid.net/event/backchannel-logout", out _));
        Assert.False(payload.TryGetProperty("nonce", out _));

        // The session's tokens are revoked and the next authorize asks for the password again.
        using var userinfo = await rp.UserInfoAsync(tokens.AccessToken);
        Assert.Equal(HttpStatusCode.Unauthorized, userinfo.Status);
        var next = await rp.StartAuthorizeAsync();
        Assert.NotNull(next.LoginPage);

        // Nothing left to end.
        Assert.Equal(0, await idp.EndSessionsAsync("sec"));
    }

    [Fact]
    public async Task Offline_Access_Is_Granted_Without_A_Consent_Page_And_Refresh_Tokens_Rotate()
    {
        await using var idp = await StartAsync("RS256");
        using var rp = await RelyingParty.CreateAsync(idp);

        var tokens = await rp.SignInAsync("akadmin", "admin-pass", scope: "openid profile email offline_access");
        Assert.False(string.IsNullOrEmpty(tokens.RefreshToken));

        using var refreshed = await rp.TokenRequestAsync(new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token",
            ["refresh_token"] = tokens.RefreshToken!,
        }, useBasicAuth: false);
        Assert.Equal(HttpStatusCode.OK, refreshed.Status);
        var rotated = refreshed.Json!.RootElement.GetProperty("refresh_token").GetString();
        Assert.NotEqual(tokens.RefreshToken, rotated);
        var (_, payload) = await rp.VerifyIdTokenAsync(refreshed.Json.RootElement.GetProperty("id_token").GetString()!);
        Assert.Equal(["harbor-portal-admins"], Strings(payload, "groups"));
    }

    private Task<IdentityProviderFixture> StartAsync(string signing, string? backchannelLogoutUri = null) =>
        IdentityProviderFixture.StartAsync(new IdentityProviderOptions
        {
            RedirectUris = [RedirectUri],
            PostLogoutRedirectUris = [PostLogoutRedirectUri],
            BackchannelLogoutUri = backchannelLogoutUri,
            Signing = signing,
            Log = output.WriteLine,
        });

    private static async Task<JsonDocument> GetJsonAsync(HttpClient http, string url)
    {
        using var response = await http.GetAsync(new Uri(url));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync());
    }

    private static string[] Strings(JsonElement element, string property) =>
        [.. element.GetProperty(property).EnumerateArray().Select(e => e.GetString()!)];

    private sealed record TokenSet(string IdToken, string AccessToken, string? RefreshToken, string Nonce);

    private sealed record AuthorizeResult(string? LoginPage, Uri? LoginPageUrl, string? Code, string Verifier, string Nonce);

    private sealed class JsonResponse(HttpStatusCode status, JsonDocument? json) : IDisposable
    {
        public HttpStatusCode Status { get; } = status;

        public JsonDocument? Json { get; } = json;

        public void Dispose() => Json?.Dispose();
    }

    /// <summary>A hand-written relying party: HttpClient with cookies, redirects followed manually.</summary>
    private sealed class RelyingParty : IDisposable
    {
        private readonly IdentityProviderFixture _idp;
        private readonly HttpClient _http;
        private readonly JsonDocument _discovery;

        private RelyingParty(IdentityProviderFixture idp, HttpClient http, JsonDocument discovery)
        {
            _idp = idp;
            _http = http;
            _discovery = discovery;
        }

        public string EndSessionEndpoint => Endpoint("end_session_endpoint");

        public static async Task<RelyingParty> CreateAsync(IdentityProviderFixture idp)
        {
            var http = new HttpClient(new HttpClientHandler
            {
                AllowAutoRedirect = false,
                UseCookies = true,
                CookieContainer = new CookieContainer(),
            });
            using var response = await http.GetAsync(new Uri(idp.DiscoveryUrl));
            response.EnsureSuccessStatusCode();
            var discovery = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            return new RelyingParty(idp, http, discovery);
        }

        public async Task<TokenSet> SignInAsync(string username, string password, string scope = "openid profile email")
        {
            var authorize = await StartAuthorizeAsync(scope);
            var code = authorize.Code;
            if (code is null)
            {
                var (status, body, location) = await SubmitLoginAsync(authorize, username, password);
                Assert.True(status == HttpStatusCode.SeeOther, $"login should redirect, got {(int)status}: {body}");
                var (_, _, callback) = await FollowAsync(location!);
                code = CodeFrom(callback!);
            }

            using var token = await TokenRequestAsync(new Dictionary<string, string>
            {
                ["grant_type"] = "authorization_code",
                ["code"] = code,
                ["redirect_uri"] = RedirectUri,
                ["code_verifier"] = authorize.Verifier,
            });
            Assert.True(token.Status == HttpStatusCode.OK, $"token request failed: {token.Json?.RootElement}");
            var t = token.Json!.RootElement;
            Assert.Equal("Bearer", t.GetProperty("token_type").GetString());
            return new TokenSet(
                t.GetProperty("id_token").GetString()!,
                t.GetProperty("access_token").GetString()!,
                t.TryGetProperty("refresh_token", out var rt) ? rt.GetString() : null,
                authorize.Nonce);
        }

        /// <summary>GET authorize (PKCE S256, nonce, state); stops at the login page or at the redirect URI.</summary>
        public async Task<AuthorizeResult> StartAuthorizeAsync(string scope = "openid profile email")
        {
            var verifier = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
            var challenge = Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
            var nonce = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16));
            var state = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16));
            var query = new Dictionary<string, string>
            {
                ["client_id"] = _idp.ClientId,
                ["response_type"] = "code",
                ["scope"] = scope,
                ["redirect_uri"] = RedirectUri,
                ["code_challenge"] = challenge,
                ["code_challenge_method"] = "S256",
                ["nonce"] = nonce,
                ["state"] = state,
            };
            var url = Endpoint("authorization_endpoint") + "?" + string.Join('&', query.Select(kv => $"{kv.Key}={Uri.EscapeDataString(kv.Value)}"));

            var (finalUrl, body, callback) = await FollowAsync(new Uri(url));
            if (callback is not null)
            {
                Assert.Equal(state, HttpUtility.ParseQueryString(callback.Query)["state"]);
                return new AuthorizeResult(null, null, CodeFrom(callback), verifier, nonce);
            }

            Assert.Contains("name=\"username\"", body, StringComparison.Ordinal);
            return new AuthorizeResult(body, finalUrl, null, verifier, nonce);
        }

        public async Task<(HttpStatusCode Status, string Body, Uri? Location)> SubmitLoginAsync(AuthorizeResult authorize, string username, string password)
        {
            var document = new HtmlParser().ParseDocument(authorize.LoginPage!);
            var form = document.QuerySelector("form")!;
            Assert.NotNull(document.QuerySelector("input[name=password][type=password]"));
            Assert.Equal("Log in", document.QuerySelector("button[type=submit]")!.TextContent.Trim());
            var action = new Uri(authorize.LoginPageUrl!, form.GetAttribute("action"));
            using var content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["username"] = username,
                ["password"] = password,
            });
            return await SendAsync(new HttpRequestMessage(HttpMethod.Post, action) { Content = content }, action);
        }

        /// <summary>RP-initiated logout; submits the provider's auto-posting form; returns where it lands.</summary>
        public async Task<Uri> LogoutAsync(string idTokenHint, string postLogoutRedirectUri, string state)
        {
            var url = new Uri($"{EndSessionEndpoint}?id_token_hint={Uri.EscapeDataString(idTokenHint)}&post_logout_redirect_uri={Uri.EscapeDataString(postLogoutRedirectUri)}&state={state}");
            var (status, body, _) = await SendAsync(new HttpRequestMessage(HttpMethod.Get, url), url);
            Assert.Equal(HttpStatusCode.OK, status);

            var form = new HtmlParser().ParseDocument(body).QuerySelector("form")!;
            var action = new Uri(url, form.GetAttribute("action"));
            var fields = form.QuerySelectorAll("input[type=hidden]")
                .ToDictionary(i => i.GetAttribute("name")!, i => i.GetAttribute("value") ?? string.Empty);
            using var content = new FormUrlEncodedContent(fields);
            (status, _, var location) = await SendAsync(new HttpRequestMessage(HttpMethod.Post, action) { Content = content }, action);
            Assert.Equal(HttpStatusCode.SeeOther, status);
            return location!;
        }

        public async Task<JsonResponse> TokenRequestAsync(Dictionary<string, string> form, bool useBasicAuth = true)
        {
            if (!useBasicAuth)
            {
                // client_secret_post is accepted as well.
                form["client_id"] = _idp.ClientId;
                form["client_secret"] = _idp.ClientSecret;
            }

            using var request = new HttpRequestMessage(HttpMethod.Post, Endpoint("token_endpoint"))
            {
                Content = new FormUrlEncodedContent(form),
            };
            if (useBasicAuth)
            {
                var basic = Uri.EscapeDataString(_idp.ClientId) + ":" + Uri.EscapeDataString(_idp.ClientSecret);
                request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(basic)));
            }

            using var response = await _http.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            return new JsonResponse(response.StatusCode, JsonDocument.Parse(body));
        }

        public async Task<JsonResponse> UserInfoAsync(string accessToken)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, Endpoint("userinfo_endpoint"));
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
            using var response = await _http.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            return new JsonResponse(response.StatusCode, response.IsSuccessStatusCode ? JsonDocument.Parse(body) : null);
        }

        /// <summary>Checks the JWT's signature (JWKS key for RS256, client secret for HS256) and returns header and payload.</summary>
        public async Task<(JsonElement Header, JsonElement Payload)> VerifyIdTokenAsync(string jwt, string? expectedTyp = null)
        {
            var parts = jwt.Split('.');
            Assert.Equal(3, parts.Length);
            var header = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[0])).RootElement.Clone();
            var payload = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[1])).RootElement.Clone();
            var signed = Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]);
            var signature = Base64Url.DecodeFromChars(parts[2]);

            if (expectedTyp is not null)
            {
                Assert.Equal(expectedTyp, header.GetProperty("typ").GetString());
            }

            switch (header.GetProperty("alg").GetString())
            {
                case "HS256":
                    var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(_idp.ClientSecret), signed);
                    Assert.True(CryptographicOperations.FixedTimeEquals(mac, signature), "HS256 signature does not verify with the client secret");
                    break;
                case "RS256":
                    using (var response = await _http.GetAsync(new Uri(Endpoint("jwks_uri"))))
                    {
                        using var jwks = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                        var kid = header.GetProperty("kid").GetString();
                        var key = jwks.RootElement.GetProperty("keys").EnumerateArray().Single(k => k.GetProperty("kid").GetString() == kid);
                        using var rsa = RSA.Create(new RSAParameters
                        {
                            Modulus = Base64Url.DecodeFromChars(key.GetProperty("n").GetString()),
                            Exponent = Base64Url.DecodeFromChars(key.GetProperty("e").GetString()),
                        });
                        Assert.True(rsa.VerifyData(signed, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1), "RS256 signature does not verify with the JWKS key");
                    }

                    break;
                default:
                    Assert.Fail($"unexpected alg {header.GetProperty("alg")}");
                    break;
            }

            return (header, payload);
        }

        /// <summary>Follows redirects (keeping cookies) until a non-redirect answer or the redirect URI.</summary>
        public async Task<(Uri Url, string Body, Uri? Callback)> FollowAsync(Uri url)
        {
            for (var hops = 0; hops < 20; hops++)
            {
                if (url.ToString().StartsWith(RedirectUri, StringComparison.Ordinal))
                {
                    return (url, string.Empty, url);
                }

                var (status, body, location) = await SendAsync(new HttpRequestMessage(HttpMethod.Get, url), url);
                if (location is null)
                {
                    Assert.True(status == HttpStatusCode.OK, $"GET {url} answered {(int)status}: {body}");
                    return (url, body, null);
                }

                url = location;
            }

            throw new InvalidOperationException("too many redirects");
        }

        public async Task<(HttpStatusCode Status, string Body, Uri? Location)> SendAsync(HttpRequestMessage request, Uri? baseUri = null)
        {
            using (request)
            using (var response = await _http.SendAsync(request))
            {
                var body = await response.Content.ReadAsStringAsync();
                var location = response.Headers.Location is { } l ? new Uri(baseUri ?? request.RequestUri!, l) : null;
                return (response.StatusCode, body, location);
            }
        }

        public void Dispose()
        {
            _discovery.Dispose();
            _http.Dispose();
        }

        private static string CodeFrom(Uri callback) =>
            HttpUtility.ParseQueryString(callback.Query)["code"] ?? throw new InvalidOperationException($"no code in {callback}");

        private string Endpoint(string name) => _discovery.RootElement.GetProperty(name).GetString()!;
    }

    /// <summary>A real HTTP endpoint (Kestrel on loopback) that records back-channel logout tokens and answers 200.</summary>
    private sealed class BackchannelReceiver : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly BlockingCollection<string> _tokens;

        private BackchannelReceiver(WebApplication app, BlockingCollection<string> tokens, string uri)
        {
            _app = app;
            _tokens = tokens;
            Uri = uri;
        }

        public string Uri { get; }

        public static async Task<BackchannelReceiver> StartAsync()
        {
            var tokens = new BlockingCollection<string>();
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var app = builder.Build();
            app.MapPost("/backchannel-logout", async (HttpRequest request) =>
            {
                var form = await request.ReadFormAsync();
                tokens.Add(form["logout_token"].ToString());
                return Results.Ok();
            });
            await app.StartAsync();
            return new BackchannelReceiver(app, tokens, app.Urls.First().TrimEnd('/') + "/backchannel-logout");
        }

        public Task<string> NextAsync() => Task.Run(() =>
            _tokens.TryTake(out var token, TimeSpan.FromSeconds(15)) ? token : throw new TimeoutException("no back-channel logout token arrived"));

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
            _tokens.Dispose();
        }
    }
}
