using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace HarborPortal.Data.Migrations.Sqlite;

/// <summary>The dashboard: daily finding snapshots and two indexes on Findings. Written by hand like <see cref="Initial"/>.</summary>
[DbContext(typeof(SqlitePortalDbContext))]
[Migration("20261123040000_Dashboard")]
public sealed class Dashboard : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.CreateTable(
            name: "FindingSnapshots",
            columns: table => new
            {
                Day = table.Column<DateOnly>(type: "TEXT", nullable: false),
                ConnectionId = table.Column<long>(type: "INTEGER", nullable: false),
                ProjectName = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                SourceTool = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                Severity = table.Column<int>(type: "INTEGER", nullable: false),
                Open = table.Column<long>(type: "INTEGER", nullable: false),
                Suppressed = table.Column<long>(type: "INTEGER", nullable: false),
                Resolved = table.Column<long>(type: "INTEGER", nullable: false),
            },
            constraints: table => table.PrimaryKey("PK_FindingSnapshots", x => new { x.Day, x.ConnectionId, x.ProjectName, x.SourceTool, x.Severity }));

        migrationBuilder.CreateIndex("IX_Findings_ResolvedAt", "Findings", "ResolvedAt");
        migrationBuilder.CreateIndex("IX_Findings_Status_Severity_FirstSeenAt", "Findings", ["Status", "Severity", "FirstSeenAt"]);
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.DropIndex("IX_Findings_Status_Severity_FirstSeenAt", "Findings");
        migrationBuilder.DropIndex("IX_Findings_ResolvedAt", "Findings");
        migrationBuilder.DropTable("FindingSnapshots");
    }
}
