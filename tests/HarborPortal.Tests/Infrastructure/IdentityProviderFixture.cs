using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace HarborPortal.Tests.Infrastructure;

/// <summary>How to start the test identity provider (tests/IdentityProvider/server.mjs).</summary>
public sealed record IdentityProviderOptions
{
    /// <summary>A fixed, long (HS256 needs at least 32 bytes) client secret used when none is given.</summary>
    public const string DefaultClientSecret = "harbor-portal-test-secret-7bVq2mXc9LpR4tZs8NwKf3HdJy6GaE1u";

    /// <summary>authentik application slug; the issuer is <c>http://127.0.0.1:&lt;port&gt;/application/o/&lt;slug&gt;/</c>.</summary>
    public string Slug { get; init; } = "harbor-portal";

    public string ClientId { get; init; } = "harbor-portal";

    public string ClientSecret { get; init; } = DefaultClientSecret;

    /// <summary>Registered (strict) redirect URIs; at least one is required.</summary>
    public string[] RedirectUris { get; init; } = [];

    /// <summary>Registered post-logout redirect URIs (authentik's separate list).</summary>
    public string[] PostLogoutRedirectUris { get; init; } = [];

    /// <summary>The client's back-channel logout URI (session required); null disables back-channel logout.</summary>
    public string? BackchannelLogoutUri { get; init; }

    /// <summary><c>RS256</c> (authentik with a signing key) or <c>HS256</c> (no signing key: HMAC with the client secret).</summary>
    public string Signing { get; init; } = "RS256";

    /// <summary>Port to listen on (127.0.0.1); 0 lets the server pick a free one.</summary>
    public int Port { get; init; }

    /// <summary>Receives every stdout/stderr line of the node process (e.g. ITestOutputHelper.WriteLine).</summary>
    public Action<string>? Log { get; init; }
}

/// <summary>A user of the test identity provider (kept in sync with server.mjs).</summary>
public sealed record IdentityProviderUser(
    int Pk,
    string Username,
    string Password,
    IReadOnlyList<string> Groups,
    string Email,
    string Name)
{
    /// <summary>The <c>sub</c> claim: authentik's default "hashed_user_id" mode, SHA-256 hex of the user id.</summary>
    public string Sub { get; } = Convert.ToHexStringLower(
        SHA256.HashData(Encoding.UTF8.GetBytes(Pk.ToString(CultureInfo.InvariantCulture))));
}

/// <summary>Result of <see cref="IdentityProviderFixture.EndSessionsDetailedAsync"/>.</summary>
/// <param name="Sessions">Provider sessions of the user that were destroyed.</param>
/// <param name="Delivered">Back-channel logout tokens the client answered with 200 (authentik's only success).</param>
/// <param name="Statuses">HTTP status of every back-channel delivery (0 = connection failed).</param>
public sealed record EndSessionsResult(int Sessions, int Delivered, IReadOnlyList<int> Statuses);

/// <summary>
/// Starts the real <c>oidc-provider</c> configured like authentik (tests/IdentityProvider/server.mjs)
/// as a node child process on a loopback port, and stops it on dispose.
/// </summary>
public sealed class IdentityProviderFixture : IAsyncDisposable
{
    private static readonly TimeSpan StartupTimeout = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly HttpClient _http;
    private readonly Action<string>? _log;
    private int _disposed;

