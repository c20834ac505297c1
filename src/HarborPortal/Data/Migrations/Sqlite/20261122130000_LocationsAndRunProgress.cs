using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace HarborPortal.Data.Migrations.Sqlite;

/// <summary>Scanned locations per connection; what started a run, its targets, progress and cancellation. Written by hand like <see cref="Initial"/>.</summary>
[DbContext(typeof(SqlitePortalDbContext))]
[Migration("20261122130000_LocationsAndRunProgress")]
public sealed class LocationsAndRunProgress : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.CreateTable(
            name: "ConnectionLocations",
            columns: table => new
            {
                ConnectionId = table.Column<long>(type: "INTEGER", nullable: false),
                SelectionJson = table.Column<string>(type: "TEXT", nullable: false),
                UpdatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                UpdatedBy = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_ConnectionLocations", x => x.ConnectionId);
                table.ForeignKey(
                    name: "FK_ConnectionLocations_HarborConnections_ConnectionId",
                    column: x => x.ConnectionId,
                    principalTable: "HarborConnections",
                    principalColumn: "Id",
                    onDelete: ReferentialAction.Cascade);
            });

        migrationBuilder.AddColumn<string>("Trigger", "SyncRuns", type: "TEXT", maxLength: 16, nullable: false, defaultValue: "Manual");
        migrationBuilder.AddColumn<string>("Targets", "SyncRuns", type: "TEXT", nullable: true);
        migrationBuilder.AddColumn<int>("ArtifactsTotal", "SyncRuns", type: "INTEGER", nullable: false, defaultValue: 0);
        migrationBuilder.AddColumn<int>("ArtifactsScanRequested", "SyncRuns", type: "INTEGER", nullable: false, defaultValue: 0);
        migrationBuilder.AddColumn<int>("ArtifactsScanFailed", "SyncRuns", type: "INTEGER", nullable: false, defaultValue: 0);
        migrationBuilder.AddColumn<long>("CancelRequestedAt", "SyncRuns", type: "INTEGER", nullable: true);
        migrationBuilder.AddColumn<string>("CancelRequestedBy", "SyncRuns", type: "TEXT", maxLength: 256, nullable: true);
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.DropTable("ConnectionLocations");
        foreach (var column in new[] { "Trigger", "Targets", "ArtifactsTotal", "ArtifactsScanRequested", "ArtifactsScanFailed", "CancelRequestedAt", "CancelRequestedBy" })
        {
            migrationBuilder.DropColumn(column, "SyncRuns");
        }
    }
}
