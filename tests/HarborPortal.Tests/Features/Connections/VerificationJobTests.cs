using System.Net;
using System.Text;
using System.Text.Json;
using HarborPortal.Features.Auth;
using HarborPortal.Features.Connections;
using HarborPortal.HarborSimulator;
using HarborPortal.Tests.Features.Auth;
using HarborPortal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Xunit.Abstractions;
using static HarborPortal.Tests.Features.Connections.ConnectionPages;
using Sim = HarborPortal.HarborSimulator.HarborSimulator;

namespace HarborPortal.Tests.Features.Connections;

// End to end: the Quartz job in the running portal, through the admin pages and through the API.
public sealed class VerificationJobTests(ITestOutputHelper output)
{
    private const string PortalSecret = DefaultScenario.PortalRobotSecret;
    private const string WrongSecret = "Wrong-Secret-Never-Shown-12345";

    [Fact]
    public async Task The_Api_Starts_A_Run_And_Returns_The_Latest_Checklist()
    {
        await using var simulator = await Sim.StartAsync();
        await using var app = new PortalApplication(new Dictionary<string, string?> { ["Connections:VerifyOnSave"] = "false" }, output);
        using var client = app.CreateClient();
        var token = await ApiTokenTests.CreateTokenAsync(app, "automation", PortalRoles.Admin);
        using var created = await ApiTokenTests.SendAsync(client, HttpMethod.Post, "/api/v1/connections", token, new ConnectionRequest(
            "sim", simulator.BaseAddress.ToString(), HarborAuthKind.Robot, "robot$harbor-portal", PortalSecret, null, true, null, true));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetInt64();

        using var started = await ApiTokenTests.SendAsync(client, HttpMethod.Post, $"/api/v1/connections/{id}/verify", token);
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var runId = JsonDocument.Parse(await started.Content.ReadAsStringAsync()).RootElement.GetProperty("runId").GetInt64();
        Assert.Equal($"/api/v1/connections/{id}/verification?runId={runId}", started.Headers.Location!.OriginalString);

        var latest = await WaitForRunAsync(async () =>
        {
            using var response = await ApiTokenTests.SendAsync(client, HttpMethod.Get, $"/api/v1/connections/{id}/verification", token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            return json.GetProperty("status").GetString() == "Finished" ? json : (JsonElement?)null;
        });

        Assert.Equal(runId, latest.GetProperty("runId").GetInt64());
        Assert.True(latest.GetProperty("ok").GetBoolean(), latest.ToString());
        var steps = latest.GetProperty("steps").EnumerateArray().ToList();
        Assert.Equal(ConnectivityCheck.Steps.All, steps.Select(s => s.GetProperty("name").GetString()));
        Assert.All(steps, s =>
        {
            Assert.True(s.TryGetProperty("ok", out _));
            Assert.True(s.GetProperty("durationMs").GetInt64() >= 0);
            Assert.False(string.IsNullOrEmpty(s.GetProperty("detail").GetString()));
            Assert.True(s.TryGetProperty("hint", out _));
        });
        await using var db = app.CreateDbContext();
        var connection = await db.HarborConnections.SingleAsync();
        Assert.True(connection.LastVerificationOk);
        Assert.NotNull(connection.LastVerifiedAt);
        Assert.Contains(await db.AuditEvents.ToListAsync(), e => e.Action == "connection.verify" && e.Succeeded && e.Target == "sim");
    }

    [Fact]
    public async Task Saving_And_Pressing_Verify_Show_The_Steps_And_No_Secret_Appears_Anywhere()
    {
        await using var simulator = await Sim.StartAsync();
        await using var app = new PortalApplication(output: output);
        using var admin = app.CreateClientWithCookies();
        await app.SignInAsAsync(admin, "alice", PortalRoles.Admin);
        var html = new StringBuilder();

        // A failing connection (wrong secret): saved, which verifies it.
        var fields = NewConnection("sim", WrongSecret, url: simulator.BaseAddress.ToString());
        fields["Model.AllowInsecureHttp"] = "true";
        using var saved = await PostFormAsync(admin, "/admin/connections/new", "connection-form", fields);
        Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);
        var location = saved.Headers.Location!.PathAndQuery;
        Assert.Matches(@"^/admin/connections/\d+\?saved=created&verifying=\d+$", location);
        var id = long.Parse(location.Split('/')[3].Split('?')[0], System.Globalization.CultureInfo.InvariantCulture);
        var failedRun = long.Parse(location.Split("verifying=")[1], System.Globalization.CultureInfo.InvariantCulture);
        var failed = await WaitForFragmentAsync(admin, id, failedRun, html);
        Assert.Contains("✗ failed", failed, StringComparison.Ordinal);
        Assert.Contains("Wrong or expired secret", failed, StringComparison.Ordinal);

        // The right secret, then the button.
        using var rotated = await PostFormAsync(admin, $"/admin/connections/{id}", "rotate-form", new Dictionary<string, string> { ["Rotate.Secret"] = PortalSecret });
        Assert.Equal(HttpStatusCode.Redirect, rotated.StatusCode);
        using var verify = await PostFormAsync(admin, $"/admin/connections/{id}", "verify-form", new Dictionary<string, string>());
        Assert.Equal(HttpStatusCode.Redirect, verify.StatusCode);
        var verifying = verify.Headers.Location!.PathAndQuery;
        Assert.Matches($@"^/admin/connections/{id}\?verifying=\d+$", verifying);
        var runId = long.Parse(verifying.Split("verifying=")[1], System.Globalization.CultureInfo.InvariantCulture);
        var page = await admin.GetStringAsync(verifying);
        html.Append(page);
        var checklist = new AngleSharp.Html.Parser.HtmlParser().ParseDocument(page).QuerySelector("[data-testid=connectivity-checklist]")!;
        Assert.Equal(runId.ToString(System.Globalization.CultureInfo.InvariantCulture), checklist.GetAttribute("data-run-id"));
        if (checklist.GetAttribute("data-status") != "finished")
        {
            Assert.Equal($"/admin/connections/{id}/verification/{runId}", checklist.GetAttribute("hx-get"));
            Assert.Equal("load delay:1s", checklist.GetAttribute("hx-trigger"));
            Assert.Equal("outerHTML", checklist.GetAttribute("hx-swap"));
        }

        var green = await WaitForFragmentAsync(admin, id, runId, html);
        Assert.Contains("✓ all checks passed", green, StringComparison.Ordinal);
        Assert.DoesNotContain("hx-get", green, StringComparison.Ordinal);
        var edit = await admin.GetStringAsync($"/admin/connections/{id}");
        var list = await admin.GetStringAsync("/admin/connections");
        html.Append(edit).Append(list);
        Assert.True(new AngleSharp.Html.Parser.HtmlParser().ParseDocument(edit).QuerySelectorAll("[data-testid=verification-run]").Length >= 3);
        Assert.Contains("✓ verified", new AngleSharp.Html.Parser.HtmlParser().ParseDocument(list).QuerySelector($"tr[data-connection-id='{id}'] [data-testid=last-verification]")!.TextContent, StringComparison.Ordinal);

        // Secrets: no page, log line, audit entry or stored checklist carries them.
        await using var db = app.CreateDbContext();
        var audit = string.Join('\n', await db.AuditEvents.Select(e => $"{e.Action} {e.Actor} {e.Target} {e.Details}").ToListAsync());
        var runs = string.Join('\n', await db.ConnectionVerifications.Select(v => v.StepsJson + v.Summary).ToListAsync());
        Assert.Contains("connection.verify", audit, StringComparison.Ordinal);
        foreach (var secret in new[] { PortalSecret, WrongSecret })
        {
            Assert.DoesNotContain(secret, html.ToString(), StringComparison.Ordinal);
            Assert.DoesNotContain(secret, app.AllLogText(), StringComparison.Ordinal);
            Assert.DoesNotContain(secret, audit, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, runs, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task The_Checklist_Fragment_Is_For_Admins_Only()
    {
        await using var app = new PortalApplication(output: output);
        using var viewer = app.CreateClientWithCookies();
        await app.SignInAsAsync(viewer, "bob", PortalRoles.Viewer);

        using var response = await viewer.GetAsync("/admin/connections/1/verification/1");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    private static async Task<string> WaitForFragmentAsync(HttpClient client, long id, long runId, StringBuilder html)
    {
        for (var attempt = 0; attempt < 150; attempt++)
        {
            var fragment = await client.GetStringAsync($"/admin/connections/{id}/verification/{runId}");
            html.Append(fragment);
            if (fragment.Contains("data-status=\"finished\"", StringComparison.Ordinal))
            {
                return fragment;
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"Run {runId} did not finish.");
    }

    private static async Task<JsonElement> WaitForRunAsync(Func<Task<JsonElement?>> poll)
    {
        for (var attempt = 0; attempt < 150; attempt++)
        {
            if (await poll() is { } done)
            {
                return done;
            }

            await Task.Delay(200);
        }

        throw new TimeoutException("The run did not finish.");
    }
}
