using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using HarborPortal.Features.Operations;
using HarborPortal.Tests.Features.Auth;
using HarborPortal.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;

namespace HarborPortal.Tests.Deployment;

/// <summary>
/// Debian's nginx with the shipped <c>deploy/nginx/nginx.conf</c> (only the upstream servers and listen ports replaced)
/// in front of two real portals on loopback that share one data directory, as the compose example runs them on one
/// PostgreSQL. What a browser sees through the proxy is asserted, and which instance served a request is read from
/// each instance's own log lines (their correlation id scope).
/// </summary>
public sealed class ReverseProxyTests(ReverseProxyFixture proxy) : IClassFixture<ReverseProxyFixture>
{
    [Fact]
    public async Task Requests_Are_Spread_Over_Both_Instances_And_Each_Carries_The_Proxys_Correlation_Id()
    {
        // Act
        var ids = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            using var response = await proxy.Client.GetAsync("/healthz");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            ids.Add(Assert.Single(response.Headers.GetValues(CorrelationIdMiddleware.HeaderName)));
        }

        // Assert: nginx's $request_id (32 hex digits) is the id, each request was handled by exactly one instance, and
        // round-robin gave each instance some.
        Assert.All(ids, id => Assert.Matches("^[0-9a-f]{32}$", id));
        var onFirst = ids.Where(proxy.First.HandledRequest).ToList();
        var onSecond = ids.Where(proxy.Second.HandledRequest).ToList();
        Assert.NotEmpty(onFirst);
        Assert.NotEmpty(onSecond);
        Assert.Empty(onFirst.Intersect(onSecond));
        Assert.Equal(ids.Order(), onFirst.Concat(onSecond).Order());

