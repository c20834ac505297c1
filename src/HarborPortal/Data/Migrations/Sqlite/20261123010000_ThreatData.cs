using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace HarborPortal.Data.Migrations.Sqlite;

/// <summary>CISA KEV and EPSS: each feed's settings and state, and their entries. Written by hand like <see cref="Initial"/>.</summary>
[DbContext(typeof(SqlitePortalDbContext))]
[Migration("20261123010000_ThreatData")]
public sealed class ThreatDataFeeds : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.CreateTable(
            name: "ThreatFeeds",
            columns: table => new
            {
                Kind = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                Enabled = table.Column<bool>(type: "INTEGER", nullable: false),
                Url = table.Column<string>(type: "TEXT", maxLength: 2048, nullable: true),
                Source = table.Column<string>(type: "TEXT", maxLength: 2048, nullable: true),
                DataDate = table.Column<long>(type: "INTEGER", nullable: true),
                DataVersion = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                FetchedAt = table.Column<long>(type: "INTEGER", nullable: true),
                EntryCount = table.Column<int>(type: "INTEGER", nullable: false),
                LastAttemptAt = table.Column<long>(type: "INTEGER", nullable: true),
                LastError = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: true),
                FetchRequestedAt = table.Column<long>(type: "INTEGER", nullable: true),
                UpdatedAt = table.Column<long>(type: "INTEGER", nullable: true),
                UpdatedBy = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
            },
            constraints: table => table.PrimaryKey("PK_ThreatFeeds", x => x.Kind));

        migrationBuilder.CreateTable(
            name: "KevEntries",
            columns: table => new
            {
                CveId = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                VendorProject = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                Product = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                Name = table.Column<string>(type: "TEXT", maxLength: 512, nullable: false),
                DateAdded = table.Column<DateOnly>(type: "TEXT", nullable: false),
                ShortDescription = table.Column<string>(type: "TEXT", maxLength: 4096, nullable: false),
                RequiredAction = table.Column<string>(type: "TEXT", maxLength: 2048, nullable: false),
                DueDate = table.Column<DateOnly>(type: "TEXT", nullable: true),
                RansomwareUse = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
            },
            constraints: table => table.PrimaryKey("PK_KevEntries", x => x.CveId));

        migrationBuilder.CreateTable(
            name: "EpssScores",
            columns: table => new
            {
                CveId = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                Probability = table.Column<double>(type: "REAL", nullable: false),
                Percentile = table.Column<double>(type: "REAL", nullable: false),
            },
            constraints: table => table.PrimaryKey("PK_EpssScores", x => x.CveId));
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.DropTable("EpssScores");
        migrationBuilder.DropTable("KevEntries");
        migrationBuilder.DropTable("ThreatFeeds");
    }
}
