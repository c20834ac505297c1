using HarborPortal.Data;
using HarborPortal.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace HarborPortal.Benchmarks;

/// <summary>
/// The database a benchmark runs on: <c>--database sqlite</c> (the default: a file in a temp folder, as before) or
/// <c>--database postgres</c>, either on the server of <c>--postgres "connection string"</c> or on a throwaway cluster
/// of the benchmark's own (initdb + pg_ctl, the tests' <see cref="PostgresCluster"/>) tuned like a small production
/// server and deleted at the end.
/// </summary>
internal sealed class BenchmarkDatabase : IAsyncDisposable
{
    /// <summary>
    /// A small production server: 2 cores, a few GB for PostgreSQL. Unlike the tests' cluster, commits are flushed to
    /// disk (fsync, synchronous_commit and full_page_writes on), so the write figures are what an installation gets.
    /// </summary>
    public static readonly string[] ServerSettings =
    [
        "shared_buffers=256MB", "work_mem=16MB", "maintenance_work_mem=256MB", "effective_cache_size=1GB",
        "random_page_cost=1.1", "max_wal_size=2GB", "max_connections=100",
        "fsync=on", "synchronous_commit=on", "full_page_writes=on",
    ];

    // Printed for every PostgreSQL run, own cluster or not: a figure means little without the server it came from.
    private static readonly string[] ShownSettings =
    [
        "server_version", "shared_buffers", "work_mem", "maintenance_work_mem", "effective_cache_size", "random_page_cost", "max_wal_size",
        "fsync", "synchronous_commit", "full_page_writes", "jit", "max_parallel_workers_per_gather",
    ];

    private readonly string? _server;
    private readonly List<string> _created = [];
    private PostgresCluster? _cluster;
    private bool _settingsShown;

    private BenchmarkDatabase(DatabaseProvider provider, string? server)
    {
        Provider = provider;
        _server = server;
    }

    public DatabaseProvider Provider { get; }

    public bool IsPostgres => Provider == DatabaseProvider.Postgres;

    /// <summary>A server the user runs (<c>--postgres</c>): its database is used as it is and kept.</summary>
    public bool IsExternal => _server is not null;

    public string DisplayName => IsPostgres ? "PostgreSQL" : "SQLite";

    /// <summary>Reads <c>--database</c> and <c>--postgres</c>; a wrong value is a usage error naming the option.</summary>
    public static BenchmarkDatabase FromArgs(string[] args)
    {
        var provider = Option(args, "--database")?.Trim().ToLowerInvariant() switch
        {
            null or "sqlite" => DatabaseProvider.Sqlite,
            "postgres" or "postgresql" => DatabaseProvider.Postgres,
            var other => throw new BenchmarkUsageException($"--database '{other}' is not supported: use sqlite (the default) or postgres."),
        };
        if (Array.IndexOf(args, "--database") is var at and >= 0 && at + 1 >= args.Length)
        {
            throw new BenchmarkUsageException("--database needs a value: sqlite or postgres.");
        }

        var server = Option(args, "--postgres");
        if (Array.IndexOf(args, "--postgres") is var index and >= 0 && server is null)
        {
            throw new BenchmarkUsageException("--postgres needs a connection string, e.g. \"Host=localhost;Database=bench;Username=bench;Password=…\".");
        }

        if (server is not null)
        {
            if (provider != DatabaseProvider.Postgres)
            {
                throw new BenchmarkUsageException("--postgres is for --database postgres.");
            }

            try
            {
                if (string.IsNullOrEmpty(new NpgsqlConnectionStringBuilder(server).Database))
                {
                    throw new BenchmarkUsageException("--postgres must name a database (Database=…): the benchmark's data goes there.");
                }
            }
            catch (ArgumentException e)
            {
                // The message names the keyword at fault, never the value (it may hold a password).
                throw new BenchmarkUsageException($"--postgres is not a valid PostgreSQL connection string: {e.Message}");
            }
        }

        return new BenchmarkDatabase(provider, server);
    }

    /// <summary>
    /// A database that may hold an earlier run's data (the queue's million findings): the <c>--postgres</c> database
    /// itself, or <paramref name="name"/> in the own cluster (gone with the cluster at the end).
    /// </summary>
    public async Task<string> KeptDatabaseAsync(string name, CancellationToken cancellationToken)
    {
        if (_server is not null)
        {
            await ShowSettingsAsync(_server, cancellationToken);
            return _server;
        }

        return await CreateAsync(name, cancellationToken);
    }

    /// <summary>A new, empty database (one per repetition), dropped by <see cref="DropAsync"/> or at the end; on a
    /// <c>--postgres</c> server its user needs the CREATEDB privilege.</summary>
    public Task<string> FreshDatabaseAsync(CancellationToken cancellationToken) =>
        CreateAsync("hp_bench_" + Guid.NewGuid().ToString("n")[..12], cancellationToken);