    private IdentityProviderFixture(Process process, IdentityProviderOptions options, int port, string issuer)
    {
        _process = process;
        _log = options.Log;
        Options = options;
        Port = port;
        Issuer = issuer;
        _http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>The users known to the provider (username / password / groups, ...).</summary>
    public static IReadOnlyList<IdentityProviderUser> Users { get; } =
    [
        new(1, "akadmin", "admin-pass", ["harbor-portal-admins"], "akadmin@example.test", "Alex Admin"),
        new(2, "sec", "sec-pass", ["harbor-portal-security"], "sec@example.test", "Sam Security"),
        new(3, "dev", "dev-pass", ["harbor-portal-developers", "team-a"], "dev@example.test", "Dana Developer"),
        new(4, "nogroup", "nogroup-pass", [], "nogroup@example.test", "Nico Nogroup"),
        new(5, "viewer", "viewer-pass", ["harbor-portal-viewers"], "viewer@example.test", "Vera Viewer"),
    ];

    public IdentityProviderOptions Options { get; }

    public int Port { get; }

    /// <summary>Issuer, with authentik's trailing slash: <c>http://127.0.0.1:&lt;port&gt;/application/o/&lt;slug&gt;/</c>.</summary>
    public string Issuer { get; }

    /// <summary>The OpenID Connect authority for the portal (same as <see cref="Issuer"/>).</summary>
    public string Authority => Issuer;

    public string DiscoveryUrl => Issuer + ".well-known/openid-configuration";

    public string ClientId => Options.ClientId;

    public string ClientSecret => Options.ClientSecret;

    public string Signing => Options.Signing;

    public static IdentityProviderUser User(string username) =>
        Users.FirstOrDefault(u => u.Username == username)
        ?? throw new ArgumentException($"The test identity provider has no user '{username}'.", nameof(username));

    public static async Task<IdentityProviderFixture> StartAsync(IdentityProviderOptions options, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.RedirectUris.Length == 0)
        {
            throw new ArgumentException("At least one redirect URI must be registered.", nameof(options));
        }

        if (options.Signing is not ("RS256" or "HS256"))
        {
            throw new ArgumentException("Signing must be RS256 or HS256.", nameof(options));
        }

        var root = FindRepositoryRoot();
        var script = Path.Combine(root, "tests", "IdentityProvider", "server.mjs");
        if (!Directory.Exists(Path.Combine(root, "node_modules", "oidc-provider")))
        {
            throw new InvalidOperationException($"node_modules/oidc-provider is missing in {root}: run `npm ci` there first.");
        }

        var startInfo = new ProcessStartInfo("node")
        {
            WorkingDirectory = root,
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        startInfo.ArgumentList.Add(script);
        startInfo.Environment["IDP_PORT"] = options.Port.ToString(CultureInfo.InvariantCulture);
        startInfo.Environment["IDP_SLUG"] = options.Slug;
        startInfo.Environment["IDP_CLIENT_ID"] = options.ClientId;
        startInfo.Environment["IDP_CLIENT_SECRET"] = options.ClientSecret;
        startInfo.Environment["IDP_REDIRECT_URIS"] = string.Join(',', options.RedirectUris);
        startInfo.Environment["IDP_POST_LOGOUT_REDIRECT_URIS"] = string.Join(',', options.PostLogoutRedirectUris);
        startInfo.Environment["IDP_BACKCHANNEL_LOGOUT_URI"] = options.BackchannelLogoutUri ?? string.Empty;
        startInfo.Environment["IDP_SIGNING"] = options.Signing;
        startInfo.Environment["IDP_EXIT_WITH_STDIN"] = "1";
        startInfo.Environment["NO_COLOR"] = "1";

        var ready = new TaskCompletionSource<(int Port, string Issuer)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var stderr = new StringBuilder();
        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };

        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            Forward(options.Log, "[idp] " + e.Data);
            if (!ready.Task.IsCompleted && TryParseReady(e.Data, out var port, out var issuer))
            {
                ready.TrySetResult((port, issuer));
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            Forward(options.Log, e.Data);
            lock (stderr)
            {
                if (stderr.Length < 64 * 1024)
                {
                    stderr.AppendLine(e.Data);
                }
            }
        };
        process.Exited += (_, _) => ready.TrySetException(new InvalidOperationException("node exited before it was ready."));

        try
        {
            if (!process.Start())
            {
                throw new InvalidOperationException("Could not start node.");
            }
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            process.Dispose();
            throw new InvalidOperationException("Could not start `node` (is Node.js on the PATH?).", ex);
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        try
        {
            var (port, issuer) = await ready.Task.WaitAsync(StartupTimeout, ct).ConfigureAwait(false);
            return new IdentityProviderFixture(process, options, port, issuer);
        }
        catch (Exception ex) when (ex is TimeoutException or InvalidOperationException or OperationCanceledException)
        {
            await StopAsync(process).ConfigureAwait(false);
            string errors;
            lock (stderr)
            {
                errors = stderr.ToString();
            }

            process.Dispose();
            if (ex is OperationCanceledException)
            {
                throw;
            }

            var why = ex is TimeoutException ? $"did not report ready within {StartupTimeout.TotalSeconds:0} s" : "exited before it was ready";
            throw new InvalidOperationException(
                $"The test identity provider ({script}) {why}. Its stderr:{Environment.NewLine}{errors}", ex);
        }
    }

    /// <summary>
    /// Ends every provider session of <paramref name="username"/> the way an authentik admin deleting
    /// them would: the sessions and their tokens are gone and a back-channel logout token is posted to the
    /// client's back-channel logout URI for each. Returns how many deliveries the client answered with 200.
    /// </summary>
    public async Task<int> EndSessionsAsync(string username) =>
        (await EndSessionsDetailedAsync(username).ConfigureAwait(false)).Delivered;

    /// <inheritdoc cref="EndSessionsAsync"/>
    public async Task<EndSessionsResult> EndSessionsDetailedAsync(string username, CancellationToken ct = default)
    {
        using var response = await _http.PostAsync(
            new Uri("_test/end-sessions?username=" + Uri.EscapeDataString(username), UriKind.Relative), content: null, ct).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"end-sessions for '{username}' failed: {(int)response.StatusCode} {body}");
        }

        using var json = JsonDocument.Parse(body);
        var root = json.RootElement;
        return new EndSessionsResult(
            root.GetProperty("sessions").GetInt32(),
            root.GetProperty("delivered").GetInt32(),
            [.. root.GetProperty("statuses").EnumerateArray().Select(s => s.GetInt32())]);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _http.Dispose();
        await StopAsync(_process).ConfigureAwait(false);
        _process.Dispose();
        Forward(_log, "[idp] stopped");
    }

    private static async Task StopAsync(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
            // Never started or already gone.
        }
        catch (OperationCanceledException)
        {
            // Did not exit in time; nothing more we can do.
        }
    }

    private static bool TryParseReady(string line, out int port, out string issuer)
    {
        port = 0;
        issuer = string.Empty;
        if (!line.StartsWith('{'))
        {
            return false;
        }

        try
        {
            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("ready", out var r) || r.ValueKind != JsonValueKind.True
                || !root.TryGetProperty("port", out var p) || !p.TryGetInt32(out port)
                || !root.TryGetProperty("issuer", out var i) || i.GetString() is not { } iss)
            {
                return false;
            }

            issuer = iss;
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static void Forward(Action<string>? log, string line)
    {
        if (log is null)
        {
            return;
        }

        try
        {
            log(line);
        }
        catch (InvalidOperationException)
        {
            // xunit's ITestOutputHelper throws once its test has finished; late lines are dropped.
        }
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "HarborPortal.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"Could not find HarborPortal.sln above {AppContext.BaseDirectory}.");
    }
}