        // The proxy's access log has the same ids, so its lines and the portal's can be joined.
        var accessLog = await proxy.WaitForAccessLogAsync(ids[^1]);
        Assert.All(ids, id => Assert.Contains($"correlation_id={id}", accessLog, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_Session_Made_Through_One_Instance_Is_Valid_On_The_Other()
    {
        // Arrange: a browser of its own (cookies), signing in with the form one instance rendered and the other may check.
        using var browser = proxy.CreateBrowser();
        using var signIn = await PortalApplication.SignInLocalAdminAsync(browser, "admin", ReverseProxyFixture.AdminPassword);
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        Assert.Equal("/", signIn.Headers.Location?.OriginalString);
        // The request came in over https at the proxy, so the session cookie is only ever sent over https.
        Assert.Contains(signIn.Headers.GetValues("Set-Cookie"), cookie => cookie.Contains("secure", StringComparison.OrdinalIgnoreCase));

        // Act
        var ids = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            using var page = await browser.GetAsync("/admin/jobs");
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            ids.Add(Assert.Single(page.Headers.GetValues(CorrelationIdMiddleware.HeaderName)));
        }

        // Assert: signed in on both instances.
        Assert.Contains(ids, proxy.First.HandledRequest);
        Assert.Contains(ids, proxy.Second.HandledRequest);
    }

    [Fact]
    public async Task The_Portal_Builds_Its_Sign_In_Redirect_With_The_Public_Https_Address()
    {
        using var anonymous = proxy.CreateBrowser();

        using var response = await anonymous.GetAsync("/admin/jobs");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var location = response.Headers.Location!;
        Assert.Equal($"https://127.0.0.1:{proxy.HttpsPort}/account/login", location.GetLeftPart(UriPartial.Path));
        Assert.Contains("returnUrl=%2Fadmin%2Fjobs", location.Query, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Signing_In_Through_Authentik_Sends_The_Public_Https_Callback_Address()
    {
        using var anonymous = proxy.CreateBrowser();

        using var response = await anonymous.GetAsync("/account/login/oidc");

        // authentik compares the redirect URI strictly with the one registered: it must be the public https one.
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var location = response.Headers.Location!;
        Assert.StartsWith(proxy.IdentityProvider.AuthorizeEndpoint, location.AbsoluteUri, StringComparison.Ordinal);
        Assert.Equal($"https://127.0.0.1:{proxy.HttpsPort}/signin-oidc", QueryHelpers.ParseQuery(location.Query)["redirect_uri"].ToString());
    }

    [Fact]
    public async Task A_Server_Sent_Event_Reaches_The_Browser_While_The_Response_Is_Still_Open()
    {
        // Act: the test endpoint sends one event, then holds the response open until released.
        using var firstEvent = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        HttpResponseMessage response;
        StreamReader events;
        string? first;
        try
        {
            response = await proxy.Client.GetAsync(ReverseProxyFixture.EventsPath, HttpCompletionOption.ResponseHeadersRead, firstEvent.Token);
            events = new StreamReader(await response.Content.ReadAsStreamAsync(firstEvent.Token));
            first = await events.ReadLineAsync(firstEvent.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail("No event within 30 seconds while the server held the response open: the proxy buffers server-sent events.");
            return;
        }

        // Assert: the first event is through before the server writes anything more.
        using var stream = events;
        using var message = response;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("data: first", first);

        proxy.ReleaseEvents();
        var rest = await events.ReadToEndAsync();
        Assert.Contains("data: second", rest, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_Proxy_Does_Not_Serve_Metrics()
    {
        using var response = await proxy.Client.GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.DoesNotContain("harborportal_", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Nginx_Accepts_The_Shipped_Config_And_Only_The_Compose_Host_Names_Need_The_Compose_Network()
    {
        // The file as tested (upstreams and ports replaced): valid.
        var tested = await ReverseProxyFixture.RunNginxAsync(proxy.Prefix, "-t", proxy.ConfigPath);
        Assert.True(tested.ExitCode == 0, tested.Output);

        // The file as shipped: nginx resolves upstream hosts when it starts, and portal-1 exists only on the compose
        // network. That must be its one complaint.
        var shipped = Path.Combine(proxy.Prefix, "shipped.conf");
        File.Copy(ReverseProxyFixture.ShippedConfigPath, shipped, overwrite: true);
        var asShipped = await ReverseProxyFixture.RunNginxAsync(proxy.Prefix, "-t", shipped);
        Assert.NotEqual(0, asShipped.ExitCode);
        var errors = asShipped.Output.Split('\n').Where(line => line.Contains("[emerg]", StringComparison.Ordinal)).ToList();
        Assert.Contains("host not found in upstream \"portal-1:8080\"", Assert.Single(errors), StringComparison.Ordinal);
    }
}

/// <summary>Two portals on one data directory, and nginx in front of them, started once for the class.</summary>
public sealed class ReverseProxyFixture : IAsyncLifetime
{
    public const string AdminPassword = "Reverse-Proxy-Pa55word!";
    public const string EventsPath = "/__test/events";

    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "harborportal-proxy", Guid.NewGuid().ToString("n"));
    private readonly ConcurrentQueue<string> _nginxOutput = new();
    private readonly TaskCompletionSource _releaseEvents = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private X509Certificate2 _certificate = null!;
    private Process? _nginx;

    public static string ShippedConfigPath => Path.Combine(RepositoryPaths.Root, "deploy", "nginx", "nginx.conf");

    /// <summary>authentik, as the portals' sign-in (the break-glass admin stays on beside it).</summary>
    public TestIdentityProvider IdentityProvider { get; private set; } = null!;

    public PortalInstance First { get; private set; } = null!;

    public PortalInstance Second { get; private set; } = null!;

    /// <summary>nginx's prefix: its config, certificate, temp folders and pid file, all under the test's temp folder.</summary>
    public string Prefix { get; } = Path.Combine(Path.GetTempPath(), "harborportal-nginx", Guid.NewGuid().ToString("n"));

    public string ConfigPath => Path.Combine(Prefix, "nginx.conf");

    public int HttpsPort { get; } = FreePort.Next();

    /// <summary>A client without cookies, through the proxy.</summary>
    public HttpClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_dataDirectory);
        Directory.CreateDirectory(Path.Combine(Prefix, "certs"));

        IdentityProvider = await TestIdentityProvider.StartAsync();
        var settings = new Dictionary<string, string?>
        {
            ["Oidc:Authority"] = IdentityProvider.Issuer,
            ["Oidc:ClientId"] = TestIdentityProvider.ClientId,
            ["Oidc:ClientSecret"] = TestIdentityProvider.ClientSecret,
            ["Oidc:RequireHttpsMetadata"] = "false",
            ["LocalAdmin:Enabled"] = "true",
            ["LocalAdmin:Password"] = AdminPassword,
        };
        First = PortalInstance.Start(_dataDirectory, settings, _releaseEvents.Task);
        // The first instance makes the key ring before the second starts, as the first start of a deployment does.
        using (var direct = new HttpClient { BaseAddress = First.Address })
        {
            Assert.Equal(HttpStatusCode.OK, (await direct.GetAsync("/account/login")).StatusCode);
        }

        Second = PortalInstance.Start(_dataDirectory, settings, _releaseEvents.Task);

        WriteCertificate();
        File.WriteAllText(ConfigPath, ConfigFor(File.ReadAllText(ShippedConfigPath), First.Port, Second.Port, FreePort.Next(), HttpsPort));
        StartNginx();
        Client = CreateBrowser(handleCookies: false);
        await WaitUntilServingAsync();
    }

    public async Task DisposeAsync()
    {
        _releaseEvents.TrySetResult();
        Client?.Dispose();
        if (_nginx is { HasExited: false })
        {
            _nginx.Kill(entireProcessTree: true);
            await _nginx.WaitForExitAsync();
        }

        _nginx?.Dispose();
        _certificate?.Dispose();
        if (First is not null)
        {
            await First.DisposeAsync();
        }

        if (Second is not null)
        {
            await Second.DisposeAsync();
        }

        if (IdentityProvider is not null)
        {
            await IdentityProvider.DisposeAsync();
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var dir in new[] { _dataDirectory, Prefix })
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
                // A file still held open: the temp folder is cleaned by the OS eventually.
            }
        }
    }

    public void ReleaseEvents() => _releaseEvents.TrySetResult();

    /// <summary>A browser through the proxy over https: keeps cookies, shows redirects, trusts exactly the proxy's certificate.</summary>
    public HttpClient CreateBrowser(bool handleCookies = true)
    {
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = handleCookies,
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, presented, _, _) => presented is not null && presented.GetCertHashString() == _certificate.GetCertHashString(),
            },
        };
        return new HttpClient(handler) { BaseAddress = new Uri($"https://127.0.0.1:{HttpsPort}") };
    }

