using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace HarborPortal.Data.Migrations.Sqlite;

/// <summary>Findings, the artifacts the sync has seen, and sync runs. Written by hand like <see cref="Initial"/>.</summary>
[DbContext(typeof(SqlitePortalDbContext))]
[Migration("20261122120000_Findings")]
public sealed class Findings : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.CreateTable(
            name: "Findings",
            columns: table => new
            {
                Id = table.Column<long>(type: "INTEGER", nullable: false).Annotation("Sqlite:Autoincrement", true),
                Identity = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                ConnectionId = table.Column<long>(type: "INTEGER", nullable: false),
                ProjectName = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                RepositoryName = table.Column<string>(type: "TEXT", maxLength: 512, nullable: false),
                Digest = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                Tags = table.Column<string>(type: "TEXT", nullable: false),
                VulnerabilityId = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                PackageName = table.Column<string>(type: "TEXT", maxLength: 512, nullable: false),
                InstalledVersion = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                FixedVersion = table.Column<string>(type: "TEXT", maxLength: 512, nullable: false),
                Severity = table.Column<int>(type: "INTEGER", nullable: false),
                CvssScore = table.Column<double>(type: "REAL", nullable: true),
                CvssVector = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                Title = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                Description = table.Column<string>(type: "TEXT", maxLength: 4000, nullable: false),
                Links = table.Column<string>(type: "TEXT", nullable: false),
                ArtifactDigests = table.Column<string>(type: "TEXT", nullable: false),
                SourceTool = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                ScannerName = table.Column<string>(type: "TEXT", maxLength: 128, nullable: true),
                ScannerVersion = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                Status = table.Column<int>(type: "INTEGER", nullable: false),
                ResolvedReason = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                FirstSeenAt = table.Column<long>(type: "INTEGER", nullable: false),
                LastSeenAt = table.Column<long>(type: "INTEGER", nullable: false),
                ResolvedAt = table.Column<long>(type: "INTEGER", nullable: true),
                ReopenCount = table.Column<int>(type: "INTEGER", nullable: false),
            },
            constraints: table => table.PrimaryKey("PK_Findings", x => x.Id));

        migrationBuilder.CreateIndex("IX_Findings_Identity", "Findings", "Identity", unique: true);
        migrationBuilder.CreateIndex("IX_Findings_ConnectionId_Status", "Findings", ["ConnectionId", "Status"]);
        migrationBuilder.CreateIndex("IX_Findings_ConnectionId_RepositoryName_Digest", "Findings", ["ConnectionId", "RepositoryName", "Digest"]);
        migrationBuilder.CreateIndex("IX_Findings_Severity", "Findings", "Severity");

        migrationBuilder.CreateTable(
            name: "ScannedArtifacts",
            columns: table => new
            {
                Id = table.Column<long>(type: "INTEGER", nullable: false).Annotation("Sqlite:Autoincrement", true),
                ConnectionId = table.Column<long>(type: "INTEGER", nullable: false),
                ProjectName = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                RepositoryName = table.Column<string>(type: "TEXT", maxLength: 512, nullable: false),
                Digest = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                Tags = table.Column<string>(type: "TEXT", nullable: false),
                ScanStatus = table.Column<string>(type: "TEXT", maxLength: 16, nullable: true),
                ScanCompletedAt = table.Column<long>(type: "INTEGER", nullable: true),
                LastSeenAt = table.Column<long>(type: "INTEGER", nullable: false),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_ScannedArtifacts", x => x.Id);
                table.ForeignKey(
                    name: "FK_ScannedArtifacts_HarborConnections_ConnectionId",
                    column: x => x.ConnectionId,
                    principalTable: "HarborConnections",
                    principalColumn: "Id",
                    onDelete: ReferentialAction.Cascade);
            });

        migrationBuilder.CreateIndex("IX_ScannedArtifacts_ConnectionId_RepositoryName_Digest", "ScannedArtifacts", ["ConnectionId", "RepositoryName", "Digest"], unique: true);

        migrationBuilder.CreateTable(
            name: "SyncRuns",
            columns: table => new
            {
                Id = table.Column<long>(type: "INTEGER", nullable: false).Annotation("Sqlite:Autoincrement", true),
                ConnectionId = table.Column<long>(type: "INTEGER", nullable: false),
                Status = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                RequestedBy = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                RequestedAt = table.Column<long>(type: "INTEGER", nullable: false),
                StartedAt = table.Column<long>(type: "INTEGER", nullable: true),
                FinishedAt = table.Column<long>(type: "INTEGER", nullable: true),
                Projects = table.Column<int>(type: "INTEGER", nullable: false),
                Repositories = table.Column<int>(type: "INTEGER", nullable: false),
                ArtifactsSeen = table.Column<int>(type: "INTEGER", nullable: false),
                ArtifactsChanged = table.Column<int>(type: "INTEGER", nullable: false),
                ArtifactsSkipped = table.Column<int>(type: "INTEGER", nullable: false),
                ArtifactsNotScanned = table.Column<int>(type: "INTEGER", nullable: false),
                ArtifactsRemoved = table.Column<int>(type: "INTEGER", nullable: false),
                ReportsFetched = table.Column<int>(type: "INTEGER", nullable: false),
                FindingsNew = table.Column<int>(type: "INTEGER", nullable: false),
                FindingsUpdated = table.Column<int>(type: "INTEGER", nullable: false),
                FindingsResolved = table.Column<int>(type: "INTEGER", nullable: false),
                FindingsReopened = table.Column<int>(type: "INTEGER", nullable: false),
                ErrorCount = table.Column<int>(type: "INTEGER", nullable: false),
                Errors = table.Column<string>(type: "TEXT", nullable: false),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_SyncRuns", x => x.Id);
                table.ForeignKey(
                    name: "FK_SyncRuns_HarborConnections_ConnectionId",
                    column: x => x.ConnectionId,
                    principalTable: "HarborConnections",
                    principalColumn: "Id",
                    onDelete: ReferentialAction.Cascade);
            });

        migrationBuilder.CreateIndex("IX_SyncRuns_ConnectionId_Status", "SyncRuns", ["ConnectionId", "Status"]);
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.DropTable("SyncRuns");
        migrationBuilder.DropTable("ScannedArtifacts");
        migrationBuilder.DropTable("Findings");
    }
}
