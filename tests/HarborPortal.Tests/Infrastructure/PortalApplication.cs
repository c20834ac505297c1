using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace HarborPortal.Tests.Infrastructure;

/// <summary>
/// The real portal in-process, on its own SQLite file in a fresh temp data directory. Settings go in with
/// <c>UseSetting</c> so that <c>AddHarborPortal</c> sees them while it composes the app.
/// </summary>
public sealed class PortalApplication : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings;

    public PortalApplication(IDictionary<string, string?>? settings = null)
    {
        DataDirectory = Path.Combine(Path.GetTempPath(), "harborportal-tests", Guid.NewGuid().ToString("n"));
        Directory.CreateDirectory(DataDirectory);
        _settings = new(settings ?? new Dictionary<string, string?>(), StringComparer.OrdinalIgnoreCase)
        {
            ["Portal:DataDirectory"] = DataDirectory,
        };
        _settings.TryAdd("LocalAdmin:Password", LocalAdminPassword);
    }

    public const string LocalAdminPassword = "Break-Glass-Test-Pa55word!";

    public string DataDirectory { get; }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }
    }

    /// <summary>A client that keeps cookies and does not follow redirects, so tests see each hop.</summary>
    public HttpClient CreateBrowserLikeClient() =>
        CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open by a finishing background thread: the OS temp cleaner gets it.
        }
    }
}
