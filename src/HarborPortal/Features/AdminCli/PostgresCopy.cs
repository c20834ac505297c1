using System.Data.Common;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using HarborPortal.Data;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using NpgsqlTypes;

namespace HarborPortal.Features.AdminCli;

/// <summary>
/// <c>admin copy-to-postgres</c>: moves a SQLite installation's rows into a PostgreSQL database, table by table in
/// foreign-key order, ids kept, in ONE PostgreSQL transaction that is committed only when every table's row count and
/// checksum equal the source's. A failed or refused run leaves the target as it was, so it can simply be run again.
/// The tables and columns come from the EF model (both providers' models describe the same tables), so a table added
/// by a later feature is copied without changes here.
/// </summary>
public sealed class PostgresCopy(TextWriter output, TextWriter error)
{
    /// <summary>Rows per binary COPY: progress is reported and memory bounded per batch.</summary>
    public const int BatchSize = 5_000;

    /// <summary>The table PG-INSTANCES' database-held Data Protection keys live in (EF's <c>DataProtectionKey</c> shape).</summary>
    public const string KeysTable = "DataProtectionKeys";

    // PostgreSQL's epoch for timestamps: Npgsql divides the ticks after it by 10 (truncating toward zero).
    private static readonly long PostgresEpochTicks = new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;

    public sealed record Request(string SqliteFile, string KeysDirectory, string TargetConnectionString, bool Replace, string Actor);

    public sealed record TableCheck(string Table, long SourceRows, long TargetRows, string SourceChecksum, string TargetChecksum)
    {
        public bool Matches => SourceRows == TargetRows && SourceChecksum == TargetChecksum;
    }

