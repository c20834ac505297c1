using System.Net;
using HarborPortal.Features.Auth;
using HarborPortal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Xunit.Abstractions;
using static HarborPortal.Tests.Features.Connections.ConnectionPages;

namespace HarborPortal.Tests.Features.Connections;

public sealed class ConnectionAllowListTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_Url_Outside_The_Allowed_Targets_Is_Refused_On_Save_And_One_Inside_Is_Saved()
    {
        await using var app = new PortalApplication(new Dictionary<string, string?>
        {
            ["Connections:AllowedTargets:0"] = "harbor.example.com",
            ["Connections:AllowedTargets:1"] = "192.0.2.0/24",
        }, output);
        using var admin = app.CreateClientWithCookies();
        await app.SignInAsAsync(admin, "alice", PortalRoles.Admin);

        using var refused = await PostFormAsync(admin, "/admin/connections/new", "connection-form", NewConnection("metadata", "S3cret-Value-1", url: "https://169.254.169.254"));
        await CreateAsync(admin, "by-name", "S3cret-Value-1", url: "https://harbor.example.com");
        await CreateAsync(admin, "by-address", "S3cret-Value-1", url: "https://192.0.2.10:8443");

        Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        Assert.Contains("169.254.169.254 is not in the allowed targets", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await using var db = app.CreateDbContext();
        Assert.Equal(["by-address", "by-name"], await db.HarborConnections.OrderBy(c => c.Name).Select(c => c.Name).ToListAsync());
    }

    [Fact]
    public async Task An_Allowed_Target_That_Is_Not_A_Host_Or_Range_Stops_The_Portal_At_Start()
    {
        await using var app = new PortalApplication(new Dictionary<string, string?> { ["Connections:AllowedTargets:0"] = "10.0.0.0/99" }, output);

        var error = Assert.ThrowsAny<Exception>(() => app.CreateClient());

        Assert.Contains("Connections:AllowedTargets", error.ToString(), StringComparison.Ordinal);
    }
}
