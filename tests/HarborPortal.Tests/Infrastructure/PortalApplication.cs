using System.Collections.Concurrent;
using System.Net;
using System.Security.Claims;
using AngleSharp.Html.Parser;
using HarborPortal.Data;
using HarborPortal.Features.AdminCli;
using HarborPortal.Features.Auth;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace HarborPortal.Tests.Infrastructure;

/// <summary>
/// The real portal in memory, one per test: a fresh data directory (SQLite, keys) deleted on dispose, production
/// environment, every log line captured (and written to the test output when given).
/// </summary>
public sealed class PortalApplication : WebApplicationFactory<Program>
{
    /// <summary>A path that signs the client in with a test principal (see <see cref="SignInAsAsync"/>); only in tests.</summary>
    private const string TestSignInPath = "/__test/signin";

    /// <summary>A request header that sets the client's IP address as the server sees it (only in tests).</summary>
    public const string TestClientAddressHeader = "X-Test-Client-Address";

    private readonly IDictionary<string, string?> _settings;
    private readonly ITestOutputHelper? _output;
    private readonly Action<IServiceCollection>? _configureServices;
    private readonly ConcurrentQueue<CapturedLog> _logs = new();
    private readonly bool _ownsDataDirectory;
    private readonly Dictionary<string, string?> _databaseSettings = [];

    /// <param name="dataDirectory">An existing data directory (a portal started again on the same data); the caller deletes it. Null: a fresh one, deleted on dispose.</param>
    public PortalApplication(IDictionary<string, string?>? settings = null, ITestOutputHelper? output = null, Action<IServiceCollection>? configureServices = null, string? dataDirectory = null)
    {
        _settings = settings ?? new Dictionary<string, string?>();
        _output = output;
        _configureServices = configureServices;
        _ownsDataDirectory = dataDirectory is null;
        DataDirectory = dataDirectory ?? Path.Combine(Path.GetTempPath(), "harborportal-tests", Guid.NewGuid().ToString("n"));
        Directory.CreateDirectory(DataDirectory);

        // PORTAL_TEST_DATABASE=Postgres: the same tests on PostgreSQL, a database per data directory (a portal started
        // again on its data finds its database again). A test that names its own provider keeps it.
        if (TestDatabase.IsPostgres && !_settings.ContainsKey("Database:Provider"))
        {
            PostgresDatabase = PostgresCluster.DatabaseNameFor(DataDirectory);
            _databaseSettings["Database:Provider"] = "Postgres";
            _databaseSettings["ConnectionStrings:Portal"] = PostgresCluster.Shared.CreateDatabaseAsync(PostgresDatabase).GetAwaiter().GetResult();
        }
    }

    /// <summary>The PostgreSQL database of this portal, when the tests run on PostgreSQL.</summary>
    public string? PostgresDatabase { get; }

    public string DataDirectory { get; }

    public IReadOnlyCollection<CapturedLog> Logs => _logs;

    /// <summary>The settings the app runs with, data directory included: for a second host on the same data (the CLI).</summary>
    public IReadOnlyDictionary<string, string?> Settings =>
        new Dictionary<string, string?>(_databaseSettings.Concat(_settings)) { ["Portal:DataDirectory"] = DataDirectory };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        // UseSetting reaches WebApplication.CreateBuilder as arguments, so AddHarborPortal reads these while it composes.
        builder.UseEnvironment("Production");
        foreach (var (key, value) in Settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureLogging(logging => logging
            .AddProvider(new CapturingLoggerProvider(_logs, _output))
            .AddFilter<CapturingLoggerProvider>(null, LogLevel.Debug));

        builder.ConfigureTestServices(services =>
        {
            services.AddSingleton<IStartupFilter>(new TestSignInStartupFilter());
            _configureServices?.Invoke(services);
        });
    }

