using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace HarborPortal.Data.Migrations.Sqlite;

/// <summary>
/// The findings queue: priority and the computed sort/filter columns with their indexes, the facet counts and the
/// searchable terms kept by triggers, the FTS5 index over those terms, and teams. Written by hand like <see cref="Initial"/>.
/// The triggers and the FTS table are not in the EF model (it cannot describe them): this migration is their only source.
/// </summary>
[DbContext(typeof(SqlitePortalDbContext))]
[Migration("20261122180000_FindingsQueue")]
public sealed class FindingsQueue : Migration
{
    // The columns FindingCounts groups by, in its key's order.
    private const string CountColumns = "ConnectionId, ProjectName, SourceTool, Severity, Priority, Status, FixAvailable";

    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.AddColumn<int>("Priority", "Findings", type: "INTEGER", nullable: false, defaultValue: 0);
        migrationBuilder.AddColumn<bool>("ProjectIsPublic", "Findings", type: "INTEGER", nullable: true);
        migrationBuilder.AddColumn<long>("ImagePushedAt", "Findings", type: "INTEGER", nullable: true);
        // Virtual generated columns (SQLite adds only VIRTUAL ones to an existing table): computed on read, indexable.
        migrationBuilder.Sql("ALTER TABLE \"Findings\" ADD COLUMN \"FixAvailable\" INTEGER AS (\"FixedVersion\" <> '');");
        migrationBuilder.Sql("ALTER TABLE \"Findings\" ADD COLUMN \"CvssRank\" REAL AS (coalesce(\"CvssScore\", -1));");
        // Until the rules run (the sync on its next write, the daily refresh), the severity is the best priority there is.
        migrationBuilder.Sql("UPDATE \"Findings\" SET \"Priority\" = \"Severity\";");

        migrationBuilder.CreateIndex("IX_Findings_Priority", "Findings", "Priority");
        migrationBuilder.CreateIndex("IX_Findings_CvssRank", "Findings", "CvssRank");
        migrationBuilder.CreateIndex("IX_Findings_FirstSeenAt", "Findings", "FirstSeenAt");
        migrationBuilder.CreateIndex("IX_Findings_Severity_CvssRank", "Findings", ["Severity", "CvssRank"]);
        migrationBuilder.CreateIndex("IX_Findings_Priority_Severity", "Findings", ["Priority", "Severity"]);
        migrationBuilder.CreateIndex("IX_Findings_Priority_CvssRank", "Findings", ["Priority", "CvssRank"]);
        migrationBuilder.CreateIndex("IX_Findings_Status_LastSeenAt", "Findings", ["Status", "LastSeenAt"]);
        migrationBuilder.CreateIndex("IX_Findings_ProjectName_Priority", "Findings", ["ProjectName", "Priority"]);
        migrationBuilder.CreateIndex("IX_Findings_VulnerabilityId_Priority", "Findings", ["VulnerabilityId", "Priority"]);
        migrationBuilder.CreateIndex("IX_Findings_PackageName_Priority", "Findings", ["PackageName", "Priority"]);
        migrationBuilder.CreateIndex("IX_Findings_SourceTool_Priority", "Findings", ["SourceTool", "Priority"]);

        migrationBuilder.CreateTable(
            name: "FindingCounts",
            columns: table => new
            {
                ConnectionId = table.Column<long>(type: "INTEGER", nullable: false),
                ProjectName = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                SourceTool = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                Severity = table.Column<int>(type: "INTEGER", nullable: false),
                Priority = table.Column<int>(type: "INTEGER", nullable: false),
                Status = table.Column<int>(type: "INTEGER", nullable: false),
                FixAvailable = table.Column<bool>(type: "INTEGER", nullable: false),
                Count = table.Column<long>(type: "INTEGER", nullable: false),
            },
            constraints: table => table.PrimaryKey("PK_FindingCounts", x => new { x.ConnectionId, x.ProjectName, x.SourceTool, x.Severity, x.Priority, x.Status, x.FixAvailable }));

