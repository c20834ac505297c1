using HarborPortal.Features.Auth;
using HarborPortal.Tests.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Infrastructure;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace HarborPortal.Tests.Features.Auth;

/// <summary>
/// Lists every endpoint the app maps and proves that each needs an authenticated user with the right role,
/// except the few that must be reachable before signing in. A new endpoint without a policy fails here.
/// </summary>
public sealed class EndpointAuthorizationTests : IAsyncLifetime
{
    private readonly PortalApplication _app = new();

    /// <summary>Reachable without signing in, and why.</summary>
    private static readonly HashSet<string> Anonymous = new(StringComparer.OrdinalIgnoreCase)
    {
        "/account/login",                 // the login page
        "/account/login/oidc",            // starts the authentik challenge
        "/account/login/local",           // the break-glass admin's form post
        "/account/logout",                // a POST with an antiforgery token; works for an already-expired session too
        "/signout-callback-oidc",         // authentik's post-logout redirect
        "/signout-backchannel-oidc",      // authentik's back-channel logout (the logout token is the credential)
        "/api/webhooks/harbor/{connectionId:long}", // Harbor's webhooks (the connection's webhook secret is the credential)
        "/healthz",                       // liveness probe
        "/readyz",                        // readiness probe
        "/metrics",                       // Prometheus scrape: refused (403) outside loopback and Metrics:AllowedNetworks
        "/error",                         // error pages, re-executed for any status
        "/error/{Code:int}",
        "/not-found",
    };

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Every_Endpoint_Needs_A_Signed_In_User_With_The_Right_Role()
    {
        _app.CreateClient().Dispose(); // start the host
        var endpoints = _app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();
        var policies = _app.Services.GetRequiredService<IAuthorizationPolicyProvider>();
        Assert.NotEmpty(endpoints);

        var problems = new List<string>();
        foreach (var endpoint in endpoints)
        {
            var route = "/" + (endpoint.RoutePattern.RawText ?? "").TrimStart('/');
            var methods = string.Join(",", endpoint.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()?.HttpMethods ?? ["*"]);
            var name = $"{methods} {route}";

            if (endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null)
            {
                if (!Anonymous.Contains(route))
                {
                    problems.Add($"{name} allows anonymous access but is not on the list of public endpoints");
                }

                continue;
            }

            var authorizeData = endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>();
            var policy = authorizeData.Count > 0
                ? await AuthorizationPolicy.CombineAsync(policies, authorizeData, endpoint.Metadata.GetOrderedMetadata<AuthorizationPolicy>())
                : await policies.GetFallbackPolicyAsync();
            if (policy is null)
            {
                problems.Add($"{name} has no authorization policy");
                continue;
            }

            if (!policy.Requirements.OfType<DenyAnonymousAuthorizationRequirement>().Any())
            {
                problems.Add($"{name} does not require an authenticated user");
            }

            var roleSets = policy.Requirements.OfType<RolesAuthorizationRequirement>().Select(r => r.AllowedRoles.ToHashSet()).ToList();
            if (roleSets.Count == 0)
            {
                problems.Add($"{name} does not require a portal role");
                continue;
            }

            // Several role requirements must all hold: the effective set is their intersection.
            var allowed = roleSets.Aggregate((a, b) => a.Intersect(b).ToHashSet());
            var expected = ExpectedRoles(route);
            if (!allowed.IsSubsetOf(expected))
            {
                problems.Add($"{name} allows [{string.Join(",", allowed)}], expected at most [{string.Join(",", expected)}]");
            }
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public async Task Anonymous_Requests_To_Protected_Endpoints_Are_Refused()
    {
        using var client = _app.CreateClientWithCookies();
        var endpoints = _app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<IAllowAnonymous>() is null)
            .Where(e => !(e.RoutePattern.RawText ?? "").Contains('{'))
            .ToList();

        foreach (var endpoint in endpoints)
        {
            var route = "/" + (endpoint.RoutePattern.RawText ?? "").TrimStart('/');
            var method = endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods.FirstOrDefault() ?? "GET";
            using var request = new HttpRequestMessage(new HttpMethod(method), route);
            var response = await client.SendAsync(request);
            var status = (int)response.StatusCode;
            Assert.True(status is 302 or 401 or 400, $"{method} {route} answered {status} to an anonymous request");
            if (status == 302)
            {
                Assert.StartsWith("/account/login", response.Headers.Location!.PathAndQuery);
            }
        }
    }

    private static IReadOnlySet<string> ExpectedRoles(string route) => route switch
    {
        _ when route.StartsWith("/admin", StringComparison.OrdinalIgnoreCase) => new HashSet<string> { PortalRoles.Admin },
        _ when route.StartsWith("/api/v1/audit", StringComparison.OrdinalIgnoreCase) => new HashSet<string> { PortalRoles.Admin },
        _ => PortalRoles.All.ToHashSet(),
    };
}