    /// <summary>The proxy's access log so far, once it has the line of the given request.</summary>
    public async Task<string> WaitForAccessLogAsync(string correlationId)
    {
        for (var i = 0; i < 100 && !_nginxOutput.Any(line => line.Contains(correlationId, StringComparison.Ordinal)); i++)
        {
            await Task.Delay(100);
        }

        return string.Join('\n', _nginxOutput);
    }

    /// <summary>The compose file's upstream servers and listen ports, replaced by loopback ones; nothing else changes.</summary>
    public static string ConfigFor(string shipped, int firstPort, int secondPort, int httpPort, int httpsPort)
    {
        var replacements = new (string From, string To)[]
        {
            ("server portal-1:8080;", $"server 127.0.0.1:{firstPort};"),
            ("server portal-2:8080;", $"server 127.0.0.1:{secondPort};"),
            ("listen 80;", $"listen 127.0.0.1:{httpPort};"),
            ("listen 443 ssl;", $"listen 127.0.0.1:{httpsPort} ssl;"),
        };
        foreach (var (from, to) in replacements)
        {
            Assert.True(CountOf(shipped, from) == 1, $"deploy/nginx/nginx.conf should contain '{from}' once: the proxy test replaces it.");
            shipped = shipped.Replace(from, to, StringComparison.Ordinal);
        }

        return shipped;
    }

    public static async Task<(int ExitCode, string Output)> RunNginxAsync(string prefix, string mode, string config)
    {
        var start = NginxStart(prefix, config);
        start.ArgumentList.Insert(0, mode);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }

