using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using HarborPortal.Data;
using HarborPortal.Features.Api;
using HarborPortal.Features.Audit;
using HarborPortal.Features.Auth;
using HarborPortal.Tests.Features.Auth;
using HarborPortal.Tests.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace HarborPortal.Tests.Features.Api;

public sealed class ApiTests(ITestOutputHelper output)
{
    private const string Password = "correct-horse-battery-staple";

    [Fact]
    public async Task The_OpenApi_Document_Describes_The_Json_Api_For_A_Signed_In_User()
    {
        await using var app = new PortalApplication(new Dictionary<string, string?> { ["LocalAdmin:Password"] = Password }, output);
        using var anonymous = app.CreateClientWithCookies();
        using var refused = await anonymous.GetAsync(ApiEndpoints.OpenApiPath);
        using var browser = app.CreateClientWithCookies();
        (await PortalApplication.SignInLocalAdminAsync(browser, "admin", Password)).Dispose();

        using var response = await browser.GetAsync(ApiEndpoints.OpenApiPath);

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var paths = document.RootElement.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Contains("/api/v1/me", paths);
        Assert.Contains("/api/v1/audit", paths);
        Assert.All(paths, p => Assert.StartsWith("/api/v1/", p, StringComparison.Ordinal));
        Assert.Equal("bearer", document.RootElement.GetProperty("components").GetProperty("securitySchemes").GetProperty("ApiToken").GetProperty("scheme").GetString());
    }

    [Fact]
    public async Task Every_Api_Endpoint_Names_A_Role_Policy()
    {
        await using var app = new PortalApplication(output: output);
        using var client = app.CreateClient();

        var endpoints = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith(ApiEndpoints.Prefix, StringComparison.Ordinal) == true)
            .ToList();

        Assert.NotEmpty(endpoints);
        Assert.All(endpoints, e => Assert.Contains(e.Metadata.GetOrderedMetadata<IAuthorizeData>(), a => a.Policy == PortalPolicies.Viewer));
        var audit = Assert.Single(endpoints, e => e.RoutePattern.RawText == "/api/v1/audit");
        Assert.Contains(audit.Metadata.GetOrderedMetadata<IAuthorizeData>(), a => a.Policy == PortalPolicies.Admin);
    }

    [Fact]
    public async Task Not_Found_Is_Problem_Json()
    {
        await using var app = new PortalApplication(output: output);
        using var client = app.CreateClient();
        var token = await ApiTokenTests.CreateTokenAsync(app, "ci-bot", "Viewer");

        using var response = await ApiTokenTests.SendAsync(client, HttpMethod.Get, "/api/v1/nothing-here", token);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Not_Found_Is_Problem_Json_Even_For_A_Browser()
    {
        await using var app = new PortalApplication(new Dictionary<string, string?> { ["LocalAdmin:Password"] = Password }, output);
        using var browser = app.CreateClientWithCookies();
        (await PortalApplication.SignInLocalAdminAsync(browser, "admin", Password)).Dispose();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/nothing-here");
        request.Headers.Accept.ParseAdd("text/html");

        using var response = await browser.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(404, problem.RootElement.GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task A_Malformed_Query_Is_A_400_Problem()
    {
        await using var app = new PortalApplication(output: output);
        using var client = app.CreateClient();
        var token = await ApiTokenTests.CreateTokenAsync(app, "ci-bot", "Admin");

        using var response = await ApiTokenTests.SendAsync(client, HttpMethod.Get, "/api/v1/audit?from=yesterday", token);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task An_Unhandled_Exception_Is_A_500_Problem_That_Tells_Nothing_Internal()
    {
        var broken = false;
        await using var app = new PortalApplication(output: output, configureServices: services =>
            services.AddScoped<PortalDbContext>(sp => broken
                ? throw new InvalidOperationException("internal detail: connection string xyz")
                : sp.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContext()));
        using var client = app.CreateClient();
        var token = await ApiTokenTests.CreateTokenAsync(app, "ci-bot", "Admin");

        broken = true;
        using var response = await ApiTokenTests.SendAsync(client, HttpMethod.Get, "/api/v1/audit", token);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("internal detail", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_Audit_Api_Filters_And_Pages_Newest_First()
    {
        await using var app = new PortalApplication(output: output);
        using var client = app.CreateClient();
        var token = await ApiTokenTests.CreateTokenAsync(app, "ci-bot", "Admin");
        var day = new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
        await using (var db = app.CreateDbContext())
        {
            db.AuditEvents.AddRange(Enumerable.Range(0, 120).Select(i => new AuditEvent
            {
                At = day.AddHours(i),
                Action = i % 2 == 0 ? "signin" : "job.run",
                Succeeded = i % 3 != 0,
                Actor = i % 4 == 0 ? "alice" : "bob",
            }));
            await db.SaveChangesAsync();
        }

        var first = await GetAuditAsync(client, token, "?action=signin");
        var second = await GetAuditAsync(client, token, $"?action=signin&before={first.NextBefore}");
        var failedAlice = await GetAuditAsync(client, token, "?actor=alice&success=false");
        var firstDay = await GetAuditAsync(client, token, "?from=2026-03-01&to=2026-03-01&limit=200");

        Assert.Equal(AuditQuery.PageSize, first.Items.Count);
        Assert.All(first.Items, e => Assert.Equal("signin", e.Action));
        Assert.True(first.Items.Zip(first.Items.Skip(1)).All(pair => pair.First.Id > pair.Second.Id));
        Assert.Equal(10, second.Items.Count);
        Assert.Null(second.NextBefore);
        Assert.True(second.Items[0].Id < first.Items[^1].Id);
        Assert.Equal(10, failedAlice.Items.Count);
        Assert.Equal(12, firstDay.Items.Count);
    }

    private static async Task<AuditPageResponse> GetAuditAsync(HttpClient client, string token, string query)
    {
        using var response = await ApiTokenTests.SendAsync(client, HttpMethod.Get, "/api/v1/audit" + query, token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<AuditPageResponse>())!;
    }
}
