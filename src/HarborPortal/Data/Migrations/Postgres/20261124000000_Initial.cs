using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace HarborPortal.Data.Migrations.Postgres;

/// <summary>
/// The whole schema on PostgreSQL in one step: SQLite's thirteen migrations describe how installations grew; a
/// PostgreSQL database starts at today's model. The tables, keys and indexes are the model's own DDL, frozen in
/// <c>20261124000000_Initial.sql</c> (EF's design package, which would write them as C#, cannot be restored: ADR-001);
/// <c>MigrationTests</c> proves the result equals the model. What the model cannot describe follows it here: the
/// triggers that keep the facet counts and the searchable terms, and the trigram index that searches them.
/// </summary>
[DbContext(typeof(PostgresPortalDbContext))]
[Migration("20261124000000_Initial")]
public sealed class Initial : Migration
{
    // The columns FindingCounts groups by, in its key's order.
    private const string CountColumns = "\"ConnectionId\", \"ProjectName\", \"SourceTool\", \"Severity\", \"Priority\", \"Status\", \"FixAvailable\"";

    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.Sql(ReadSchemaScript());

        // pg_trgm is a trusted extension: the database's owner may create it, no superuser needed.
        migrationBuilder.Sql("CREATE EXTENSION IF NOT EXISTS pg_trgm;");
        // Any three characters of a name match ("ssl" finds libssl3 and openssl), case-insensitively with ILIKE.
        migrationBuilder.Sql("CREATE INDEX \"IX_FindingTerms_Value_Trigram\" ON \"FindingTerms\" USING gin (\"Value\" gin_trgm_ops);");

        // Statement-level triggers with transition tables: a sync writes thousands of findings per statement, and the
        // counts change once per statement and group, not once per row as SQLite's row triggers do.
        migrationBuilder.Sql($"""
            CREATE FUNCTION "Findings_Queue_Insert"() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO "FindingCounts"({CountColumns}, "Count")
                SELECT {CountColumns}, count(*) FROM new_rows GROUP BY {CountColumns}
                ON CONFLICT ({CountColumns}) DO UPDATE SET "Count" = "FindingCounts"."Count" + EXCLUDED."Count";
                INSERT INTO "FindingTerms"("Kind", "Value")
                SELECT 1, "ProjectName" FROM new_rows UNION SELECT 2, "RepositoryName" FROM new_rows
                UNION SELECT 3, "VulnerabilityId" FROM new_rows UNION SELECT 4, "PackageName" FROM new_rows
                ON CONFLICT ("Kind", "Value") DO NOTHING;
                RETURN NULL;
            END $$;
            """);
        migrationBuilder.Sql("""
            CREATE TRIGGER "Findings_Queue_Insert" AFTER INSERT ON "Findings"
            REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "Findings_Queue_Insert"();
            """);

        // An update moves a finding between groups only when a grouped column changed: a sync that only moves
        // LastSeenAt joins the two transition tables and writes nothing.
        migrationBuilder.Sql($"""
            CREATE FUNCTION "Findings_Queue_Update"() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE "FindingCounts" AS c SET "Count" = c."Count" - moved.n
                FROM (
                    SELECT {Prefixed("o")}, count(*) AS n
                    FROM old_rows AS o JOIN new_rows AS n ON n."Id" = o."Id"
                    WHERE ({Prefixed("o")}) IS DISTINCT FROM ({Prefixed("n")})
                    GROUP BY {Prefixed("o")}
                ) AS moved
                WHERE ({Prefixed("c")}) = ({Prefixed("moved")});
                INSERT INTO "FindingCounts"({CountColumns}, "Count")
                SELECT {Prefixed("n")}, count(*)
                FROM old_rows AS o JOIN new_rows AS n ON n."Id" = o."Id"
                WHERE ({Prefixed("o")}) IS DISTINCT FROM ({Prefixed("n")})
                GROUP BY {Prefixed("n")}
                ON CONFLICT ({CountColumns}) DO UPDATE SET "Count" = "FindingCounts"."Count" + EXCLUDED."Count";
                INSERT INTO "FindingTerms"("Kind", "Value")
                SELECT t.kind, t.value
                FROM old_rows AS o JOIN new_rows AS n ON n."Id" = o."Id"
                CROSS JOIN LATERAL (VALUES (1, n."ProjectName"), (2, n."RepositoryName"), (3, n."VulnerabilityId"), (4, n."PackageName")) AS t(kind, value)
                WHERE (o."ProjectName", o."RepositoryName", o."VulnerabilityId", o."PackageName")
                      IS DISTINCT FROM (n."ProjectName", n."RepositoryName", n."VulnerabilityId", n."PackageName")
                GROUP BY t.kind, t.value
                ON CONFLICT ("Kind", "Value") DO NOTHING;
                RETURN NULL;
            END $$;
            """);
        migrationBuilder.Sql("""
            CREATE TRIGGER "Findings_Queue_Update" AFTER UPDATE ON "Findings"
            REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "Findings_Queue_Update"();
            """);

        migrationBuilder.Sql($"""
            CREATE FUNCTION "Findings_Queue_Delete"() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE "FindingCounts" AS c SET "Count" = c."Count" - gone.n
                FROM (SELECT {CountColumns}, count(*) AS n FROM old_rows GROUP BY {CountColumns}) AS gone
                WHERE ({Prefixed("c")}) = ({Prefixed("gone")});
                RETURN NULL;
            END $$;
            """);
        migrationBuilder.Sql("""
            CREATE TRIGGER "Findings_Queue_Delete" AFTER DELETE ON "Findings"
            REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "Findings_Queue_Delete"();
            """);
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        // Below the first migration there is no portal: restore a backup (pg_dump) instead of migrating down.
        throw new NotSupportedException("The first PostgreSQL migration cannot be reverted; restore a backup taken before it instead.");
    }

    private static string Prefixed(string alias) =>
        string.Join(", ", CountColumns.Split(", ").Select(column => $"{alias}.{column}"));

    private static string ReadSchemaScript()
    {
        var assembly = typeof(Initial).Assembly;
        using var stream = assembly.GetManifestResourceStream("HarborPortal.Data.Migrations.Postgres.20261124000000_Initial.sql")
            ?? throw new InvalidOperationException("The PostgreSQL schema script is not embedded in the assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
