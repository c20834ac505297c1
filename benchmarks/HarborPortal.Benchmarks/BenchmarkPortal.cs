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
/// as at start (or on a fresh PostgreSQL database, <see cref="BenchmarkDatabase"/>); the host itself is never started (no Kestrel, no Quartz): benchmarks call the services directly.
/// </summary>
internal sealed class BenchmarkPortal : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly BenchmarkDatabase? _database;
    private readonly string? _postgres;

    private BenchmarkPortal(WebApplication app, string dataDirectory, BenchmarkDatabase? database, string? postgres)
    {
        _app = app;
        DataDirectory = dataDirectory;
        _database = database;
        _postgres = postgres;
    }

    public string DataDirectory { get; }

    public IServiceProvider Services => _app.Services;

    /// <param name="database">PostgreSQL: a fresh database of its own (dropped on dispose); else SQLite as before.</param>
    public static async Task<BenchmarkPortal> StartAsync(BenchmarkDatabase? database = null)
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "harborportal-bench", Guid.NewGuid().ToString("n"));
        Directory.CreateDirectory(dataDirectory);
        var postgres = database is { IsPostgres: true } ? await database.FreshDatabaseAsync(CancellationToken.None) : null;
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = Environments.Production, ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Portal:DataDirectory"] = dataDirectory,
            ["Connections:VerifyOnSave"] = "false",
        });
        if (postgres is not null)
        {
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Database:Provider"] = "Postgres",
                ["ConnectionStrings:Portal"] = postgres,
            });
        }

        builder.AddHarborPortal();
        builder.Logging.ClearProviders().AddSimpleConsole().SetMinimumLevel(LogLevel.Warning);
        if (postgres is not null)
        {
            // EF logs as an error its look for the migrations table of a new database, which is not there yet by design.
            builder.Logging.AddFilter("Microsoft.EntityFrameworkCore.Database.Command", LogLevel.None);
        }

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

        return new BenchmarkPortal(app, dataDirectory, database, postgres);
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
        if (_postgres is not null)
        {
            await _database!.DropAsync(_postgres);
        }

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
