using System.Net;
using System.Text;
using HarborPortal.Features.Auth;
using HarborPortal.Features.Connections;
using HarborPortal.Tests.Features.Auth;
using HarborPortal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;
using static HarborPortal.Tests.Features.Connections.ConnectionPages;

namespace HarborPortal.Tests.Features.Connections;

/// <summary>A connection's secret goes in once and comes out nowhere: pages, logs, audit, API answers, the database file.</summary>
public sealed class ConnectionSecretTests(ITestOutputHelper output)
{
    [Fact]
    public async Task After_Create_Failed_Saves_Edit_Rotate_And_Api_Use_No_Secret_Appears_Anywhere()
    {
        await using var app = new PortalApplication(output: output);
        using var admin = app.CreateClientWithCookies();
        await app.SignInAsAsync(admin, "alice", PortalRoles.Admin);
        var secrets = new[] { "First-S3cret-Aa1", "Failed-S3cret-Bb2", "Edited-S3cret-Cc3", "Rotated-S3cret-Dd4", "BadRotate-S3cret-Ee5 ", "Api-S3cret-Ff6" };
        var html = new StringBuilder();

        // Create, then a failed create (bad URL) carrying another secret.
        var id = await CreateAsync(admin, "harbor-prod", secrets[0]);
        html.Append(await ReadAsync(await PostFormAsync(admin, "/admin/connections/new", "connection-form", NewConnection("other", secrets[1], url: "javascript:alert(1)"))));
        // A failed edit, then an edit that types a new secret, then a rotation and a failed rotation (trailing space).
        html.Append(await ReadAsync(await PostFormAsync(admin, $"/admin/connections/{id}", "connection-form", NewConnection("harbor-prod", secrets[1], url: "ftp://x"))));
        Assert.Equal(HttpStatusCode.Redirect, (await PostFormAsync(admin, $"/admin/connections/{id}", "connection-form", NewConnection("harbor-prod", secrets[2]))).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await PostFormAsync(admin, $"/admin/connections/{id}", "rotate-form", new Dictionary<string, string> { ["Rotate.Secret"] = secrets[3] })).StatusCode);
        html.Append(await ReadAsync(await PostFormAsync(admin, $"/admin/connections/{id}", "rotate-form", new Dictionary<string, string> { ["Rotate.Secret"] = secrets[4] })));
        foreach (var path in new[] { "/admin/connections", $"/admin/connections/{id}", $"/admin/connections/{id}?saved=rotated", "/admin/connections/new", "/admin/audit" })
        {
            html.Append(await admin.GetStringAsync(path));
        }

        // Through the API too.
        var token = await ApiTokenTests.CreateTokenAsync(app, "automation", PortalRoles.Admin);
        using var api = app.CreateClient();
        var answers = new StringBuilder();
        using (var created = await ApiTokenTests.SendAsync(api, HttpMethod.Post, "/api/v1/connections", token, new ConnectionRequest("api-made", "https://harbor2.example.com", HarborAuthKind.Robot, "robot$x", secrets[5], null, null, null, null)))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            answers.Append(await created.Content.ReadAsStringAsync());
        }

        using (var list = await ApiTokenTests.SendAsync(api, HttpMethod.Get, "/api/v1/connections", token))
        {
            answers.Append(await list.Content.ReadAsStringAsync());
        }

        await using var db = app.CreateDbContext();
        var audit = string.Join('\n', await db.AuditEvents.Select(e => $"{e.Action} {e.Target} {e.Details}").ToListAsync());
        var columns = string.Join('\n', await db.HarborConnections.Select(c => c.ProtectedSecret).ToListAsync());
        Assert.Contains("connection.rotate-secret", audit, StringComparison.Ordinal);
        Assert.Equal(secrets[3], app.Services.GetRequiredService<ConnectionSecrets>().Unprotect(await db.HarborConnections.SingleAsync(c => c.Id == id)));
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        // What the database holds: the SQLite files (with their journals), or PostgreSQL's dump of every table.
        var files = app.PostgresDatabase is { } database
            ? [await PostgresCluster.Shared.DumpAsync(database)]
            : Directory.GetFiles(app.DataDirectory, "*.db*").Select(File.ReadAllBytes).ToList();
        Assert.NotEmpty(files);

        foreach (var secret in secrets.Select(s => s.Trim()))
        {
            Assert.DoesNotContain(secret, html.ToString(), StringComparison.Ordinal);
            Assert.DoesNotContain(secret, answers.ToString(), StringComparison.Ordinal);
            Assert.DoesNotContain(secret, app.AllLogText(), StringComparison.Ordinal);
            Assert.DoesNotContain(secret, audit, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, columns, StringComparison.Ordinal);
            foreach (var bytes in files)
            {
                Assert.False(Contains(bytes, Encoding.UTF8.GetBytes(secret)), $"a database file holds {secret} in clear text");
                Assert.False(Contains(bytes, Encoding.Unicode.GetBytes(secret)), $"a database file holds {secret} in clear text (UTF-16)");
            }
        }
    }

    private static async Task<string> ReadAsync(HttpResponseMessage response)
    {
        using (response)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return await response.Content.ReadAsStringAsync();
        }
    }

    private static bool Contains(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle) >= 0;
}