    public async Task DropAsync(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database!;
        if (!_created.Remove(name))
        {
            return;
        }

        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(Maintenance());
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }

    /// <summary>Portal contexts on <paramref name="connectionString"/> as the portal configures them for this provider.</summary>
    public PortalContexts Contexts(string connectionString) => new(Provider, connectionString);

    public async ValueTask DisposeAsync()
    {
        foreach (var name in _created.ToList())
        {
            await DropAsync(new NpgsqlConnectionStringBuilder(Maintenance()) { Database = name }.ConnectionString);
        }

        _cluster?.Stop();
        SqliteConnection.ClearAllPools();
    }

    private async Task<string> CreateAsync(string name, CancellationToken cancellationToken)
    {
        if (_server is null && _cluster is null)
        {
            Console.WriteLine("Starting a throwaway PostgreSQL cluster (initdb + pg_ctl) with production settings …");
            _cluster = PostgresCluster.StartNew(ServerSettings);
        }

        await using (var connection = new NpgsqlConnection(Maintenance()))
        {
            await connection.OpenAsync(cancellationToken);
            await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @name", connection);
            exists.Parameters.AddWithValue("name", name);
            if (await exists.ExecuteScalarAsync(cancellationToken) is null)
            {
                await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
                await create.ExecuteNonQueryAsync(cancellationToken);
                _created.Add(name);
            }
        }

        var connectionString = new NpgsqlConnectionStringBuilder(Maintenance()) { Database = name }.ConnectionString;
        await ShowSettingsAsync(connectionString, cancellationToken);
        return connectionString;
    }

    // The own cluster's superuser on its "postgres" database, or the --postgres server as given.
    private string Maintenance() =>
        _cluster is not null ? _cluster.ConnectionString("postgres") : _server ?? throw new InvalidOperationException("No PostgreSQL server yet.");

    private async Task ShowSettingsAsync(string connectionString, CancellationToken cancellationToken)
    {
        if (_settingsShown)
        {
            return;
        }

        _settingsShown = true;
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand("SELECT name, setting, coalesce(unit, '') FROM pg_settings WHERE name = ANY(@names) ORDER BY array_position(@names, name)", connection);
        command.Parameters.AddWithValue("names", ShownSettings);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var settings = new List<string>();
        while (await reader.ReadAsync(cancellationToken))
        {
            settings.Add($"{reader.GetString(0)}={Readable(reader.GetString(1), reader.GetString(2))}");
        }

        var where = _server is null ? "own throwaway cluster" : "--postgres server";
        Console.WriteLine($"PostgreSQL ({where}{(_server is null ? ", durable: fsync/synchronous_commit/full_page_writes on" : "")}): {string.Join(", ", settings)}");
        BenchmarkResults.Note($"{where}: {string.Join(", ", settings)}");
    }

    // pg_settings counts memory in units of 8kB pages or kB; people read MB.
    private static string Readable(string setting, string unit) =>
        long.TryParse(setting, out var value) && unit is "8kB" or "kB" or "MB"
            ? unit switch { "8kB" => $"{value * 8 / 1024}MB", "kB" => value >= 1024 ? $"{value / 1024}MB" : $"{value}kB", _ => $"{value}MB" }
            : setting + unit;

    internal static string? Option(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }
}

/// <summary>Creates <see cref="PortalDbContext"/>s for one database the way the portal does (its provider's context).</summary>
internal sealed class PortalContexts : IAsyncDisposable
{
    private readonly DbContextOptions<SqlitePortalDbContext>? _sqlite;
    private readonly DbContextOptions<PostgresPortalDbContext>? _postgres;
    private readonly NpgsqlDataSource? _dataSource;

    public PortalContexts(DatabaseProvider provider, string connectionString)
    {
        ConnectionString = connectionString;
        if (provider == DatabaseProvider.Postgres)
        {
            // As AddPortalDatabase: one data source owns the pool.
            _dataSource = new NpgsqlDataSourceBuilder(connectionString).Build();
            _postgres = new DbContextOptionsBuilder<PostgresPortalDbContext>().UseNpgsql(_dataSource).Options;
        }
        else
        {
            _sqlite = new DbContextOptionsBuilder<SqlitePortalDbContext>().UseSqlite(connectionString).Options;
        }
    }

    public string ConnectionString { get; }

    public bool IsPostgres => _dataSource is not null;

    public PortalDbContext Create() => _postgres is not null ? new PostgresPortalDbContext(_postgres) : new SqlitePortalDbContext(_sqlite!);

    public async ValueTask DisposeAsync()
    {
        if (_dataSource is not null)
        {
            await _dataSource.DisposeAsync();
        }
    }
}

/// <summary>A wrong option: printed without a stack trace, exit code 2.</summary>
internal sealed class BenchmarkUsageException(string message) : Exception(message);