    private static ProcessStartInfo NginxStart(string prefix, string config)
    {
        var nginx = File.Exists("/usr/sbin/nginx") ? "/usr/sbin/nginx" : "nginx";
        var start = new ProcessStartInfo(nginx) { RedirectStandardOutput = true, RedirectStandardError = true };
        // The prefix holds the temp folders; pid and error log are given here because the shipped file leaves them to the image.
        foreach (var argument in new[] { "-p", prefix + "/", "-c", config, "-g", $"daemon off; pid {prefix}/nginx.pid; error_log stderr;" })
        {
            start.ArgumentList.Add(argument);
        }

        return start;
    }

    private static int CountOf(string text, string value) => (text.Length - text.Replace(value, "", StringComparison.Ordinal).Length) / value.Length;

    private void WriteCertificate()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        _certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        File.WriteAllText(Path.Combine(Prefix, "certs", "portal.crt"), _certificate.ExportCertificatePem());
        File.WriteAllText(Path.Combine(Prefix, "certs", "portal.key"), key.ExportPkcs8PrivateKeyPem());
    }

    private void StartNginx()
    {
        Assert.True(File.Exists("/usr/sbin/nginx") || File.Exists("/usr/bin/nginx"), "Debian's nginx is not installed (build/test.sh installs it: apt-get install nginx).");
        _nginx = Process.Start(NginxStart(Prefix, ConfigPath))!;
        _nginx.OutputDataReceived += (_, e) => { if (e.Data is not null) { _nginxOutput.Enqueue(e.Data); } };
        _nginx.ErrorDataReceived += (_, e) => { if (e.Data is not null) { _nginxOutput.Enqueue(e.Data); } };
        _nginx.BeginOutputReadLine();
        _nginx.BeginErrorReadLine();
    }

    private async Task WaitUntilServingAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            Assert.False(_nginx!.HasExited, "nginx exited at start:\n" + string.Join('\n', _nginxOutput));
            try
            {
                if ((await Client.GetAsync("/healthz")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(200);
        }

        Assert.Fail("nginx did not serve /healthz within 60 seconds:\n" + string.Join('\n', _nginxOutput));
    }

    /// <summary>One portal on Kestrel on a loopback port, on the shared data directory.</summary>
    public sealed class PortalInstance : IAsyncDisposable
    {
        private readonly PortalApplication _app;

        private PortalInstance(PortalApplication app, int port)
        {
            _app = app;
            Port = port;
        }

        public int Port { get; }

        public Uri Address => new($"http://127.0.0.1:{Port}");

        public static PortalInstance Start(string dataDirectory, Dictionary<string, string?> settings, Task releaseEvents)
        {
            var app = new PortalApplication(settings, configureServices: services => services.AddSingleton<IStartupFilter>(new TestEventsStartupFilter(releaseEvents)), dataDirectory: dataDirectory);
            var port = FreePort.Next();
            app.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));
            app.StartServer();
            return new PortalInstance(app, port);
        }

        /// <summary>Whether this instance logged anything in the scope of a request with this correlation id.</summary>
        public bool HandledRequest(string correlationId) =>
            _app.Logs.Any(log => log.Scopes is { } scopes && scopes.TryGetValue(CorrelationIdMiddleware.ScopeKey, out var id) && Equals(id, correlationId));

        public ValueTask DisposeAsync() => _app.DisposeAsync();
    }

    /// <summary>A server-sent events response that sends one event and then waits: the portal's live pages would stream like it.</summary>
    private sealed class TestEventsStartupFilter(Task release) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (context, nextMiddleware) =>
            {
                if (context.Request.Path != EventsPath)
                {
                    await nextMiddleware(context);
                    return;
                }

                await TypedResults.ServerSentEvents(EventsAsync(release, context.RequestAborted)).ExecuteAsync(context);
            });
            next(app);
        };

        private static async IAsyncEnumerable<string> EventsAsync(Task release, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            yield return "first";
            await release.WaitAsync(TimeSpan.FromSeconds(60), cancellationToken);
            yield return "second";
        }
    }
}
