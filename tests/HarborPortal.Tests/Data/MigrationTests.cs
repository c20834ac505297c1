using HarborPortal.Data;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace HarborPortal.Tests.Data;

/// <summary>
/// Migrations are written by hand here (EF's design-time package cannot be restored), so this proves they
/// build exactly the schema the model describes: tables, columns (type, nullability), indexes and keys.
/// </summary>
public sealed class MigrationTests
{
    [Fact]
    public async Task Migrations_Create_The_Same_Schema_As_The_Model()
    {
        var migrated = await DescribeSchemaAsync(db => db.Database.MigrateAsync());
        var modelled = await DescribeSchemaAsync(db => db.Database.EnsureCreatedAsync());

        Assert.Equal(modelled, migrated);
    }

    [Fact]
    public async Task Migrating_Twice_Changes_Nothing()
    {
        var path = Path.Combine(Path.GetTempPath(), $"hp-migrate-{Guid.NewGuid():n}.db");
        try
        {
            await using (var db = Create(path))
            {
                await db.Database.MigrateAsync();
            }

            await using (var db = Create(path))
            {
                Assert.Empty(await db.Database.GetPendingMigrationsAsync());
                await db.Database.MigrateAsync();
                Assert.NotEmpty(await db.Database.GetAppliedMigrationsAsync());
            }
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            File.Delete(path);
        }
    }

    private static SqlitePortalDbContext Create(string path) =>
        new(new DbContextOptionsBuilder<SqlitePortalDbContext>().UseSqlite($"Data Source={path}").Options);

    private static async Task<string> DescribeSchemaAsync(Func<SqlitePortalDbContext, Task> create)
    {
        var path = Path.Combine(Path.GetTempPath(), $"hp-schema-{Guid.NewGuid():n}.db");
        try
        {
            await using (var db = Create(path))
            {
                await create(db);
            }

            await using var connection = new SqliteConnection($"Data Source={path}");
            await connection.OpenAsync();
            var lines = new List<string>();
            var tables = await QueryAsync(connection, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '__EF%' ORDER BY name", r => r.GetString(0));
            // Full-text (FTS5) tables and their shadow tables exist only in migrations: the EF model cannot describe them.
            var virtualTables = await QueryAsync(connection, "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%'", r => r.GetString(0));
            foreach (var table in tables.Where(t => !virtualTables.Any(v => t == v || t.StartsWith(v + "_", StringComparison.Ordinal))))
            {
                lines.AddRange((await QueryAsync(connection, $"PRAGMA table_info('{table}')",
                    r => $"{table}.{r.GetString(1)} {r.GetString(2)} notnull={r.GetInt64(3)} pk={r.GetInt64(5)}")).Order());
                lines.AddRange((await QueryAsync(connection, $"PRAGMA foreign_key_list('{table}')",
                    r => $"{table} fk {r.GetString(3)} -> {r.GetString(2)}.{r.GetString(4)} on delete {r.GetString(6)}")).Order());
                foreach (var (index, unique) in await QueryAsync(connection, $"PRAGMA index_list('{table}')", r => (r.GetString(1), r.GetInt64(2))))
                {
                    var columns = await QueryAsync(connection, $"PRAGMA index_info('{index}')", r => r.GetString(2));
                    lines.Add($"{table} index {index} unique={unique} ({string.Join(",", columns)})");
                }
            }

            lines.Sort(StringComparer.Ordinal);
            return string.Join("\n", lines);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            File.Delete(path);
        }
    }

    private static async Task<List<T>> QueryAsync<T>(SqliteConnection connection, string sql, Func<SqliteDataReader, T> read)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<T>();
        while (await reader.ReadAsync())
        {
            rows.Add(read(reader));
        }

        return rows;
    }
}
