using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace HarborPortal.Data.Migrations.Sqlite;

/// <summary>Connectivity verification runs, one row per run with its steps as JSON. Written by hand like <see cref="Initial"/>.</summary>
[DbContext(typeof(SqlitePortalDbContext))]
[Migration("20261122110000_ConnectionVerifications")]
public sealed class ConnectionVerifications : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.CreateTable(
            name: "ConnectionVerifications",
            columns: table => new
            {
                Id = table.Column<long>(type: "INTEGER", nullable: false).Annotation("Sqlite:Autoincrement", true),
                ConnectionId = table.Column<long>(type: "INTEGER", nullable: false),
                Trigger = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                RequestedBy = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                Status = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                RequestedAt = table.Column<long>(type: "INTEGER", nullable: false),
                StartedAt = table.Column<long>(type: "INTEGER", nullable: true),
                FinishedAt = table.Column<long>(type: "INTEGER", nullable: true),
                Ok = table.Column<bool>(type: "INTEGER", nullable: true),
                Summary = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: true),
                StepsJson = table.Column<string>(type: "TEXT", nullable: false),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_ConnectionVerifications", x => x.Id);
                table.ForeignKey(
                    name: "FK_ConnectionVerifications_HarborConnections_ConnectionId",
                    column: x => x.ConnectionId,
                    principalTable: "HarborConnections",
                    principalColumn: "Id",
                    onDelete: ReferentialAction.Cascade);
            });

        migrationBuilder.CreateIndex("IX_ConnectionVerifications_ConnectionId", "ConnectionVerifications", "ConnectionId");
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.DropTable("ConnectionVerifications");
    }
}
