using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace HarborPortal.Data.Migrations.Sqlite;

/// <summary>Per-connection sync schedules (their Quartz triggers live in Quartz's own tables). Written by hand like <see cref="Initial"/>.</summary>
[DbContext(typeof(SqlitePortalDbContext))]
[Migration("20261122170000_SyncSchedules")]
public sealed class SyncSchedules : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.CreateTable(
            name: "SyncSchedules",
            columns: table => new
            {
                ConnectionId = table.Column<long>(type: "INTEGER", nullable: false),
                Kind = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                Minute = table.Column<int>(type: "INTEGER", nullable: true),
                TimeOfDay = table.Column<TimeOnly>(type: "TEXT", nullable: true),
                Day = table.Column<string>(type: "TEXT", maxLength: 16, nullable: true),
                Cron = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                UpdatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                UpdatedBy = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                LastFiredAt = table.Column<long>(type: "INTEGER", nullable: true),
                LastFireOutcome = table.Column<string>(type: "TEXT", maxLength: 32, nullable: true),
                LastFireRunId = table.Column<long>(type: "INTEGER", nullable: true),
                SkippedFires = table.Column<int>(type: "INTEGER", nullable: false),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_SyncSchedules", x => x.ConnectionId);
                table.ForeignKey(
                    name: "FK_SyncSchedules_HarborConnections_ConnectionId",
                    column: x => x.ConnectionId,
                    principalTable: "HarborConnections",
                    principalColumn: "Id",
                    onDelete: ReferentialAction.Cascade);
            });
    }

    protected override void Down(MigrationBuilder migrationBuilder) => migrationBuilder.DropTable("SyncSchedules");
}
