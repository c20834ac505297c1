using System.Net;
using HarborPortal.Tests.Features.Auth;
using HarborPortal.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;

namespace HarborPortal.Tests.Web;

/// <summary>
/// Behind a TLS-terminating proxy the redirect URI authentik sees must be the public one — but only when a
/// trusted proxy says so. Runs the portal on Kestrel, so requests have a real (loopback) remote address.
/// </summary>
public sealed class ForwardedHeadersTests : IAsyncLifetime
{
    private TestIdentityProvider _idp = null!;

    public async Task InitializeAsync() => _idp = await TestIdentityProvider.StartAsync();

    public async Task DisposeAsync() => await _idp.DisposeAsync();

    [Fact]
    public async Task A_Proxy_On_This_Machine_Makes_The_Redirect_Uri_The_Public_One()
    {
        var redirectUri = await RedirectUriBehindProxyAsync(extra: []);

        Assert.Equal("https://portal.company/signin-oidc", redirectUri);
    }

    [Fact]
    public async Task Forwarded_Headers_From_An_Untrusted_Address_Are_Ignored()
    {
        // Only 10.9.8.7 is a trusted proxy; the request comes from loopback.
        var redirectUri = await RedirectUriBehindProxyAsync(new() { ["ForwardedHeaders:KnownProxies:0"] = "10.9.8.7" });

        Assert.StartsWith("http://127.0.0.1:", redirectUri);
        Assert.EndsWith("/signin-oidc", redirectUri);
    }

    [Fact]
    public async Task A_Malformed_Proxy_Address_Stops_The_Portal_With_A_Message()
    {
        await using var app = Portal(new() { ["ForwardedHeaders:KnownNetworks:0"] = "10.0.0.0/33" });
        app.UseKestrel(FreePort.Next());

        var error = Assert.Throws<InvalidOperationException>(app.StartServer);
        Assert.Contains("ForwardedHeaders:KnownNetworks", error.Message);
    }

    private async Task<string> RedirectUriBehindProxyAsync(Dictionary<string, string?> extra)
    {
        await using var app = Portal(extra);
        var port = FreePort.Next();
        app.UseKestrel(port);
        app.StartServer();
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        using var request = new HttpRequestMessage(HttpMethod.Get, "/account/login/oidc");
        request.Headers.Add("X-Forwarded-Proto", "https");
        request.Headers.Add("X-Forwarded-Host", "portal.company");
        request.Headers.Add("X-Forwarded-For", "203.0.113.5");
        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return QueryHelpers.ParseQuery(response.Headers.Location!.Query)["redirect_uri"].ToString();
    }

    private PortalApplication Portal(Dictionary<string, string?> extra)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Oidc:Authority"] = _idp.Issuer,
            ["Oidc:ClientId"] = TestIdentityProvider.ClientId,
            ["Oidc:ClientSecret"] = TestIdentityProvider.ClientSecret,
            ["Oidc:RequireHttpsMetadata"] = "false",
        };
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }

        return new PortalApplication(settings);
    }
}
