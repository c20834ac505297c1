using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace HarborPortal.Data.Migrations.Sqlite;

/// <summary>The latest Harbor posture result per connection, check and scope. Written by hand like <see cref="Initial"/>.</summary>
[DbContext(typeof(SqlitePortalDbContext))]
[Migration("20261123030000_PostureResults")]
public sealed class PostureResults : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.CreateTable(
            name: "PostureResults",
            columns: table => new
            {
                Id = table.Column<long>(type: "INTEGER", nullable: false).Annotation("Sqlite:Autoincrement", true),
                ConnectionId = table.Column<long>(type: "INTEGER", nullable: false),
                CheckId = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                Scope = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                ProjectName = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                Outcome = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                Severity = table.Column<int>(type: "INTEGER", nullable: false),
                Evidence = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: false),
                NeededPermission = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                AssessedAt = table.Column<long>(type: "INTEGER", nullable: false),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_PostureResults", x => x.Id);
                table.ForeignKey(
                    name: "FK_PostureResults_HarborConnections_ConnectionId",
                    column: x => x.ConnectionId,
                    principalTable: "HarborConnections",
                    principalColumn: "Id",
                    onDelete: ReferentialAction.Cascade);
            });

        migrationBuilder.CreateIndex(
            name: "IX_PostureResults_ConnectionId_CheckId_Scope",
            table: "PostureResults",
            columns: ["ConnectionId", "CheckId", "Scope"],
            unique: true);
    }

    protected override void Down(MigrationBuilder migrationBuilder) => migrationBuilder.DropTable("PostureResults");
}
