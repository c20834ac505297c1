using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using HarborPortal.Data;
using HarborPortal.Features.Auth;
using HarborPortal.Features.Connections;
using HarborPortal.Features.Findings;
using HarborPortal.Features.Scanning;
using HarborPortal.Features.Webhooks;
using HarborPortal.HarborSimulator;
using HarborPortal.Tests.Features.Connections;
using HarborPortal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Quartz;
using Xunit.Abstractions;
using Sim = HarborPortal.HarborSimulator.HarborSimulator;

namespace HarborPortal.Tests.Features.Webhooks;

/// <summary>
/// Harbor's webhooks end to end: the portal on Kestrel, the simulator building Harbor's payloads and posting them as
/// Harbor's job service does, the secret made and rotated on the connection page.
/// </summary>
public sealed class WebhookTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string PaymentsDigest = "sha256:02551b79862b7096e1a0daec3d24dd514b70d4e29fa853debb27b905551f44df";
    private const int BurstLimit = 5;

    private Sim _simulator = null!;
    private PortalApplication _app = null!;
    private Uri _portal = null!;
    private long _connectionId;

    private Uri WebhookUrl => new(_portal, WebhookEndpoints.PathFor(_connectionId));

    private string ConnectionPage => $"/admin/connections/{_connectionId}";

    public async Task InitializeAsync()
    {
        _simulator = await Sim.StartAsync();
        _app = new PortalApplication(new Dictionary<string, string?>
        {
            ["Connections:VerifyOnSave"] = "false",
            // A small bucket that does not refill during a test: the flood test's 429 comes at a known call.
            ["Webhooks:BurstLimit"] = BurstLimit.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Webhooks:PerMinute"] = "1",
        }, output);
        var port = FreePort.Next();
        _app.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));
        _app.StartServer();
        _portal = new Uri($"http://127.0.0.1:{port}/");

        _connectionId = await SimulatorConnections.AddAsync(_app.Services, _simulator);
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _simulator.DisposeAsync();
    }

    [Fact]
    public async Task A_Wrong_Or_Missing_Secret_Is_Refused_With_401_And_Changes_Nothing()
    {
        var push = _simulator.BuildWebhook(HarborWebhookEvents.PushArtifact, PaymentsDigest);

        // Off until a secret is made: even an empty header does not get in.
        Assert.Equal(HttpStatusCode.Unauthorized, await Sim.SendWebhookAsync(WebhookUrl, push));
        Assert.Equal(HttpStatusCode.Unauthorized, await Sim.SendWebhookAsync(WebhookUrl, push, "hpwh_" + new string('a', 40)));

        var secret = await GenerateSecretOnThePageAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, await Sim.SendWebhookAsync(WebhookUrl, push));
        Assert.Equal(HttpStatusCode.Unauthorized, await Sim.SendWebhookAsync(WebhookUrl, push, secret[..^1] + (secret[^1] == 'x' ? 'y' : 'x')));
        Assert.Equal(HttpStatusCode.Unauthorized, await Sim.SendWebhookAsync(WebhookUrl, push, "Bearer " + secret));
        Assert.Equal(HttpStatusCode.Unauthorized, await Sim.SendWebhookAsync(WebhookUrl, push, secret.ToUpperInvariant()));

        await AssertNothingChangedAsync();
        Assert.DoesNotContain(secret, _app.AllLogText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_Unknown_Connection_Is_404_And_Changes_Nothing()
    {
        var secret = await GenerateSecretOnThePageAsync();
        var push = _simulator.BuildWebhook(HarborWebhookEvents.PushArtifact, PaymentsDigest);

        Assert.Equal(HttpStatusCode.NotFound, await Sim.SendWebhookAsync(new Uri(_portal, WebhookEndpoints.PathFor(_connectionId + 1000)), push, secret));
        Assert.Equal(HttpStatusCode.NotFound, await Sim.SendWebhookAsync(new Uri(_portal, WebhookEndpoints.PathFor(_connectionId + 1000)), push));

        await AssertNothingChangedAsync();
    }

    [Theory]
    [InlineData("{\"type\": \"PUSH_ARTIFACT\", \"event_data\": ")]
    [InlineData("not json at all")]
    [InlineData("")]
    [InlineData("[1, 2, 3]")]
    [InlineData("{\"event_data\": {}}")]
    [InlineData("{\"type\": 42}")]
    [InlineData("{\"type\": \"PUSH_ARTIFACT\", \"event_data\": {\"resources\": [{\"digest\": \"sha256:not-a-digest\"}], \"repository\": {\"namespace\": \"team-a\", \"name\": \"payments-api\", \"repo_full_name\": \"team-a/payments-api\"}}}")]
    [InlineData("{\"type\": \"PUSH_ARTIFACT\", \"event_data\": {\"resources\": [{\"digest\": \"" + PaymentsDigest + "\"}], \"repository\": {\"namespace\": \"team-a\", \"name\": \"payments-api\", \"repo_full_name\": \"team-b/payments-api\"}}}")]
    [InlineData("{\"type\": \"PUSH_ARTIFACT\", \"event_data\": {\"resources\": [{\"digest\": \"" + PaymentsDigest + "\"}], \"repository\": {\"namespace\": \"../etc\", \"name\": \"x\"}}}")]
    [InlineData("{\"type\": \"PUSH_ARTIFACT\", \"event_data\": {\"resources\": [{\"digest\": \"" + PaymentsDigest + "\"}]}}")]
    [InlineData("{\"specversion\": \"0.3\", \"type\": \"harbor.artifact.pushed\", \"data\": {}}")]
    public async Task A_Malformed_Body_Is_400_And_Changes_Nothing(string body)
    {
        var secret = await GenerateSecretOnThePageAsync();

        using var response = await PostRawAsync(new ByteArrayContent(Encoding.UTF8.GetBytes(body)), secret);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("application/problem+json", response.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);
        await AssertNothingChangedAsync();
    }

    [Fact]
    public async Task Invalid_Utf8_Is_400()
    {
        var secret = await GenerateSecretOnThePageAsync();

        using var response = await PostRawAsync(new ByteArrayContent([(byte)'{', (byte)'"', 0xC3, 0x28, (byte)'"', (byte)':', (byte)'1', (byte)'}']), secret);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        await AssertNothingChangedAsync();
    }

    [Fact]
    public async Task A_Body_Over_64_KB_Is_400_With_Or_Without_A_Content_Length()
    {
        var secret = await GenerateSecretOnThePageAsync();
        var push = _simulator.BuildWebhook(HarborWebhookEvents.PushArtifact, PaymentsDigest);
        push["padding"] = new string('x', 64 * 1024);
        var bytes = Encoding.UTF8.GetBytes(push.ToJsonString());

        using (var declared = await PostRawAsync(new ByteArrayContent(bytes), secret))
        {
            Assert.Equal(HttpStatusCode.BadRequest, declared.StatusCode);
        }

        // Chunked: no length up front, so the limit is enforced while reading.
        using (var chunked = await PostRawAsync(new StreamContent(new NonSeekableStream(bytes)), secret))
        {
            Assert.Equal(HttpStatusCode.BadRequest, chunked.StatusCode);
        }

        await AssertNothingChangedAsync();

        // Just under the limit is fine.
        push["padding"] = new string('x', 60 * 1024);
        Assert.Equal(HttpStatusCode.Accepted, await Sim.SendWebhookAsync(WebhookUrl, push, secret));
    }

    [Fact]
    public async Task A_Flood_Gets_429_With_Retry_After_And_Nothing_Of_The_Refused_Calls_Is_Kept()
    {
        var secret = await GenerateSecretOnThePageAsync();
        await PauseSyncsAsync();
        var statuses = new List<(string Digest, HttpStatusCode Status, string? RetryAfter)>();
        for (var i = 0; i < BurstLimit + 3; i++)
        {
            var digest = FakeDigest(i);
            using var response = await PostRawAsync(JsonBody(PushFor("team-a", "payments-api", digest)), secret);
            statuses.Add((digest, response.StatusCode, response.Headers.RetryAfter?.Delta?.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        Assert.All(statuses.Take(BurstLimit), s => Assert.Equal(HttpStatusCode.Accepted, s.Status));
        Assert.All(statuses.Skip(BurstLimit), s =>
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, s.Status);
            Assert.True(int.Parse(s.RetryAfter!, System.Globalization.CultureInfo.InvariantCulture) >= 1);
        });

        var run = await SingleWebhookRunAsync();
        Assert.Equal(
            statuses.Take(BurstLimit).Select(s => s.Digest).Order(),
            run.TargetList!.Select(t => t.Digest).Order());
        await using var db = _app.CreateDbContext();
        Assert.Equal(BurstLimit, (await db.ConnectionWebhooks.SingleAsync(w => w.ConnectionId == _connectionId)).ReceivedCount);
    }

    [Theory]
    [InlineData(HarborWebhookEvents.PullArtifact, false)]
    [InlineData(HarborWebhookEvents.PullArtifact, true)]
    [InlineData(HarborWebhookEvents.ScanningStopped, false)]
    public async Task An_Ignored_Event_Type_Is_204_And_Starts_Nothing(string eventType, bool cloudEvents)
    {
        var secret = await GenerateSecretOnThePageAsync();

        var status = await Sim.SendWebhookAsync(WebhookUrl, _simulator.BuildWebhook(eventType, PaymentsDigest, cloudEvents), secret, cloudEvents);

        Assert.Equal(HttpStatusCode.NoContent, status);
        await AssertNothingChangedAsync(receivedAndIgnored: true);
        // It did arrive, and the page says so: Harbor is reaching the portal, with events it does not act on.
        var panel = (await ConnectionPages.GetPageAsync(await AdminAsync(), ConnectionPage)).QuerySelector("[data-testid=webhook-last]")!.TextContent;
        Assert.Contains(cloudEvents ? HarborWebhookEvents.CloudEventType(eventType) : eventType, panel, StringComparison.Ordinal);
        Assert.Contains("ignored", panel, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_Handled_Event_Naming_No_Artifact_Is_204()
    {
        var secret = await GenerateSecretOnThePageAsync();

        Assert.Equal(HttpStatusCode.NoContent, await Sim.SendWebhookAsync(WebhookUrl, JsonNode.Parse("""{"type":"PUSH_ARTIFACT","occur_at":1741594462,"operator":"","event_data":{}}""")!, secret));
        Assert.Equal(HttpStatusCode.NoContent, await Sim.SendWebhookAsync(WebhookUrl, JsonNode.Parse("""{"type":"DELETE_ARTIFACT","event_data":{"resources":[],"repository":{"namespace":"team-a","name":"payments-api"}}}""")!, secret));

        await AssertNothingChangedAsync(receivedAndIgnored: true);
    }

    [Theory]
    [InlineData(HarborWebhookEvents.PushArtifact, false)]
    [InlineData(HarborWebhookEvents.PushArtifact, true)]
    [InlineData(HarborWebhookEvents.ScanningCompleted, false)]
    [InlineData(HarborWebhookEvents.ScanningCompleted, true)]
    [InlineData(HarborWebhookEvents.ScanningFailed, false)]
    [InlineData(HarborWebhookEvents.DeleteArtifact, true)]
    public async Task A_Handled_Event_Is_202_And_Queues_A_Targeted_Run_Naming_The_Artifact(string eventType, bool cloudEvents)
    {
        var secret = await GenerateSecretOnThePageAsync();
        await PauseSyncsAsync();

        var status = await Sim.SendWebhookAsync(WebhookUrl, _simulator.BuildWebhook(eventType, PaymentsDigest, cloudEvents), secret, cloudEvents);

        Assert.Equal(HttpStatusCode.Accepted, status);
        var run = await SingleWebhookRunAsync();
        Assert.Equal(SyncRunStatus.Pending, run.Status);
        Assert.Equal(WebhookReceiver.RequestedBy, run.RequestedBy);
        Assert.Equal(new ArtifactRef("team-a", "team-a/payments-api", PaymentsDigest), Assert.Single(run.TargetList!));
        var panel = (await ConnectionPages.GetPageAsync(await AdminAsync(), ConnectionPage)).QuerySelector("[data-testid=webhook-last]")!.TextContent;
        Assert.Contains($"sync run {run.Id}", panel, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_Same_Artifact_Named_Twice_Makes_One_Run_With_One_Target()
    {
        var secret = await GenerateSecretOnThePageAsync();
        await PauseSyncsAsync();
        var index = _simulator.Read(s => s.Artifacts.Single(a => a.Children is { Count: > 0 }).Digest);

        // Harbor sends "Scanning finished" twice for a multi-arch image, in either format.
        Assert.Equal(HttpStatusCode.Accepted, await Sim.SendWebhookAsync(WebhookUrl, _simulator.BuildWebhook(HarborWebhookEvents.ScanningCompleted, index), secret));
        Assert.Equal(HttpStatusCode.Accepted, await Sim.SendWebhookAsync(WebhookUrl, _simulator.BuildWebhook(HarborWebhookEvents.ScanningCompleted, index, cloudEvents: true), secret, cloudEvents: true));
        Assert.Equal(HttpStatusCode.Accepted, await Sim.SendWebhookAsync(WebhookUrl, _simulator.BuildWebhook(HarborWebhookEvents.PushArtifact, index), secret));

        var run = await SingleWebhookRunAsync();
        Assert.Equal(new ArtifactRef("team", "team/app/api", index), Assert.Single(run.TargetList!));
    }

    [Fact]
    public async Task Concurrent_Webhooks_For_One_Connection_Land_In_One_Run()
    {
        var secret = await GenerateSecretOnThePageAsync();
        await PauseSyncsAsync();

        var statuses = await Task.WhenAll(Enumerable.Range(0, BurstLimit).Select(i =>
            Sim.SendWebhookAsync(WebhookUrl, PushFor("team-a", "payments-api", FakeDigest(i)), secret)));

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.Accepted, s));
        Assert.Equal(BurstLimit, (await SingleWebhookRunAsync()).TargetList!.Count);
    }

    [Fact]
    public async Task A_Repository_Outside_The_Scanned_Locations_Is_204()
    {
        var secret = await GenerateSecretOnThePageAsync();
        await using (var db = _app.CreateDbContext())
        {
            db.ConnectionLocations.Add(new HarborPortal.Features.Locations.ConnectionLocations
            {
                ConnectionId = _connectionId,
                SelectionJson = new HarborPortal.Features.Locations.ScanLocations { AllProjects = false, Projects = [new() { Name = "library" }] }.ToJson(),
            });
            await db.SaveChangesAsync();
        }

        var status = await Sim.SendWebhookAsync(WebhookUrl, _simulator.BuildWebhook(HarborWebhookEvents.PushArtifact, PaymentsDigest), secret);

        Assert.Equal(HttpStatusCode.NoContent, status);
        await AssertNothingChangedAsync(receivedAndIgnored: true);
    }

    [Fact]
    public async Task A_New_Artifact_Pushed_And_Scanned_Gets_Its_Findings_From_The_Webhooks()
    {
        var secret = await GenerateSecretOnThePageAsync();
        await FullSyncAsync();
        var artifact = _simulator.AddArtifact("team-a/payments-api", "1.9.0", vulnerabilitySet: "payments");
        var expected = _simulator.Read(s => s.VulnerabilitySets["payments"].Count);
        await PauseSyncsAsync();

        Assert.Equal(HttpStatusCode.Accepted, await Sim.SendWebhookAsync(WebhookUrl, _simulator.BuildWebhook(HarborWebhookEvents.PushArtifact, artifact.Digest), secret));
        Assert.Equal(HttpStatusCode.Accepted, await Sim.SendWebhookAsync(WebhookUrl, _simulator.BuildWebhook(HarborWebhookEvents.ScanningCompleted, artifact.Digest, cloudEvents: true), secret, cloudEvents: true));

        var queued = await SingleWebhookRunAsync();
        Assert.Equal(SyncTrigger.Webhook, queued.Trigger);
        Assert.Equal(new ArtifactRef("team-a", "team-a/payments-api", artifact.Digest), Assert.Single(queued.TargetList!));

        _simulator.ResetStatistics();
        await ResumeSyncsAsync();
        var run = await WaitForRunAsync(queued.Id);

        Assert.Equal(SyncRunStatus.Succeeded, run.Status);
        await using var db = _app.CreateDbContext();
        var findings = await db.Findings.Where(f => f.Digest == artifact.Digest).ToListAsync();
        Assert.Equal(expected, findings.Count);
        Assert.All(findings, f =>
        {
            Assert.Equal(FindingStatus.Open, f.Status);
            Assert.Equal("team-a/payments-api", f.RepositoryName);
        });
        // A targeted run: no repository enumerated, exactly one report read.
        Assert.DoesNotContain(_simulator.Requests, r => r.RawTarget.Contains("/repositories?", StringComparison.Ordinal));
        Assert.Single(_simulator.Requests, r => r.RawTarget.Contains("additions/vulnerabilities", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_Delete_Webhook_Resolves_The_Deleted_Artifacts_Findings()
    {
        var secret = await GenerateSecretOnThePageAsync();
        await FullSyncAsync();
        await using (var before = _app.CreateDbContext())
        {
            Assert.True(await before.Findings.AnyAsync(f => f.Digest == PaymentsDigest && f.Status == FindingStatus.Open));
        }

        var deleted = _simulator.RemoveArtifact(PaymentsDigest);
        Assert.Equal(HttpStatusCode.Accepted, await Sim.SendWebhookAsync(WebhookUrl, _simulator.BuildWebhook(HarborWebhookEvents.DeleteArtifact, deleted), secret));

        var run = await WaitForRunAsync((await SingleWebhookRunAsync()).Id);

        Assert.Equal(SyncRunStatus.Succeeded, run.Status);
        await using var db = _app.CreateDbContext();
        var payments = await db.Findings.Where(f => f.Digest == PaymentsDigest).ToListAsync();
        Assert.NotEmpty(payments);
        Assert.All(payments, f =>
        {
            Assert.Equal(FindingStatus.Resolved, f.Status);
            Assert.Equal(Finding.ArtifactRemoved, f.ResolvedReason);
        });
    }

    [Fact]
    public async Task Rotating_Makes_The_Old_Secret_Fail_And_No_Secret_Is_Ever_Shown_Again_Or_Logged()
    {
        var first = await GenerateSecretOnThePageAsync();
        await PauseSyncsAsync();
        var push = _simulator.BuildWebhook(HarborWebhookEvents.PushArtifact, PaymentsDigest);
        Assert.Equal(HttpStatusCode.Accepted, await Sim.SendWebhookAsync(WebhookUrl, push, first));

        var second = await GenerateSecretOnThePageAsync(expectRotated: true);

        Assert.NotEqual(first, second);
        Assert.Equal(HttpStatusCode.Unauthorized, await Sim.SendWebhookAsync(WebhookUrl, push, first));
        Assert.Equal(HttpStatusCode.Accepted, await Sim.SendWebhookAsync(WebhookUrl, push, second));

        // Later renders of the page show neither secret, only that webhooks are on.
        var page = await (await AdminAsync()).GetStringAsync(ConnectionPage);
        Assert.DoesNotContain(first, page, StringComparison.Ordinal);
        Assert.DoesNotContain(second, page, StringComparison.Ordinal);
        Assert.Contains("Rotate webhook secret", page, StringComparison.Ordinal);

        // Turned off, the current secret fails too.
        using (var off = await ConnectionPages.PostFormAsync(await AdminAsync(), ConnectionPage, "webhook-off-form", new Dictionary<string, string>()))
        {
            Assert.Equal(HttpStatusCode.OK, off.StatusCode);
            Assert.Contains("data-testid=\"webhook-turned-off\"", await off.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, await Sim.SendWebhookAsync(WebhookUrl, push, second));

        var logs = _app.AllLogText();
        Assert.DoesNotContain(first, logs, StringComparison.Ordinal);
        Assert.DoesNotContain(second, logs, StringComparison.Ordinal);
        await using var db = _app.CreateDbContext();
        var audit = await db.AuditEvents.Where(e => e.Action.StartsWith("webhook.")).OrderBy(e => e.Id).ToListAsync();
        Assert.Equal(["webhook.generate-secret", "webhook.rotate-secret", "webhook.turn-off"], audit.Select(e => e.Action));
        Assert.All(audit, e =>
        {
            Assert.Equal("alice", e.Actor);
            Assert.Equal("sim", e.Target);
            Assert.DoesNotContain(first, e.Details ?? "", StringComparison.Ordinal);
            Assert.DoesNotContain(second, e.Details ?? "", StringComparison.Ordinal);
        });
        Assert.DoesNotContain(await db.ConnectionWebhooks.Select(w => w.SecretHash).ToListAsync(), h => h == first || h == second);
    }

    [Fact]
    public async Task The_Panel_Shows_The_Url_And_Harbor_Steps_And_Only_Admins_Can_Make_A_Secret()
    {
        var admin = await AdminAsync();
        var panel = (await ConnectionPages.GetPageAsync(admin, ConnectionPage)).QuerySelector("[data-testid=webhook-panel]")!;

        Assert.Equal(new Uri(_portal, WebhookEndpoints.PathFor(_connectionId)).ToString(), panel.QuerySelector("[data-testid=webhook-url]")!.GetAttribute("value"));
        Assert.Contains("Off", panel.QuerySelector("[data-testid=webhook-state]")!.TextContent, StringComparison.Ordinal);
        var steps = panel.QuerySelector("[data-testid=webhook-harbor-steps]")!.TextContent;
        foreach (var expected in new[] { "Webhooks → New webhook", "http", "Artifact pushed", "Scanning finished", "Artifact deleted", "Auth Header", "Verify Remote Certificate" })
        {
            Assert.Contains(expected, steps, StringComparison.Ordinal);
        }

        Assert.Null(panel.QuerySelector("[data-testid=webhook-secret]"));

        // A security engineer cannot reach the page, so cannot post its forms either.
        using var security = BrowserLikeClient();
        await _app.SignInAsAsync(security, "sam", PortalRoles.Security);
        var token = await PortalApplication.GetAntiforgeryTokenAsync(security, "/");
        using var posted = await security.PostAsync(ConnectionPage, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token,
            ["_handler"] = "webhook-secret",
        }));
        Assert.Equal(HttpStatusCode.Forbidden, posted.StatusCode);
        await using var db = _app.CreateDbContext();
        Assert.False(await db.ConnectionWebhooks.AnyAsync());
    }

    /// <summary>Presses "Generate/Rotate webhook secret" on the connection page as alice (Admin); returns the secret it shows once.</summary>
    private async Task<string> GenerateSecretOnThePageAsync(bool expectRotated = false)
    {
        using var response = await ConnectionPages.PostFormAsync(await AdminAsync(), ConnectionPage, "webhook-secret-form", new Dictionary<string, string>());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("no-store", response.Headers.CacheControl?.ToString(), StringComparison.Ordinal);
        var page = new AngleSharp.Html.Parser.HtmlParser().ParseDocument(await response.Content.ReadAsStringAsync());
        var shown = page.QuerySelector("[data-testid=webhook-new-secret]")!;
        Assert.Equal(expectRotated, shown.TextContent.Contains("The old secret no longer works", StringComparison.Ordinal));
        var secret = shown.QuerySelector("[data-testid=webhook-secret]")!.GetAttribute("value")!;
        Assert.Matches("^hpwh_[0-9A-Za-z]{40}$", secret);
        return secret;
    }

    private async Task<HttpClient> AdminAsync()
    {
        var client = BrowserLikeClient();
        await _app.SignInAsAsync(client, "alice", PortalRoles.Admin);
        return client;
    }

    // Cookies kept, redirects shown, on Kestrel's address: pages then see the same public URL Harbor would call.
    private HttpClient BrowserLikeClient() =>
        _app.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true, BaseAddress = _portal });

    private async Task<HttpResponseMessage> PostRawAsync(HttpContent content, string? authorization)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        content.Headers.ContentType ??= new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, WebhookUrl) { Content = content };
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        var response = await client.SendAsync(request);
        await response.Content.LoadIntoBufferAsync();
        return response;
    }

    private static StringContent JsonBody(JsonNode payload) => new(payload.ToJsonString(), Encoding.UTF8, "application/json");

    private static JsonObject PushFor(string project, string repository, string digest) => new()
    {
        ["type"] = HarborWebhookEvents.PushArtifact,
        ["occur_at"] = 1741594462,
        ["operator"] = "robot$team-a+ci-pusher",
        ["event_data"] = new JsonObject
        {
            ["resources"] = new JsonArray(new JsonObject { ["digest"] = digest, ["tag"] = digest, ["resource_url"] = $"harbor.example.com/{project}/{repository}@{digest}" }),
            ["repository"] = new JsonObject { ["name"] = repository, ["namespace"] = project, ["repo_full_name"] = $"{project}/{repository}", ["repo_type"] = "private" },
        },
    };

    private static string FakeDigest(int i) => "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(i)));

    // No SyncRun (so nothing can become a finding); a refused call is not even recorded as received.
    private async Task AssertNothingChangedAsync(bool receivedAndIgnored = false)
    {
        await using var db = _app.CreateDbContext();
        Assert.False(await db.SyncRuns.AnyAsync());
        Assert.False(await db.Findings.AnyAsync());
        var webhooks = await db.ConnectionWebhooks.ToListAsync();
        Assert.All(webhooks, w =>
        {
            Assert.Null(w.LastRunId);
            Assert.Equal(receivedAndIgnored, w.ReceivedCount > 0);
        });
    }

    private async Task<SyncRun> SingleWebhookRunAsync()
    {
        await using var db = _app.CreateDbContext();
        return await db.SyncRuns.SingleAsync(r => r.ConnectionId == _connectionId && r.Trigger == SyncTrigger.Webhook);
    }

    // Triggers wait while the scheduler stands by: the runs webhooks ask for stay Pending for the test to look at.
    private Task PauseSyncsAsync() => Schedulers.StandbyAsync(_app.Services);

    private async Task ResumeSyncsAsync() => await (await _app.Services.GetRequiredService<ISchedulerFactory>().GetScheduler()).Start();

    private async Task FullSyncAsync()
    {
        await using var scope = _app.Services.CreateAsyncScope();
        var start = await scope.ServiceProvider.GetRequiredService<SyncRequests>().StartAsync(_connectionId, "test", CancellationToken.None);
        var run = await WaitForRunAsync(start!.RunId);
        Assert.Equal(SyncRunStatus.Succeeded, run.Status);
    }

    private async Task<SyncRun> WaitForRunAsync(long runId)
    {
        for (var i = 0; i < 240; i++)
        {
            await using var db = _app.CreateDbContext();
            var run = await db.SyncRuns.AsNoTracking().SingleAsync(r => r.Id == runId);
            if (!run.IsActive)
            {
                output.WriteLine($"run {run.Id} ({run.Trigger}): {run.Status}, seen {run.ArtifactsSeen}, reports {run.ReportsFetched}, new {run.FindingsNew}, resolved {run.FindingsResolved}, errors {run.Errors}");
                return run;
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"Sync run {runId} did not finish within a minute.");
    }

    /// <summary>A body stream whose length is unknown, so the client sends it chunked.</summary>
    private sealed class NonSeekableStream(byte[] bytes) : Stream
    {
        private readonly MemoryStream _inner = new(bytes);

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