        migrationBuilder.CreateTable(
            name: "FindingTerms",
            columns: table => new
            {
                Id = table.Column<long>(type: "INTEGER", nullable: false).Annotation("Sqlite:Autoincrement", true),
                Kind = table.Column<int>(type: "INTEGER", nullable: false),
                Value = table.Column<string>(type: "TEXT", maxLength: 512, nullable: false),
            },
            constraints: table => table.PrimaryKey("PK_FindingTerms", x => x.Id));
        migrationBuilder.CreateIndex("IX_FindingTerms_Kind_Value", "FindingTerms", ["Kind", "Value"], unique: true);

        // Trigram tokens: any three characters of a name match ("ssl" finds libssl3 and openssl), case-insensitively.
        // External content: the index stores no copy of the names, FindingTerms does.
        migrationBuilder.Sql("CREATE VIRTUAL TABLE \"FindingTermsSearch\" USING fts5(\"Value\", content='FindingTerms', content_rowid='Id', tokenize='trigram');");
        migrationBuilder.Sql("""
            CREATE TRIGGER "FindingTerms_Search_Insert" AFTER INSERT ON "FindingTerms" BEGIN
                INSERT INTO "FindingTermsSearch"(rowid, "Value") VALUES (new."Id", new."Value");
            END;
            """);
        migrationBuilder.Sql("""
            CREATE TRIGGER "FindingTerms_Search_Delete" AFTER DELETE ON "FindingTerms" BEGIN
                INSERT INTO "FindingTermsSearch"("FindingTermsSearch", rowid, "Value") VALUES ('delete', old."Id", old."Value");
            END;
            """);

        // Every finding written, changed or deleted keeps FindingCounts exact and FindingTerms complete. UPDATE OF lists
        // the columns that matter, so a sync that only moves LastSeenAt fires nothing.
        migrationBuilder.Sql($"""
            CREATE TRIGGER "Findings_Queue_Insert" AFTER INSERT ON "Findings" BEGIN
                INSERT INTO "FindingCounts"({CountColumns}, "Count")
                VALUES (new.ConnectionId, new.ProjectName, new.SourceTool, new.Severity, new.Priority, new.Status, new.FixAvailable, 1)
                ON CONFLICT({CountColumns}) DO UPDATE SET "Count" = "Count" + 1;
                INSERT OR IGNORE INTO "FindingTerms"("Kind", "Value")
                VALUES (1, new.ProjectName), (2, new.RepositoryName), (3, new.VulnerabilityId), (4, new.PackageName);
            END;
            """);
        migrationBuilder.Sql($"""
            CREATE TRIGGER "Findings_Queue_Update" AFTER UPDATE OF ConnectionId, ProjectName, SourceTool, Severity, Priority, Status, FixedVersion ON "Findings" BEGIN
                UPDATE "FindingCounts" SET "Count" = "Count" - 1
                WHERE ConnectionId = old.ConnectionId AND ProjectName = old.ProjectName AND SourceTool = old.SourceTool AND Severity = old.Severity
                  AND Priority = old.Priority AND Status = old.Status AND FixAvailable = old.FixAvailable;
                INSERT INTO "FindingCounts"({CountColumns}, "Count")
                VALUES (new.ConnectionId, new.ProjectName, new.SourceTool, new.Severity, new.Priority, new.Status, new.FixAvailable, 1)
                ON CONFLICT({CountColumns}) DO UPDATE SET "Count" = "Count" + 1;
            END;
            """);
        migrationBuilder.Sql("""
            CREATE TRIGGER "Findings_Queue_Update_Terms" AFTER UPDATE OF ProjectName, RepositoryName, VulnerabilityId, PackageName ON "Findings" BEGIN
                INSERT OR IGNORE INTO "FindingTerms"("Kind", "Value")
                VALUES (1, new.ProjectName), (2, new.RepositoryName), (3, new.VulnerabilityId), (4, new.PackageName);
            END;
            """);
        migrationBuilder.Sql("""
            CREATE TRIGGER "Findings_Queue_Delete" AFTER DELETE ON "Findings" BEGIN
                UPDATE "FindingCounts" SET "Count" = "Count" - 1
                WHERE ConnectionId = old.ConnectionId AND ProjectName = old.ProjectName AND SourceTool = old.SourceTool AND Severity = old.Severity
                  AND Priority = old.Priority AND Status = old.Status AND FixAvailable = old.FixAvailable;
            END;
            """);

