using HarborPortal.Data;
using HarborPortal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace HarborPortal.Tests.Data;

/// <summary>
/// PostgreSQL's migrations are written by hand too (ADR-001): the migrated schema must equal the one EF makes straight
/// from the model — tables, columns (type, nullability, generated), keys, foreign keys and indexes (with their filters).
/// Runs on the throwaway cluster whatever database the rest of the suite uses.
/// </summary>
public sealed class PostgresMigrationTests
{
    [Fact]
    public async Task Migrations_Create_The_Same_Schema_As_The_Model()
    {
        var migrated = await DescribeSchemaAsync(db => db.Database.MigrateAsync());
        var modelled = await DescribeSchemaAsync(db => db.Database.EnsureCreatedAsync());

        Assert.Equal(modelled, migrated);
    }

    [Fact]
    public async Task Migrating_Twice_Changes_Nothing_And_Keeps_The_Search_Index_And_Triggers()
    {
        var database = "hp_migrate_" + Guid.NewGuid().ToString("n")[..12];
        var connectionString = await PostgresCluster.Shared.CreateDatabaseAsync(database);
        try
        {
            await using (var db = Create(connectionString))
            {
                await db.Database.MigrateAsync();
            }

            await using (var db = Create(connectionString))
            {
                Assert.Empty(await db.Database.GetPendingMigrationsAsync());
                await db.Database.MigrateAsync();
            }

            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            var triggers = await QueryAsync(connection, "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY tgname", r => r.GetString(0));
            Assert.Equal(["Findings_Queue_Delete", "Findings_Queue_Insert", "Findings_Queue_Update"], triggers);
            var trigram = await QueryAsync(connection, "SELECT indexdef FROM pg_indexes WHERE indexname = 'IX_FindingTerms_Value_Trigram'", r => r.GetString(0));
            Assert.Contains("gin_trgm_ops", Assert.Single(trigram));
        }
        finally
        {
            await PostgresCluster.Shared.DropDatabaseAsync(database);
        }
    }

    private static PostgresPortalDbContext Create(string connectionString) =>
        new(new DbContextOptionsBuilder<PostgresPortalDbContext>().UseNpgsql(connectionString).Options);

    private static async Task<string> DescribeSchemaAsync(Func<PostgresPortalDbContext, Task> create)
    {
        var database = "hp_schema_" + Guid.NewGuid().ToString("n")[..12];
        var connectionString = await PostgresCluster.Shared.CreateDatabaseAsync(database);
        try
        {
            await using (var db = Create(connectionString))
            {
                await create(db);
            }

            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            var lines = new List<string>();
            lines.AddRange(await QueryAsync(connection,
                """
                SELECT table_name || '.' || column_name || ' ' || data_type || coalesce('(' || character_maximum_length || ')', '')
                       || ' nullable=' || is_nullable || ' generated=' || coalesce(generation_expression, '-') || ' identity=' || is_identity
                FROM information_schema.columns WHERE table_schema = 'public' AND table_name NOT LIKE '\_\_EF%'
                """, r => r.GetString(0)));
            lines.AddRange(await QueryAsync(connection,
                """
                SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
                FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text NOT LIKE '"\_\_EF%'
                """, r => r.GetString(0)));
            // The trigram index exists only in the migration: the EF model cannot describe a GIN operator class.
            lines.AddRange(await QueryAsync(connection,
                """
                SELECT indexdef FROM pg_indexes
                WHERE schemaname = 'public' AND tablename NOT LIKE '\_\_EF%' AND indexname <> 'IX_FindingTerms_Value_Trigram'
                """, r => r.GetString(0)));
            lines.Sort(StringComparer.Ordinal);
            return string.Join("\n", lines);
        }
        finally
        {
            await PostgresCluster.Shared.DropDatabaseAsync(database);
        }
    }

    private static async Task<List<T>> QueryAsync<T>(NpgsqlConnection connection, string sql, Func<NpgsqlDataReader, T> read)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<T>();
        while (await reader.ReadAsync())
        {
            rows.Add(read(reader));
        }

        return rows;
    }
}
