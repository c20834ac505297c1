using System.Globalization;
using System.Net;
using System.Net.Sockets;
using HarborPortal.Features.Auth;
using HarborPortal.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace HarborPortal.BrowserTests.Infrastructure;

/// <summary>How a <see cref="PortalServerFixture"/> sets up authentik and the portal.</summary>
public sealed record PortalServerSettings
{
    /// <summary><c>RS256</c> (authentik with a signing key) or <c>HS256</c> (no signing key: HMAC with the client secret).</summary>
    public string Signing { get; init; } = "RS256";

    /// <summary><c>Oidc:RequireMappedGroup</c>: refuse users in no mapped group instead of making them Viewers.</summary>
    public bool RequireMappedGroup { get; init; }
}

/// <summary>
/// The test identity provider (authentik look-alike) and the real portal on Kestrel at
/// <c>http://127.0.0.1:&lt;port&gt;/</c>, started once per collection. The port is chosen first because the
/// provider must know the portal's redirect, post-logout and back-channel URIs before it starts.
/// </summary>
public class PortalServerFixture : IAsyncLifetime
{
    public const string LocalAdminUserName = "admin";

    public const string LocalAdminPassword = "Break-Glass-Browser-Pa55word!";

    private PortalServer? _server;
    private IdentityProviderFixture? _identityProvider;
    private Uri? _baseAddress;

    public PortalServerFixture(IMessageSink diagnostics)
        : this(diagnostics, new PortalServerSettings())
    {
    }

    protected PortalServerFixture(IMessageSink diagnostics, PortalServerSettings settings)
    {
        Output = new TestOutputSink(diagnostics);
        Settings = settings;
        DataDirectory = Path.Combine(Path.GetTempPath(), "harborportal-browser-tests", Guid.NewGuid().ToString("n"));
    }

    public PortalServerSettings Settings { get; }

    /// <summary>Where the portal's and the provider's log lines go; tests attach their output here.</summary>
    public TestOutputSink Output { get; }

    /// <summary><c>http://127.0.0.1:&lt;port&gt;/</c>.</summary>
    public Uri BaseAddress => _baseAddress ?? throw NotStarted();

    public IdentityProviderFixture IdentityProvider => _identityProvider ?? throw NotStarted();

    /// <summary>The portal's services (for looking at its state; drive it through the browser).</summary>
    public IServiceProvider Services => (_server ?? throw NotStarted()).Services;

    public string DataDirectory { get; }

    public async Task InitializeAsync()
    {
        try
        {
            var port = FreePort.Next();
            var origin = $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}";

            _identityProvider = await IdentityProviderFixture.StartAsync(new IdentityProviderOptions
            {
                RedirectUris = [origin + PortalAuthentication.CallbackPath],
                PostLogoutRedirectUris = [origin + PortalAuthentication.SignedOutCallbackPath],
                BackchannelLogoutUri = origin + PortalAuthentication.BackchannelLogoutPath,
                Signing = Settings.Signing,
                Log = line => Output.WriteLine(line.StartsWith("[idp]", StringComparison.Ordinal) ? line : "[idp] " + line),
            });

            Directory.CreateDirectory(DataDirectory);
            _server = new PortalServer(PortalSettings(_identityProvider), Output);
            _server.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));
            _server.StartServer();
            _baseAddress = new Uri(origin + "/");
            Output.WriteLine($"[fixture] portal at {origin} ({Settings.Signing}, RequireMappedGroup={Settings.RequireMappedGroup}), authentik at {_identityProvider.Issuer}");
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
            _server = null;
        }

        if (_identityProvider is not null)
        {
            await _identityProvider.DisposeAsync();
            _identityProvider = null;
        }

        SqliteConnection.ClearAllPools();
        try
        {
            if (Directory.Exists(DataDirectory))
            {
                Directory.Delete(DataDirectory, recursive: true);
            }
        }
        catch (IOException)
        {
            // A file still held by a finishing background thread: the OS temp cleaner gets it.
        }
    }

    private Dictionary<string, string?> PortalSettings(IdentityProviderFixture identityProvider) => new()
    {
        ["Portal:DataDirectory"] = DataDirectory,
        ["Oidc:Authority"] = identityProvider.Authority,
        ["Oidc:ClientId"] = identityProvider.ClientId,
        ["Oidc:ClientSecret"] = identityProvider.ClientSecret,
        ["Oidc:RequireHttpsMetadata"] = "false",
        ["Oidc:RequireMappedGroup"] = Settings.RequireMappedGroup ? "true" : "false",
        ["LocalAdmin:Enabled"] = "true",
        ["LocalAdmin:UserName"] = LocalAdminUserName,
        ["LocalAdmin:Password"] = LocalAdminPassword,
    };

    private static InvalidOperationException NotStarted() => new("The portal server fixture has not started.");

    /// <summary>The portal as in production (environment, configuration keys), its logs in the test output.</summary>
    private sealed class PortalServer(Dictionary<string, string?> settings, TestOutputSink output) : WebApplicationFactory<Program>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseEnvironment("Production");
            foreach (var (key, value) in settings)
            {
                builder.UseSetting(key, value);
            }

            builder.ConfigureLogging(logging =>
            {
                logging.ClearProviders();
                logging.AddProvider(new TestOutputLoggerProvider(output));
            });
        }
    }
}

/// <summary>authentik without a signing key (HS256 with the client secret) and a portal that refuses users in no mapped group.</summary>
public sealed class StrictHs256PortalServerFixture(IMessageSink diagnostics)
    : PortalServerFixture(diagnostics, new PortalServerSettings { Signing = "HS256", RequireMappedGroup = true });

/// <summary>A server of its own for the break-glass admin's lockout, which lasts 15 minutes and would block any other test using it.</summary>
public sealed class LocalAdminPortalServerFixture(IMessageSink diagnostics)
    : PortalServerFixture(diagnostics, new PortalServerSettings());