        // Findings synced before this migration.
        migrationBuilder.Sql($"""
            INSERT INTO "FindingCounts"({CountColumns}, "Count")
            SELECT {CountColumns}, count(*) FROM "Findings" GROUP BY {CountColumns};
            """);
        migrationBuilder.Sql("""
            INSERT OR IGNORE INTO "FindingTerms"("Kind", "Value")
            SELECT 1, ProjectName FROM "Findings" UNION SELECT 2, RepositoryName FROM "Findings"
            UNION SELECT 3, VulnerabilityId FROM "Findings" UNION SELECT 4, PackageName FROM "Findings";
            """);

        migrationBuilder.CreateTable(
            name: "Teams",
            columns: table => new
            {
                Id = table.Column<long>(type: "INTEGER", nullable: false).Annotation("Sqlite:Autoincrement", true),
                Name = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                AuthentikGroup = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                UpdatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                UpdatedBy = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
            },
            constraints: table => table.PrimaryKey("PK_Teams", x => x.Id));
        migrationBuilder.CreateIndex("IX_Teams_Name", "Teams", "Name", unique: true);
        migrationBuilder.CreateIndex("IX_Teams_AuthentikGroup", "Teams", "AuthentikGroup");

        migrationBuilder.CreateTable(
            name: "TeamProjects",
            columns: table => new
            {
                TeamId = table.Column<long>(type: "INTEGER", nullable: false),
                ProjectName = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_TeamProjects", x => new { x.TeamId, x.ProjectName });
                table.ForeignKey(
                    name: "FK_TeamProjects_Teams_TeamId",
                    column: x => x.TeamId,
                    principalTable: "Teams",
                    principalColumn: "Id",
                    onDelete: ReferentialAction.Cascade);
            });
        migrationBuilder.CreateIndex("IX_TeamProjects_ProjectName", "TeamProjects", "ProjectName");
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        foreach (var trigger in new[] { "Findings_Queue_Insert", "Findings_Queue_Update", "Findings_Queue_Update_Terms", "Findings_Queue_Delete", "FindingTerms_Search_Insert", "FindingTerms_Search_Delete" })
        {
            migrationBuilder.Sql($"DROP TRIGGER IF EXISTS \"{trigger}\";");
        }

        migrationBuilder.Sql("DROP TABLE IF EXISTS \"FindingTermsSearch\";");
        migrationBuilder.DropTable("TeamProjects");
        migrationBuilder.DropTable("Teams");
        migrationBuilder.DropTable("FindingTerms");
        migrationBuilder.DropTable("FindingCounts");
        foreach (var index in new[]
        {
            "IX_Findings_Priority", "IX_Findings_CvssRank", "IX_Findings_FirstSeenAt", "IX_Findings_Severity_CvssRank", "IX_Findings_Priority_Severity", "IX_Findings_Priority_CvssRank", "IX_Findings_Status_LastSeenAt",
            "IX_Findings_ProjectName_Priority", "IX_Findings_VulnerabilityId_Priority",
            "IX_Findings_PackageName_Priority", "IX_Findings_SourceTool_Priority",
        })
        {
            migrationBuilder.DropIndex(index, "Findings");
        }

        foreach (var column in new[] { "CvssRank", "FixAvailable", "ImagePushedAt", "ProjectIsPublic", "Priority" })
        {
            migrationBuilder.DropColumn(column, "Findings");
        }
    }
}
