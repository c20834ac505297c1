using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace HarborPortal.Data.Migrations.Sqlite;

/// <summary>
/// Registered Harbors, their secrets encrypted with Data Protection. Written by hand like <see cref="Initial"/>; the
/// test <c>Migrations_Create_The_Same_Schema_As_The_Model</c> proves it matches the model.
/// </summary>
[DbContext(typeof(SqlitePortalDbContext))]
[Migration("20261122100000_HarborConnections")]
public sealed class HarborConnections : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.CreateTable(
            name: "HarborConnections",
            columns: table => new
            {
                Id = table.Column<long>(type: "INTEGER", nullable: false).Annotation("Sqlite:Autoincrement", true),
                Name = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                BaseUrl = table.Column<string>(type: "TEXT", maxLength: 2048, nullable: false),
                Provider = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                AuthKind = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                UserName = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                RobotPrefix = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                ProtectedSecret = table.Column<string>(type: "TEXT", nullable: false),
                SecretUpdatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                AllowInsecureHttp = table.Column<bool>(type: "INTEGER", nullable: false),
                CaCertificatePem = table.Column<string>(type: "TEXT", nullable: true),
                Enabled = table.Column<bool>(type: "INTEGER", nullable: false),
                CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                UpdatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                LastVerifiedAt = table.Column<long>(type: "INTEGER", nullable: true),
                LastVerificationOk = table.Column<bool>(type: "INTEGER", nullable: true),
                LastVerificationSummary = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: true),
                LastSyncAt = table.Column<long>(type: "INTEGER", nullable: true),
            },
            constraints: table => table.PrimaryKey("PK_HarborConnections", x => x.Id));

        migrationBuilder.CreateIndex("IX_HarborConnections_Name", "HarborConnections", "Name", unique: true);
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.DropTable("HarborConnections");
    }
}
