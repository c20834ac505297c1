using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace HarborPortal.Data.Migrations.Sqlite;

/// <summary>Findings' history (opened, resolved, reopened, …) and the per-connection "scan unscanned artifacts" setting. Written by hand like <see cref="Initial"/>.</summary>
[DbContext(typeof(SqlitePortalDbContext))]
[Migration("20261122140000_SyncEngine")]
public sealed class SyncEngine : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.CreateTable(
            name: "FindingEvents",
            columns: table => new
            {
                Id = table.Column<long>(type: "INTEGER", nullable: false).Annotation("Sqlite:Autoincrement", true),
                FindingId = table.Column<long>(type: "INTEGER", nullable: false),
                At = table.Column<long>(type: "INTEGER", nullable: false),
                Kind = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                Reason = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                SyncRunId = table.Column<long>(type: "INTEGER", nullable: true),
                Actor = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_FindingEvents", x => x.Id);
                table.ForeignKey(
                    name: "FK_FindingEvents_Findings_FindingId",
                    column: x => x.FindingId,
                    principalTable: "Findings",
                    principalColumn: "Id",
                    onDelete: ReferentialAction.Cascade);
                table.ForeignKey(
                    name: "FK_FindingEvents_SyncRuns_SyncRunId",
                    column: x => x.SyncRunId,
                    principalTable: "SyncRuns",
                    principalColumn: "Id",
                    onDelete: ReferentialAction.SetNull);
            });

        migrationBuilder.CreateIndex("IX_FindingEvents_FindingId_At", "FindingEvents", ["FindingId", "At"]);
        migrationBuilder.CreateIndex("IX_FindingEvents_SyncRunId", "FindingEvents", "SyncRunId");

        // Findings synced before history existed start their timeline with what their row already says.
        migrationBuilder.Sql("INSERT INTO FindingEvents (FindingId, At, Kind) SELECT Id, FirstSeenAt, 'Opened' FROM Findings;");
        migrationBuilder.Sql("INSERT INTO FindingEvents (FindingId, At, Kind, Reason) SELECT Id, ResolvedAt, 'Resolved', ResolvedReason FROM Findings WHERE Status = 1 AND ResolvedAt IS NOT NULL;");

        migrationBuilder.AddColumn<bool>("ScanUnscanned", "HarborConnections", type: "INTEGER", nullable: false, defaultValue: false);
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.DropTable("FindingEvents");
        migrationBuilder.DropColumn("ScanUnscanned", "HarborConnections");
    }
}