    /// <summary>Exit code as <see cref="AdminCommandLine"/>'s: 0 copied and verified, 1 refused or failed.</summary>
    public async Task<int> RunAsync(Request request, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        if (!File.Exists(request.SqliteFile))
        {
            return Fail($"there is no SQLite database at '{request.SqliteFile}'. Give --from the data directory or the .db file of the installation to move.");
        }

        // Read-only: the copy can never change the installation it reads, even by accident.
        await using var sqlite = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = request.SqliteFile,
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
        }.ToString());
        await using var source = new SqlitePortalDbContext(new DbContextOptionsBuilder<SqlitePortalDbContext>().UseSqlite(sqlite).Options);
        try
        {
            await sqlite.OpenAsync(cancellationToken);
            var known = source.Database.GetMigrations().ToList();
            var applied = (await source.Database.GetAppliedMigrationsAsync(cancellationToken)).ToList();
            var pending = known.Except(applied).ToList();
            if (pending.Count > 0)
            {
                return Fail($"the SQLite database '{request.SqliteFile}' is not fully migrated ({pending.Count} of {known.Count} migrations pending, e.g. {pending[^1]}). "
                    + "Run `admin migrate` with the old (SQLite) settings first, then copy again.");
            }

            if (applied.Except(known).ToList() is { Count: > 0 } unknown)
            {
                return Fail($"the SQLite database '{request.SqliteFile}' has migrations this version does not know ({string.Join(", ", unknown)}): copy with the portal version that wrote it.");
            }
        }
        catch (SqliteException e)
        {
            return Fail($"cannot read the SQLite database '{request.SqliteFile}': {e.Message}");
        }

        var targetBuilder = new NpgsqlConnectionStringBuilder(request.TargetConnectionString);
        var targetName = $"{targetBuilder.Host}:{targetBuilder.Port}/{targetBuilder.Database ?? targetBuilder.Username}";
        await using var target = new PostgresPortalDbContext(new DbContextOptionsBuilder<PostgresPortalDbContext>().UseNpgsql(request.TargetConnectionString).Options);
        try
        {
            var pending = (await target.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
            await target.Database.MigrateAsync(cancellationToken);
            foreach (var migration in pending)
            {
                error.WriteLine($"Applied {migration} to {targetName}");
            }
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            // Npgsql's messages name the host and the failure, never the password.
            return Fail($"cannot prepare the PostgreSQL database {targetName}: {e.Message}{(e.InnerException is { } inner ? $" ({inner.Message})" : "")}");
        }

        var tables = PlanTables(source.Model.GetRelationalModel(), target.Model.GetRelationalModel());
        try
        {
            return await CopyAndVerifyAsync(request, sqlite, target, targetName, tables, clock, cancellationToken);
        }
        catch (Exception e) when (e is NpgsqlException or SqliteException or InvalidOperationException or NotSupportedException)
        {
            // The PostgreSQL transaction was not committed: the target is as it was before the command.
            return Fail($"the copy stopped, nothing was kept in {targetName}: {e.Message}");
        }
    }

    private async Task<int> CopyAndVerifyAsync(Request request, SqliteConnection sqlite, PostgresPortalDbContext target, string targetName,
        IReadOnlyList<CopyTable> tables, Stopwatch clock, CancellationToken cancellationToken)
    {
        // The key ring is not a table on SQLite (its keys are files, copied by CopyKeysAsync below), and a PostgreSQL
        // portal started once on the target has already written a key of its own there: neither is portal data to
        // compare row for row, nor a reason to call the target occupied.
        tables = [.. tables.Where(t => t.Name != KeysTable)];

        await using var postgres = new NpgsqlConnection(request.TargetConnectionString);
        await postgres.OpenAsync(cancellationToken);
        await using var transaction = await postgres.BeginTransactionAsync(cancellationToken);

        var occupied = new List<string>();
        foreach (var table in tables)
        {
            if (await ScalarAsync<bool>(postgres, $"SELECT EXISTS (SELECT 1 FROM {Quote(table.Name)})", cancellationToken))
            {
                occupied.Add(table.Name);
            }
        }

        if (occupied.Count > 0 && !request.Replace)
        {
            return Fail($"the PostgreSQL database {targetName} already has portal rows (in {string.Join(", ", occupied)}). "
                + "Copy into an empty database, or give --replace to delete every portal row there first.");
        }

        if (occupied.Count > 0)
        {
            await ExecuteAsync(postgres, $"TRUNCATE {string.Join(", ", tables.Select(t => Quote(t.Name)))} RESTART IDENTITY", cancellationToken);
            error.WriteLine($"--replace: deleted the portal rows of {targetName} ({string.Join(", ", occupied)}).");
        }

        // The count and search-term triggers would add to the copied FindingCounts/FindingTerms a second time: those
        // tables are copied as they are (ids included) and checked against a recount below. DISABLE TRIGGER USER keeps
        // the foreign-key checks, and it is transactional: a failed copy leaves the triggers on.
        var triggered = await TablesWithTriggersAsync(postgres, tables, cancellationToken);
        foreach (var table in triggered)
        {
            await ExecuteAsync(postgres, $"ALTER TABLE {Quote(table)} DISABLE TRIGGER USER", cancellationToken);
        }

        // One read transaction on SQLite: every table from the same moment, even if the portal was not stopped.
        await using var snapshot = sqlite.BeginTransaction(deferred: true);
        var sourceChecksums = new Dictionary<string, (long Rows, string Checksum)>();
        foreach (var table in tables)
        {
            sourceChecksums[table.Name] = await CopyTableAsync(sqlite, snapshot, postgres, table, cancellationToken);
        }

        foreach (var table in triggered)
        {
            await ExecuteAsync(postgres, $"ALTER TABLE {Quote(table)} ENABLE TRIGGER USER", cancellationToken);
        }

        await ResetIdentitiesAsync(postgres, tables, cancellationToken);
        var keyNote = await CopyKeysAsync(postgres, request.KeysDirectory, cancellationToken);

        var checks = new List<TableCheck>();
        foreach (var table in tables)
        {
            var (rows, checksum) = await ChecksumAsync(postgres, null, table, TargetSide, cancellationToken);
            checks.Add(new TableCheck(table.Name, sourceChecksums[table.Name].Rows, rows, sourceChecksums[table.Name].Checksum, checksum));
        }

        var countDrift = await ScalarAsync<long>(postgres, FindingCountsRecountSql, cancellationToken);
        var missingTerms = await ScalarAsync<long>(postgres, MissingTermsSql, cancellationToken);
        PrintChecks(checks);
        output.WriteLine($"FindingCounts against a recount of Findings: {(countDrift == 0 ? "equal" : $"{countDrift} groups differ")}");
        output.WriteLine($"FindingTerms cover every finding's project, repository, vulnerability and package: {(missingTerms == 0 ? "yes" : $"no, {missingTerms} missing")}");

        if (checks.Any(c => !c.Matches) || countDrift != 0 || missingTerms != 0)
        {
            await transaction.RollbackAsync(cancellationToken);
            return Fail($"the copy does not match its source (see the table above): nothing was kept in {targetName}. "
                + (countDrift != 0 || missingTerms != 0 ? "FindingCounts/FindingTerms differ from the findings on SQLite already: tell the developers. " : "")
                + "Run the command again after fixing the cause.");
        }

        await transaction.CommitAsync(cancellationToken);

        var totalRows = checks.Sum(c => c.TargetRows);
        target.Add(new Audit.AuditEvent
        {
            At = DateTimeOffset.UtcNow,
            Action = "database.copy",
            Succeeded = true,
            Actor = request.Actor,
            Method = "cli",
            Target = targetName,
            Details = $"Copied {totalRows} rows of {checks.Count} tables from {Path.GetFileName(request.SqliteFile)}; counts and checksums equal",
        });
        await target.SaveChangesAsync(cancellationToken);

        // COPY gathers no statistics: until autovacuum got round to the new tables, the first queue pages after the switch
        // would be planned as if they were empty (sequential scans of a million findings).
        await ExecuteAsync(postgres, "ANALYZE", cancellationToken);

        output.WriteLine($"Copied and verified {totalRows:N0} rows in {checks.Count} tables to {targetName} in {clock.Elapsed.TotalSeconds:N1} s.");
        output.WriteLine(keyNote);
        output.WriteLine("Quartz's tables were not copied: the portal recreates every sync schedule from SyncSchedules at its first start on PostgreSQL (the Jobs page's run history starts afresh).");
        output.WriteLine("Next: set Database:Provider=Postgres and ConnectionStrings:Portal, start the portal and check a finding and a connection (docs/operations.md).");
        return AdminCommandLine.Ok;
    }

    private const string SourceSide = "sqlite";
    private const string TargetSide = "postgres";

    // FindingCounts' key columns, as the count triggers group them; groups whose count reached 0 may stay as rows.
    private const string CountKey = "\"ConnectionId\", \"ProjectName\", \"SourceTool\", \"Severity\", \"Priority\", \"Status\", \"FixAvailable\"";

    private const string FindingCountsRecountSql = $"""
        SELECT count(*) FROM (
            (SELECT {CountKey}, "Count" FROM "FindingCounts" WHERE "Count" <> 0
             EXCEPT SELECT {CountKey}, count(*) FROM "Findings" GROUP BY {CountKey})
            UNION ALL
            (SELECT {CountKey}, count(*) FROM "Findings" GROUP BY {CountKey}
             EXCEPT SELECT {CountKey}, "Count" FROM "FindingCounts" WHERE "Count" <> 0)
        ) AS drift
        """;

    private const string MissingTermsSql = """
        SELECT count(*) FROM (
            SELECT 1 AS kind, "ProjectName" AS value FROM "Findings" UNION SELECT 2, "RepositoryName" FROM "Findings"
            UNION SELECT 3, "VulnerabilityId" FROM "Findings" UNION SELECT 4, "PackageName" FROM "Findings"
        ) AS wanted
        WHERE NOT EXISTS (SELECT 1 FROM "FindingTerms" AS t WHERE t."Kind" = wanted.kind AND t."Value" = wanted.value)
        """;

    private async Task<(long Rows, string Checksum)> CopyTableAsync(SqliteConnection sqlite, SqliteTransaction snapshot, NpgsqlConnection postgres, CopyTable table, CancellationToken cancellationToken)
    {
        var total = await ScalarAsync<long>(sqlite, snapshot, $"SELECT count(*) FROM {Quote(table.Name)}", cancellationToken);
        var columnList = string.Join(", ", table.Columns.Select(c => Quote(c.Name)));
        var copySql = $"COPY {Quote(table.Name)} ({columnList}) FROM STDIN (FORMAT BINARY)";
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var values = new object?[table.Columns.Count];
        long copied = 0;
        var progress = total > BatchSize;

        await using var command = sqlite.CreateCommand();
        command.Transaction = snapshot;
        command.CommandText = SelectSql(table, SourceSide);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        NpgsqlBinaryImporter? importer = null;
        try
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                importer ??= await postgres.BeginBinaryImportAsync(copySql, cancellationToken);
                for (var i = 0; i < values.Length; i++)
                {
                    values[i] = table.Columns[i].ReadSource(reader, i);
                }

                AppendCanonical(hash, values);
                await importer.StartRowAsync(cancellationToken);
                for (var i = 0; i < values.Length; i++)
                {
                    await table.Columns[i].WriteTargetAsync(importer, values[i], cancellationToken);
                }

                copied++;
                if (copied % BatchSize == 0)
                {
                    await importer.CompleteAsync(cancellationToken);
                    await importer.DisposeAsync();
                    importer = null;
                    if (progress)
                    {
                        error.WriteLine($"  {table.Name}: {copied:N0} / {total:N0} rows");
                    }
                }
            }

            if (importer is not null)
            {
                await importer.CompleteAsync(cancellationToken);
            }
        }
        catch (PostgresException e)
        {
            throw new InvalidOperationException($"PostgreSQL refused a row of {table.Name} (row {copied + 1} in key order): {e.MessageText}", e);
        }
        finally
        {
            if (importer is not null)
            {
                await importer.DisposeAsync();
            }
        }

        error.WriteLine($"  {table.Name}: {copied:N0} rows copied");
        return (copied, Convert.ToHexStringLower(hash.GetHashAndReset()));
    }

    /// <summary>Row count and checksum of one table as the canonical text of its rows in primary-key order.</summary>
    private static async Task<(long Rows, string Checksum)> ChecksumAsync(DbConnection connection, DbTransaction? transaction, CopyTable table, string side, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var values = new object?[table.Columns.Count];
        long rows = 0;
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = SelectSql(table, side);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = side == SourceSide ? table.Columns[i].ReadSource(reader, i) : table.Columns[i].ReadTarget(reader, i);
            }

            AppendCanonical(hash, values);
            rows++;
        }

        return (rows, Convert.ToHexStringLower(hash.GetHashAndReset()));
    }

    /// <summary>
    /// The rows in primary-key order on both databases: text keys compared byte by byte on PostgreSQL (<c>COLLATE "C"</c>)
    /// as SQLite's BINARY collation does, whatever the cluster's locale.
    /// </summary>
    private static string SelectSql(CopyTable table, string side) =>
        $"SELECT {string.Join(", ", table.Columns.Select(c => Quote(c.Name)))} FROM {Quote(table.Name)} ORDER BY "
        + string.Join(", ", table.OrderBy.Select(c => side == TargetSide && c.IsText ? $"{Quote(c.Name)} COLLATE \"C\"" : Quote(c.Name)));

    /// <summary>
    /// One row as text: values as the model sees them (after each provider's converters), dates as UTC instants to the
    /// microsecond (PostgreSQL's precision; SQLite keeps 100 ns ticks and the original offset, neither of which the
    /// portal reads back on PostgreSQL), fields separated by tabs with tabs, newlines and backslashes escaped.
    /// </summary>
    public static void AppendCanonical(IncrementalHash hash, IReadOnlyList<object?> values)
    {
        var line = new StringBuilder();
        for (var i = 0; i < values.Count; i++)
        {
            if (i > 0)
            {
                line.Append('\t');
            }

            line.Append(Canonical(values[i]));
        }

        line.Append('\n');
        hash.AppendData(Encoding.UTF8.GetBytes(line.ToString()));
    }

    public static string Canonical(object? value) => value switch
    {
        null or DBNull => "\\N",
        string text => text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\t", "\\t", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal).Replace("\r", "\\r", StringComparison.Ordinal),
        bool flag => flag ? "t" : "f",
        DateTimeOffset at => ToPostgresPrecision(at.UtcTicks).ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture),
        DateTime at => ToPostgresPrecision(at.Ticks).ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff", CultureInfo.InvariantCulture),
        DateOnly day => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        TimeOnly time => new TimeOnly(time.Ticks - time.Ticks % 10).ToString("HH:mm:ss.ffffff", CultureInfo.InvariantCulture),
        double number => number.ToString("R", CultureInfo.InvariantCulture),
        float number => number.ToString("R", CultureInfo.InvariantCulture),
        byte[] bytes => Convert.ToHexStringLower(bytes),
        Enum member => member.ToString(),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    private static DateTime ToPostgresPrecision(long ticks) =>
        new(PostgresEpochTicks + (ticks - PostgresEpochTicks) / 10 * 10, DateTimeKind.Utc);

    private void PrintChecks(IReadOnlyList<TableCheck> checks)
    {
        string[][] rows =
        [
            ["TABLE", "SQLITE ROWS", "POSTGRES ROWS", "SQLITE SHA-256", "POSTGRES SHA-256", "RESULT"],
            .. checks.Select(c => new[]
            {
                c.Table, c.SourceRows.ToString(CultureInfo.InvariantCulture), c.TargetRows.ToString(CultureInfo.InvariantCulture),
                c.SourceChecksum[..16], c.TargetChecksum[..16], c.Matches ? "ok" : "MISMATCH",
            }),
        ];
        var widths = Enumerable.Range(0, rows[0].Length).Select(i => rows.Max(r => r[i].Length)).ToArray();
        foreach (var row in rows)
        {
            output.WriteLine(string.Join("  ", row.Select((cell, i) => cell.PadRight(widths[i]))).TrimEnd());
        }
    }

    /// <summary>
    /// The key ring: files in <c>&lt;data&gt;/keys</c> on SQLite. With keys held in the database (table
    /// <see cref="KeysTable"/>) they are copied there; otherwise the instances read them from their data directory.
    /// </summary>
    private static async Task<string> CopyKeysAsync(NpgsqlConnection postgres, string keysDirectory, CancellationToken cancellationToken)
    {
        var files = Directory.Exists(keysDirectory) ? Directory.GetFiles(keysDirectory, "key-*.xml").Order(StringComparer.Ordinal).ToList() : [];
        if (files.Count == 0)
        {
            return $"Data Protection keys: none found in {keysDirectory}. Without the old keys, the connections' stored secrets cannot be decrypted: copy from the data directory that holds them.";
        }

        var hasTable = await ScalarAsync<long>(postgres, $"""
            SELECT count(*) FROM information_schema.columns
            WHERE table_schema = current_schema() AND table_name = '{KeysTable}' AND column_name IN ('FriendlyName', 'Xml')
            """, cancellationToken) == 2;
        if (!hasTable)
        {
            return $"Data Protection keys: {files.Count} key files in {keysDirectory}. This version keeps keys in files: give every PostgreSQL instance "
                + "this keys folder (the same data directory, or a copy of keys/ in each instance's data directory), or the stored connection secrets and sessions cannot be read.";
        }

        var added = 0;
        foreach (var file in files)
        {
            await using var insert = postgres.CreateCommand();
            // The key manager stores each key under the name its file has (key-<id>), in files or in the table alike.
            insert.CommandText = $"""
                INSERT INTO "{KeysTable}" ("FriendlyName", "Xml")
                SELECT @name, @xml WHERE NOT EXISTS (SELECT 1 FROM "{KeysTable}" WHERE "FriendlyName" = @name)
                """;
            insert.Parameters.AddWithValue("name", Path.GetFileNameWithoutExtension(file));
            insert.Parameters.AddWithValue("xml", await File.ReadAllTextAsync(file, cancellationToken));
            added += await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        return $"Data Protection keys: {added} of {files.Count} key files from {keysDirectory} stored in the database table {KeysTable}.";
    }

    /// <summary>Identity sequences continue after the copied ids (next value = max + 1; 1 for an empty table).</summary>
    private static async Task ResetIdentitiesAsync(NpgsqlConnection postgres, IReadOnlyList<CopyTable> tables, CancellationToken cancellationToken)
    {
        var names = tables.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var identities = new List<(string Table, string Column)>();
        await using (var query = postgres.CreateCommand())
        {
            query.CommandText = "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() AND is_identity = 'YES'";
            await using var reader = await query.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                if (names.Contains(reader.GetString(0)))
                {
                    identities.Add((reader.GetString(0), reader.GetString(1)));
                }
            }
        }

        foreach (var (table, column) in identities)
        {
            await using var reset = postgres.CreateCommand();
            reset.CommandText = $"SELECT setval(pg_get_serial_sequence(@table, @column), (SELECT coalesce(max({Quote(column)}), 0) + 1 FROM {Quote(table)}), false)";
            reset.Parameters.AddWithValue("table", Quote(table));
            reset.Parameters.AddWithValue("column", column);
            await reset.ExecuteScalarAsync(cancellationToken);
        }
    }

    private static async Task<List<string>> TablesWithTriggersAsync(NpgsqlConnection postgres, IReadOnlyList<CopyTable> tables, CancellationToken cancellationToken)
    {
        var names = tables.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var found = new List<string>();
        await using var query = postgres.CreateCommand();
        query.CommandText = """
            SELECT DISTINCT c.relname FROM pg_trigger AS t
            JOIN pg_class AS c ON c.oid = t.tgrelid JOIN pg_namespace AS n ON n.oid = c.relnamespace
            WHERE NOT t.tgisinternal AND n.nspname = current_schema()
            """;
        await using var reader = await query.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            if (names.Contains(reader.GetString(0)))
            {
                found.Add(reader.GetString(0));
            }
        }

        return found;
    }

    /// <summary>The model's tables, principals before dependents, each with its copied columns (generated ones are left to PostgreSQL).</summary>
    public static IReadOnlyList<CopyTable> PlanTables(IRelationalModel sourceModel, IRelationalModel targetModel)
    {
        var byName = targetModel.Tables.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var ordered = new List<CopyTable>();
        var visited = new HashSet<string>(StringComparer.Ordinal);

        void Visit(ITable table)
        {
            if (!visited.Add(table.Name))
            {
                return;
            }

            foreach (var principal in table.ForeignKeyConstraints.Select(fk => fk.PrincipalTable).Where(p => p.Name != table.Name).OrderBy(p => p.Name, StringComparer.Ordinal))
            {
                Visit(principal);
            }

            var sourceTable = sourceModel.FindTable(table.Name, table.Schema)
                ?? throw new InvalidOperationException($"The SQLite model has no table {table.Name}.");
            var columns = table.Columns
                .Where(c => c.ComputedColumnSql is null)
                .Select(c => new CopyColumn(
                    c.Name,
                    ((RelationalTypeMapping)(sourceTable.FindColumn(c.Name) ?? throw new InvalidOperationException($"The SQLite model has no column {table.Name}.{c.Name}.")).PropertyMappings.First().TypeMapping),
                    c.PropertyMappings.First().TypeMapping,
                    c.StoreType))
                .ToList();
            var keyNames = table.PrimaryKey?.Columns.Select(c => c.Name).ToList() ?? columns.Select(c => c.Name).ToList();
            ordered.Add(new CopyTable(table.Name, columns, keyNames.Select(k => columns.Single(c => c.Name == k)).ToList()));
        }

        foreach (var table in byName.Values.OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            Visit(table);
        }

        return ordered;
    }

    private static string Quote(string identifier) => $"\"{identifier.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (T)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private static async Task<T> ScalarAsync<T>(SqliteConnection connection, SqliteTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return (T)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private int Fail(string message)
    {
        error.WriteLine($"error: {message}");
        return AdminCommandLine.Failed;
    }

    public sealed record CopyTable(string Name, IReadOnlyList<CopyColumn> Columns, IReadOnlyList<CopyColumn> OrderBy);

    /// <summary>
    /// One column on both sides: read with SQLite's mapping (EF's binary long for a date, 0/1 for a boolean, text for a
    /// day), turned into the model's value by its converter, then into PostgreSQL's by the other provider's.
    /// </summary>
    public sealed class CopyColumn(string name, RelationalTypeMapping source, RelationalTypeMapping target, string storeType)
    {
        private readonly NpgsqlDbType _targetType = TargetType(storeType);

        public string Name { get; } = name;

        public bool IsText { get; } = storeType.StartsWith("text", StringComparison.Ordinal) || storeType.StartsWith("character", StringComparison.Ordinal);

        public object? ReadSource(DbDataReader reader, int ordinal) => Read(reader, ordinal, source);

        public object? ReadTarget(DbDataReader reader, int ordinal) => Read(reader, ordinal, target);

        public Task WriteTargetAsync(NpgsqlBinaryImporter importer, object? modelValue, CancellationToken cancellationToken)
        {
            var value = modelValue is null ? null : target.Converter is { } converter ? converter.ConvertToProvider(modelValue) : modelValue;
            return value switch
            {
                null => importer.WriteNullAsync(cancellationToken),
                long v => importer.WriteAsync(v, _targetType, cancellationToken),
                int v => importer.WriteAsync(v, _targetType, cancellationToken),
                short v => importer.WriteAsync(v, _targetType, cancellationToken),
                bool v => importer.WriteAsync(v, _targetType, cancellationToken),
                double v => importer.WriteAsync(v, _targetType, cancellationToken),
                float v => importer.WriteAsync(v, _targetType, cancellationToken),
                decimal v => importer.WriteAsync(v, _targetType, cancellationToken),
                string v => importer.WriteAsync(v, _targetType, cancellationToken),
                byte[] v => importer.WriteAsync(v, _targetType, cancellationToken),
                DateTimeOffset v => importer.WriteAsync(v, _targetType, cancellationToken),
                DateTime v => importer.WriteAsync(v, _targetType, cancellationToken),
                DateOnly v => importer.WriteAsync(v, _targetType, cancellationToken),
                TimeOnly v => importer.WriteAsync(v, _targetType, cancellationToken),
                Guid v => importer.WriteAsync(v, _targetType, cancellationToken),
                _ => throw new NotSupportedException($"Column {Name}: values of type {value.GetType().Name} are not copied yet."),
            };
        }

        private object? Read(DbDataReader reader, int ordinal, RelationalTypeMapping mapping)
        {
            if (reader.IsDBNull(ordinal))
            {
                return null;
            }

            var providerType = mapping.Converter?.ProviderClrType ?? mapping.ClrType;
            providerType = Nullable.GetUnderlyingType(providerType) ?? providerType;
            var value = ReadAs(reader, ordinal, providerType.IsEnum ? Enum.GetUnderlyingType(providerType) : providerType);
            if (providerType.IsEnum)
            {
                value = Enum.ToObject(providerType, value);
            }

            return mapping.Converter is { } converter ? converter.ConvertFromProvider(value) : value;
        }

        private object ReadAs(DbDataReader reader, int ordinal, Type type) => type switch
        {
            _ when type == typeof(long) => reader.GetInt64(ordinal),
            _ when type == typeof(int) => reader.GetInt32(ordinal),
            _ when type == typeof(short) => reader.GetInt16(ordinal),
            _ when type == typeof(byte) => reader.GetByte(ordinal),
            _ when type == typeof(bool) => reader.GetBoolean(ordinal),
            _ when type == typeof(double) => reader.GetDouble(ordinal),
            _ when type == typeof(float) => reader.GetFloat(ordinal),
            _ when type == typeof(decimal) => reader.GetDecimal(ordinal),
            _ when type == typeof(string) => reader.GetString(ordinal),
            _ when type == typeof(byte[]) => reader.GetFieldValue<byte[]>(ordinal),
            _ when type == typeof(DateTimeOffset) => reader.GetFieldValue<DateTimeOffset>(ordinal),
            _ when type == typeof(DateTime) => reader.GetDateTime(ordinal),
            _ when type == typeof(DateOnly) => reader.GetFieldValue<DateOnly>(ordinal),
            _ when type == typeof(TimeOnly) => reader.GetFieldValue<TimeOnly>(ordinal),
            _ when type == typeof(Guid) => reader.GetGuid(ordinal),
            _ => throw new NotSupportedException($"Column {Name}: values of type {type.Name} are not copied yet."),
        };

        private static NpgsqlDbType TargetType(string storeType) => storeType switch
        {
            "bigint" => NpgsqlDbType.Bigint,
            "integer" => NpgsqlDbType.Integer,
            "smallint" => NpgsqlDbType.Smallint,
            "boolean" => NpgsqlDbType.Boolean,
            "double precision" => NpgsqlDbType.Double,
            "real" => NpgsqlDbType.Real,
            "bytea" => NpgsqlDbType.Bytea,
            "date" => NpgsqlDbType.Date,
            "time without time zone" => NpgsqlDbType.Time,
            "timestamp with time zone" => NpgsqlDbType.TimestampTz,
            "timestamp without time zone" => NpgsqlDbType.Timestamp,
            "uuid" => NpgsqlDbType.Uuid,
            "text" => NpgsqlDbType.Text,
            _ when storeType.StartsWith("character varying", StringComparison.Ordinal) => NpgsqlDbType.Varchar,
            _ when storeType.StartsWith("numeric", StringComparison.Ordinal) => NpgsqlDbType.Numeric,
            _ => throw new NotSupportedException($"The PostgreSQL column type '{storeType}' is not copied yet."),
        };
    }
}