    /// <summary>A client that keeps cookies and shows redirects instead of following them.</summary>
    public HttpClient CreateClientWithCookies() =>
        CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });

    /// <summary>GETs a page (storing the antiforgery cookie in the client) and returns the antiforgery token it carries.</summary>
    public static async Task<string> GetAntiforgeryTokenAsync(HttpClient client, string path)
    {
        var html = await client.GetStringAsync(path);
        var document = new HtmlParser().ParseDocument(html);
        // A form's hidden input, else the token every page carries for htmx (App.razor).
        return document.QuerySelector("input[name=__RequestVerificationToken]")?.GetAttribute("value")
            ?? document.QuerySelector("meta[name=antiforgery-token]")?.GetAttribute("content")
            ?? throw new InvalidOperationException($"{path} has no antiforgery token.");
    }

    /// <summary>Posts the local login form; returns the response (a redirect).</summary>
    public static async Task<HttpResponseMessage> SignInLocalAdminAsync(HttpClient client, string user, string password, string returnUrl = "/")
    {
        var token = await GetAntiforgeryTokenAsync(client, "/account/login");
        return await client.PostAsync("/account/login/local", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token,
            ["username"] = user,
            ["password"] = password,
            ["returnUrl"] = returnUrl,
        }));
    }

    /// <summary>
    /// Signs the client in with a session cookie for <paramref name="userName"/> (upserted as an account of a test
    /// issuer) with the given roles: people without the break-glass admin's Admin role, until the OIDC fixture exists.
    /// </summary>
    public Task SignInAsAsync(HttpClient client, string userName, params string[] roles) => SignInWithGroupsAsync(client, userName, [], roles);

    /// <summary>As <see cref="SignInAsAsync"/>, in these authentik groups (the <c>group</c> claims teams are matched on).</summary>
    public async Task SignInWithGroupsAsync(HttpClient client, string userName, string[] groups, params string[] roles)
    {
        var query = $"?user={Uri.EscapeDataString(userName)}&roles={Uri.EscapeDataString(string.Join(',', roles))}&groups={Uri.EscapeDataString(string.Join(',', groups))}";
        using var response = await client.PostAsync(TestSignInPath + query, null);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    /// <summary>Runs an <c>admin …</c> command in a second host on the same data directory and settings, as an operator would.</summary>
    public async Task<CommandResult> RunAdminCommandAsync(params string[] args)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.Configuration.AddInMemoryCollection(Settings);
        builder.AddHarborPortal();
        builder.Logging.ClearProviders().AddProvider(new CapturingLoggerProvider(_logs, _output));
        await using var app = builder.Build();
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = await AdminCommandLine.RunAsync(app, ["admin", .. args], output, error);
        _output?.WriteLine($"admin {string.Join(' ', args)} → {exitCode}\n{error}");
        return new CommandResult(exitCode, output.ToString(), error.ToString());
    }

    /// <summary>A fresh database context on the app's database, for arranging and asserting on rows.</summary>
    public PortalDbContext CreateDbContext() => Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContext();

    /// <summary>Every captured log line and exception, as one text to search.</summary>
    public string AllLogText() => string.Join('\n', _logs.Select(l => $"{l.Category} {l.Message} {l.Exception}"));

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing && _ownsDataDirectory)
        {
            // SQLite pools connections: release the file before deleting the folder.
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            if (PostgresDatabase is not null)
            {
                PostgresCluster.Shared.DropDatabaseAsync(PostgresDatabase).GetAwaiter().GetResult();
            }

            try
            {
                Directory.Delete(DataDirectory, recursive: true);
            }
            catch (IOException)
            {
                // A file still held open on some platform: the temp folder is cleaned by the OS eventually.
            }
        }
    }

    private sealed class TestSignInStartupFilter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (context, nextMiddleware) =>
            {
                // The test server gives requests no client address; a test that needs one (the metrics allow-list) names it.
                if (context.Request.Headers[TestClientAddressHeader] is [{ } address])
                {
                    context.Connection.RemoteIpAddress = IPAddress.Parse(address);
                }

                if (context.Request.Path != TestSignInPath || !HttpMethods.IsPost(context.Request.Method))
                {
                    await nextMiddleware(context);
                    return;
                }

                var userName = context.Request.Query["user"].ToString();
                var roles = context.Request.Query["roles"].ToString().Split(',', StringSplitOptions.RemoveEmptyEntries);
                var groups = context.Request.Query["groups"].ToString().Split(',', StringSplitOptions.RemoveEmptyEntries);
                const string issuer = "https://idp.test/";
                await using var db = context.RequestServices.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContext();
                var user = await db.UserAccounts.SingleOrDefaultAsync(u => u.Issuer == issuer && u.Subject == userName);
                if (user is null)
                {
                    user = new UserAccount { Issuer = issuer, Subject = userName, UserName = userName, CreatedAt = DateTimeOffset.UtcNow };
                    db.UserAccounts.Add(user);
                }

                user.Roles = string.Join(',', roles);
                user.Groups = string.Join('\n', groups);
                await db.SaveChangesAsync();

                List<Claim> claims =
                [
                    new(PortalClaimTypes.Name, userName),
                    new(PortalClaimTypes.UserId, user.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                    new(PortalClaimTypes.Issuer, issuer),
                    new(PortalClaimTypes.Subject, userName),
                    new(PortalClaimTypes.AuthMethod, "oidc"),
                    .. roles.Select(role => new Claim(PortalClaimTypes.Role, role)),
                    .. groups.Select(group => new Claim(PortalClaimTypes.Group, group)),
                ];
                var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, "oidc", PortalClaimTypes.Name, PortalClaimTypes.Role));
                await context.SignInAsync(PortalAuthentication.CookieScheme, principal);
                context.Response.StatusCode = StatusCodes.Status204NoContent;
            });
            next(app);
        };
    }
}

