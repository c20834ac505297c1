using HarborPortal.Data;
using HarborPortal.Features.Connections;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace HarborPortal.Benchmarks;

/// <summary>
/// The portal's own services (AddHarborPortal) on a fresh SQLite database in a temp folder, migrated and in WAL mode
/// as at start; the host itself is never started (no Kestrel, no Quartz): benchmarks call the services directly.
/// </summary>
internal sealed class BenchmarkPortal : IAsyncDisposable
{
    private readonly WebApplication _app;

    private BenchmarkPortal(WebApplication app, string dataDirectory)
    {
        _app = app;
        DataDirectory = dataDirectory;
    }

    public string DataDirectory { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<BenchmarkPortal> StartAsync()
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "harborportal-bench", Guid.NewGuid().ToString("n"));
        Directory.CreateDirectory(dataDirectory);
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = Environments.Production, ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Portal:DataDirectory"] = dataDirectory,
            ["Connections:VerifyOnSave"] = "false",
        });
        builder.AddHarborPortal();
        builder.Logging.ClearProviders().AddSimpleConsole().SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
            await db.Database.MigrateAsync();
            if (db is not PostgresPortalDbContext)
            {
                await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;");
            }
        }

        return new BenchmarkPortal(app, dataDirectory);
    }

    /// <summary>Registers a Harbor connection as an admin would; returns its id.</summary>
    public async Task<long> AddConnectionAsync(Uri baseAddress, string userName, string secret, string? caPem)
    {
        await using var scope = Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
        var connection = new HarborConnection
        {
            Name = "benchmark",
            BaseUrl = baseAddress.ToString().TrimEnd('/'),
            UserName = userName,
            ProtectedSecret = scope.ServiceProvider.GetRequiredService<ConnectionSecrets>().Protect(secret),
            AllowInsecureHttp = baseAddress.Scheme == Uri.UriSchemeHttp,
            CaCertificatePem = caPem,
            Enabled = true,
        };
        db.HarborConnections.Add(connection);
        await db.SaveChangesAsync();
        return connection.Id;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // Left for the OS to clean.
        }
    }
}
