using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace HarborPortal.Data.Migrations.Sqlite;

/// <summary>
/// Which instance runs a sync and when it last said so, so that a run whose instance died stops blocking the next
/// sync and can be taken over. Written by hand like <see cref="Initial"/>.
/// </summary>
[DbContext(typeof(SqlitePortalDbContext))]
[Migration("20261124110000_SyncRunHeartbeat")]
public sealed class SyncRunHeartbeat : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.AddColumn<long>("HeartbeatAt", "SyncRuns", type: "INTEGER", nullable: true);
        migrationBuilder.AddColumn<string>("RunningOn", "SyncRuns", type: "TEXT", maxLength: 128, nullable: true);
        migrationBuilder.AddColumn<string>("ResumedFrom", "SyncRuns", type: "TEXT", maxLength: 128, nullable: true);
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        foreach (var column in new[] { "HeartbeatAt", "RunningOn", "ResumedFrom" })
        {
            migrationBuilder.DropColumn(column, "SyncRuns");
        }
    }
}