/// <param name="Scopes">The key/value pairs of the logging scopes around the entry (a request's correlation id, a job run's id).</param>
public sealed record CapturedLog(LogLevel Level, string Category, string Message, Exception? Exception, IReadOnlyDictionary<string, object?>? Scopes = null);

public sealed record CommandResult(int ExitCode, string Output, string Error);

/// <summary>A time the test moves by hand (it starts at the real now, so tokens made by another host line up).</summary>
public sealed class TestClock : TimeProvider
{
    private readonly Lock _gate = new();
    private DateTimeOffset _now = DateTimeOffset.UtcNow;

    public override DateTimeOffset GetUtcNow()
    {
        lock (_gate)
        {
            return _now;
        }
    }

    public void Advance(TimeSpan by)
    {
        lock (_gate)
        {
            _now += by;
        }
    }
}

internal sealed class CapturingLoggerProvider(ConcurrentQueue<CapturedLog> logs, ITestOutputHelper? output) : ILoggerProvider, ISupportExternalScope
{
    // The host's scope stack (BeginScope on any logger lands here), read when an entry is written, as the console logger does.
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public ILogger CreateLogger(string categoryName) => new CapturingLogger(categoryName, logs, output, this);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose()
    {
    }

    private sealed class CapturingLogger(string category, ConcurrentQueue<CapturedLog> logs, ITestOutputHelper? output, CapturingLoggerProvider provider) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => provider._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var message = formatter(state, exception);
            var scopes = new Dictionary<string, object?>(StringComparer.Ordinal);
            provider._scopes.ForEachScope((scope, values) =>
            {
                if (scope is IEnumerable<KeyValuePair<string, object>> pairs)
                {
                    foreach (var (key, value) in pairs)
                    {
                        values[key] = value;
                    }
                }
            }, scopes);
            logs.Enqueue(new CapturedLog(logLevel, category, message, exception, scopes));
            // The portal's own lines from Information, the framework's from Warning: enough to follow a failing test.
            if (output is not null && logLevel >= (category.StartsWith("HarborPortal", StringComparison.Ordinal) ? LogLevel.Information : LogLevel.Warning))
            {
                try
                {
                    output.WriteLine($"[{logLevel}] {category}: {message}{(exception is null ? "" : "\n" + exception)}");
                }
                catch (InvalidOperationException)
                {
                    // The test has finished; a late background log line has nowhere to go.
                }
            }
        }
    }
}
