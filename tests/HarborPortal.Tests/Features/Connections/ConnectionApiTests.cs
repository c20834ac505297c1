using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using HarborPortal.Features.Auth;
using HarborPortal.Features.Connections;
using HarborPortal.Tests.Features.Auth;
using HarborPortal.Tests.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace HarborPortal.Tests.Features.Connections;

public sealed class ConnectionApiTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Secret = "Api-S3cret-Value-7";
    private readonly PortalApplication _app = new(output: output);
    private HttpClient _client = null!;
    private string _adminToken = null!;

    public async Task InitializeAsync()
    {
        _client = _app.CreateClient();
        _adminToken = await ApiTokenTests.CreateTokenAsync(_app, "automation", PortalRoles.Admin);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _app.DisposeAsync();
    }

    [Fact]
    public async Task An_Admin_Token_Creates_Reads_Updates_And_Deletes_A_Connection_And_The_Secret_Never_Comes_Back()
    {
        using var created = await SendAsync(HttpMethod.Post, "/api/v1/connections", NewConnection());
        var createdJson = await created.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var connection = JsonDocument.Parse(createdJson).RootElement;
        var id = connection.GetProperty("id").GetInt64();
        Assert.Equal($"/api/v1/connections/{id}", created.Headers.Location!.OriginalString);
        Assert.Equal("https://harbor.example.com", connection.GetProperty("url").GetString());
        Assert.Equal("Robot", connection.GetProperty("authKind").GetString());
        Assert.True(connection.GetProperty("hasSecret").GetBoolean());
        Assert.True(connection.TryGetProperty("secretUpdatedAt", out _));
        Assert.False(connection.TryGetProperty("secret", out _));

        using var list = await SendAsync(HttpMethod.Get, "/api/v1/connections");
        using var one = await SendAsync(HttpMethod.Get, $"/api/v1/connections/{id}");
        using var updated = await SendAsync(HttpMethod.Put, $"/api/v1/connections/{id}", NewConnection() with { Name = "renamed", Secret = null, Enabled = false });
        var updatedJson = await updated.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        Assert.Equal("renamed", JsonDocument.Parse(updatedJson).RootElement.GetProperty("name").GetString());
        foreach (var body in new[] { createdJson, await list.Content.ReadAsStringAsync(), await one.Content.ReadAsStringAsync(), updatedJson })
        {
            Assert.DoesNotContain(Secret, body, StringComparison.Ordinal);
        }

        await using (var db = _app.CreateDbContext())
        {
            Assert.Equal(Secret, _app.Services.GetRequiredService<ConnectionSecrets>().Unprotect(await db.HarborConnections.SingleAsync()));
        }

        using var deleted = await SendAsync(HttpMethod.Delete, $"/api/v1/connections/{id}?findings=purge");
        using var gone = await SendAsync(HttpMethod.Get, $"/api/v1/connections/{id}");

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Equal("application/problem+json", gone.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Scan_Unscanned_Artifacts_Defaults_To_Off_And_Can_Be_Turned_On()
    {
        using var created = await SendAsync(HttpMethod.Post, "/api/v1/connections", NewConnection());
        var id = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetInt64();
        Assert.False(JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("scanUnscanned").GetBoolean());

        using var updated = await SendAsync(HttpMethod.Put, $"/api/v1/connections/{id}", NewConnection() with { Secret = null, ScanUnscanned = true });

        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        Assert.True(JsonDocument.Parse(await updated.Content.ReadAsStringAsync()).RootElement.GetProperty("scanUnscanned").GetBoolean());
    }

    [Fact]
    public async Task A_Bad_Url_And_A_Missing_Secret_Are_A_Validation_Problem_Naming_The_Fields()
    {
        using var response = await SendAsync(HttpMethod.Post, "/api/v1/connections", NewConnection() with { Url = "ftp://harbor.example.com", Secret = null });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("errors");
        Assert.Contains("ftp:", errors.GetProperty("url")[0].GetString(), StringComparison.Ordinal);
        Assert.True(errors.TryGetProperty("secret", out _));
    }

    [Fact]
    public async Task Delete_Needs_An_Explicit_Findings_Choice()
    {
        using var created = await SendAsync(HttpMethod.Post, "/api/v1/connections", NewConnection());
        var id = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetInt64();

        using var response = await SendAsync(HttpMethod.Delete, $"/api/v1/connections/{id}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True(JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("errors").TryGetProperty("findings", out _));
    }

    [Fact]
    public async Task A_Signed_In_Admin_Cookie_May_Read_But_Not_Create()
    {
        using var browser = _app.CreateClientWithCookies();
        await _app.SignInAsAsync(browser, "alice", PortalRoles.Admin);

        using var read = await browser.GetAsync("/api/v1/connections");
        using var write = await browser.PostAsJsonAsync("/api/v1/connections", NewConnection());

        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, write.StatusCode);
        await using var db = _app.CreateDbContext();
        Assert.False(await db.HarborConnections.AnyAsync());
    }

    [Theory]
    [InlineData(PortalRoles.Security)]
    [InlineData(PortalRoles.Viewer)]
    public async Task Tokens_Of_Other_Roles_Are_Refused(string role)
    {
        var token = await ApiTokenTests.CreateTokenAsync(_app, "someone", role);

        using var read = await ApiTokenTests.SendAsync(_client, HttpMethod.Get, "/api/v1/connections", token);
        using var write = await ApiTokenTests.SendAsync(_client, HttpMethod.Post, "/api/v1/connections", token, NewConnection());

        Assert.Equal(HttpStatusCode.Forbidden, read.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, write.StatusCode);
    }

    [Fact]
    public async Task Every_Connection_Endpoint_Needs_The_Admin_Policy()
    {
        var endpoints = _app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith(ConnectionEndpoints.ApiPath, StringComparison.Ordinal) == true)
            .ToList();

        // CRUD (5), rotate, verify, the latest verification, sync (Features/Scanning), GET/PUT locations (Features/Locations)
        // the schedule's GET/PUT (Features/Schedules) and the posture's POST/GET (Features/Posture).
        Assert.Equal(15, endpoints.Count);
        Assert.All(endpoints, e => Assert.Contains(e.Metadata.GetOrderedMetadata<IAuthorizeData>(), a => a.Policy == PortalPolicies.Admin));
        await Task.CompletedTask;
    }

    private Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, object? body = null) =>
        ApiTokenTests.SendAsync(_client, method, path, _adminToken, body);

    private static ConnectionRequest NewConnection() => new(
        Name: "harbor-prod",
        Url: "harbor.example.com/harbor/projects",
        AuthKind: HarborAuthKind.Robot,
        UserName: "robot$harbor-portal",
        Secret: Secret,
        RobotPrefix: null,
        AllowInsecureHttp: false,
        CaCertificatePem: null,
        Enabled: true);
}
