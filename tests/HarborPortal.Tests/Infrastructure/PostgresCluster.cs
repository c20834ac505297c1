using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace HarborPortal.Tests.Infrastructure;

/// <summary>
/// A throwaway PostgreSQL cluster from Debian's <c>postgresql</c> package: <c>initdb</c> into a temp folder, <c>pg_ctl
/// start</c> on a free loopback port, stopped and deleted when the test process ends. One per test process, started by
/// the first test that asks; each portal gets a database of its own in it. Durability is switched off (fsync,
/// synchronous commit): these databases live for one test.
/// </summary>
public sealed class PostgresCluster
{
    private static readonly Lazy<PostgresCluster> SharedCluster = new(Start, LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly string _root;
    private readonly string _binaries;
    private readonly bool _asPostgresUser;

    private PostgresCluster(string root, string binaries, bool asPostgresUser, int port)
    {
        _root = root;
        _binaries = binaries;
        _asPostgresUser = asPostgresUser;
        Port = port;
    }

    /// <summary>The cluster of this test process (started on first use).</summary>
    public static PostgresCluster Shared => SharedCluster.Value;

    public int Port { get; }

    /// <summary>The superuser's connection string to <paramref name="database"/>.</summary>
    public string ConnectionString(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = "postgres",
        Database = database,
        // Each test's portal has its own pool; keep them small so that hundreds of databases fit in max_connections.
        MaxPoolSize = 20,
        // A dropped database's idle connections are gone: do not keep them in the pool.
        ConnectionIdleLifetime = 10,
    }.ConnectionString;

    /// <summary>A database name for a data directory: the same folder always maps to the same database (a portal restarted on its data).</summary>
    public static string DatabaseNameFor(string dataDirectory) =>
        "hp_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Path.GetFullPath(dataDirectory))))[..24];

    /// <summary>Creates the database unless it exists; returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string database)
    {
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using (var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @name", connection))
        {
            exists.Parameters.AddWithValue("name", database);
            if (await exists.ExecuteScalarAsync() is null)
            {
                await using var create = new NpgsqlCommand($"CREATE DATABASE \"{database}\"", connection);
                await create.ExecuteNonQueryAsync();
            }
        }

        return ConnectionString(database);
    }

    /// <summary>Drops the database, ending its sessions (a disposed portal's pool may still hold some).</summary>
    public async Task DropDatabaseAsync(string database)
    {
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }

    /// <summary>Everything stored in the database as pg_dump writes it (schema and data): to search for what must never be stored.</summary>
    public async Task<byte[]> DumpAsync(string database)
    {
        var start = new ProcessStartInfo(Path.Combine(_binaries, "pg_dump"), ["-h", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", "postgres", database])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("pg_dump did not start.");
        using var dump = new MemoryStream();
        var error = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.BaseStream.CopyToAsync(dump);
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"pg_dump {database} failed ({process.ExitCode}): {await error}");
        }

        return dump.ToArray();
    }

    // Throwaway test databases: durability off, room for hundreds of portals' pools.
    private static readonly string[] TestSettings =
        ["fsync=off", "synchronous_commit=off", "full_page_writes=off", "max_connections=500", "shared_buffers=128MB"];

    /// <summary>
    /// A cluster of the caller's own with its own server settings (<c>name=value</c>, as <c>postgres -c</c> takes them):
    /// the benchmarks run on one tuned like a production server. Stopped and deleted by <see cref="Stop"/> or when the
    /// process ends.
    /// </summary>
    public static PostgresCluster StartNew(IEnumerable<string> settings) => Start(settings);

    private static PostgresCluster Start() => Start(TestSettings);

    private static PostgresCluster Start(IEnumerable<string> settings)
    {
        var binaries = FindBinaries();
        // initdb and postgres refuse to run as root; Debian's package makes a postgres user for them.
        var asPostgresUser = Environment.UserName == "root";
        var root = Path.Combine(Path.GetTempPath(), "harborportal-pg", Guid.NewGuid().ToString("n"));
        Directory.CreateDirectory(root);
        if (asPostgresUser)
        {
            Run("chown", ["postgres", root], asPostgresUser: false);
        }

        var cluster = new PostgresCluster(root, binaries, asPostgresUser, FreePort.Next());
        var data = Path.Combine(root, "data");
        cluster.RunTool("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"]);
        cluster.RunTool("pg_ctl",
        [
            "-D", data, "-l", Path.Combine(root, "server.log"), "-w", "-t", "60", "start", "-o",
            $"-p {cluster.Port} -c listen_addresses=127.0.0.1 -k {root} " + string.Join(' ', settings.Select(setting => "-c " + setting)),
        ]);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => cluster.Stop();
        return cluster;
    }

    public void Stop()
    {
        if (!Directory.Exists(_root))
        {
            return;
        }

        try
        {
            RunTool("pg_ctl", ["-D", Path.Combine(_root, "data"), "-m", "immediate", "-w", "stop"]);
        }
        finally
        {
            try
            {
                Directory.Delete(_root, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private void RunTool(string tool, string[] arguments) =>
        Run(Path.Combine(_binaries, tool), arguments, _asPostgresUser);

    private static void Run(string program, string[] arguments, bool asPostgresUser)
    {
        var start = asPostgresUser
            ? new ProcessStartInfo("runuser", ["-u", "postgres", "--", program, .. arguments])
            : new ProcessStartInfo(program, arguments);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', arguments)} did not finish in 2 minutes.");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} failed ({process.ExitCode}):\n{output.Result}\n{error.Result}");
        }
    }

    /// <summary>initdb and pg_ctl: on the PATH, else Debian's versioned folder (newest first).</summary>
    private static string FindBinaries()
    {
        foreach (var folder in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var initdb = Path.Combine(folder, "initdb");
            if (File.Exists(initdb))
            {
                return Path.GetDirectoryName(new FileInfo(initdb).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? initdb)!;
            }
        }

        var debian = "/usr/lib/postgresql";
        var versioned = Directory.Exists(debian)
            ? Directory.GetDirectories(debian).Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "initdb")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0).FirstOrDefault()
            : null;
        return versioned ?? throw new InvalidOperationException(
            "PostgreSQL's initdb was not found (PATH, /usr/lib/postgresql/*/bin). Install Debian's postgresql package: build/test.sh does.");
    }
}

/// <summary>Which database the integration tests run on: <c>PORTAL_TEST_DATABASE=Postgres</c>, else SQLite.</summary>
public static class TestDatabase
{
    public static bool IsPostgres { get; } =
        string.Equals(Environment.GetEnvironmentVariable("PORTAL_TEST_DATABASE"), "Postgres", StringComparison.OrdinalIgnoreCase);
}
