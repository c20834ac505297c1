using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace HarborPortal.Data.Migrations.Sqlite;

/// <summary>Harbor webhooks per connection: the secret's hash and the last delivery. Written by hand like <see cref="Initial"/>.</summary>
[DbContext(typeof(SqlitePortalDbContext))]
[Migration("20261122160000_ConnectionWebhooks")]
public sealed class ConnectionWebhooks : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.CreateTable(
            name: "ConnectionWebhooks",
            columns: table => new
            {
                ConnectionId = table.Column<long>(type: "INTEGER", nullable: false),
                SecretHash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                SecretCreatedAt = table.Column<long>(type: "INTEGER", nullable: true),
                SecretCreatedBy = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                LastReceivedAt = table.Column<long>(type: "INTEGER", nullable: true),
                LastEventType = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                LastRunId = table.Column<long>(type: "INTEGER", nullable: true),
                ReceivedCount = table.Column<long>(type: "INTEGER", nullable: false),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_ConnectionWebhooks", x => x.ConnectionId);
                table.ForeignKey(
                    name: "FK_ConnectionWebhooks_HarborConnections_ConnectionId",
                    column: x => x.ConnectionId,
                    principalTable: "HarborConnections",
                    principalColumn: "Id",
                    onDelete: ReferentialAction.Cascade);
            });
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.DropTable("ConnectionWebhooks");
    }
}
