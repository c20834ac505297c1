using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace HarborPortal.Data.Migrations.Postgres;

/// <summary>Which instance runs a sync and when it last said so (see the SQLite migration of the same name).</summary>
[DbContext(typeof(PostgresPortalDbContext))]
[Migration("20261124110000_SyncRunHeartbeat")]
public sealed class SyncRunHeartbeat : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.AddColumn<DateTimeOffset>("HeartbeatAt", "SyncRuns", type: "timestamp with time zone", nullable: true);
        migrationBuilder.AddColumn<string>("RunningOn", "SyncRuns", type: "character varying(128)", maxLength: 128, nullable: true);
        migrationBuilder.AddColumn<string>("ResumedFrom", "SyncRuns", type: "character varying(128)", maxLength: 128, nullable: true);
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        foreach (var column in new[] { "HeartbeatAt", "RunningOn", "ResumedFrom" })
        {
            migrationBuilder.DropColumn(column, "SyncRuns");
        }
    }
}
