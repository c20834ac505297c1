using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace HarborPortal.Data.Migrations.Sqlite;

/// <summary>Triage: decisions that survive new images, the findings' triage and assignment columns, comments. Written by hand like <see cref="Initial"/>.</summary>
[DbContext(typeof(SqlitePortalDbContext))]
[Migration("20261123000000_Triage")]
public sealed class Triage : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.CreateTable(
            name: "TriageDecisions",
            columns: table => new
            {
                Id = table.Column<long>(type: "INTEGER", nullable: false).Annotation("Sqlite:Autoincrement", true),
                Scope = table.Column<int>(type: "INTEGER", nullable: false),
                ConnectionId = table.Column<long>(type: "INTEGER", nullable: false),
                ProjectName = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                RepositoryName = table.Column<string>(type: "TEXT", maxLength: 512, nullable: true),
                Digest = table.Column<string>(type: "TEXT", maxLength: 128, nullable: true),
                VulnerabilityId = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                PackageName = table.Column<string>(type: "TEXT", maxLength: 512, nullable: false),
                Status = table.Column<int>(type: "INTEGER", nullable: false),
                Justification = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: false),
                ExpiresAt = table.Column<long>(type: "INTEGER", nullable: true),
                DecidedBy = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                DecidedAt = table.Column<long>(type: "INTEGER", nullable: false),
                EndedAt = table.Column<long>(type: "INTEGER", nullable: true),
                EndedBy = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                EndedWhy = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
            },
            constraints: table => table.PrimaryKey("PK_TriageDecisions", x => x.Id));
        migrationBuilder.CreateIndex("IX_TriageDecisions_VulnerabilityId_PackageName_ConnectionId", "TriageDecisions", ["VulnerabilityId", "PackageName", "ConnectionId"]);
        migrationBuilder.CreateIndex("IX_TriageDecisions_ExpiresAt", "TriageDecisions", "ExpiresAt");

        migrationBuilder.AddColumn<long>("TriageDecisionId", "Findings", type: "INTEGER", nullable: true);
        migrationBuilder.AddColumn<long>("RiskAcceptedUntil", "Findings", type: "INTEGER", nullable: true);
        migrationBuilder.AddColumn<string>("AssignedTo", "Findings", type: "TEXT", maxLength: 256, nullable: true);
        migrationBuilder.AddColumn<long>("AssignedTeamId", "Findings", type: "INTEGER", nullable: true);
        migrationBuilder.CreateIndex("IX_Findings_TriageDecisionId", "Findings", "TriageDecisionId", filter: "\"TriageDecisionId\" IS NOT NULL");
        migrationBuilder.CreateIndex("IX_Findings_AssignedTo_Priority", "Findings", ["AssignedTo", "Priority"], filter: "\"AssignedTo\" IS NOT NULL");
        migrationBuilder.CreateIndex("IX_Findings_AssignedTeamId_Priority", "Findings", ["AssignedTeamId", "Priority"], filter: "\"AssignedTeamId\" IS NOT NULL");

        migrationBuilder.CreateTable(
            name: "FindingComments",
            columns: table => new
            {
                Id = table.Column<long>(type: "INTEGER", nullable: false).Annotation("Sqlite:Autoincrement", true),
                FindingId = table.Column<long>(type: "INTEGER", nullable: false),
                Author = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                At = table.Column<long>(type: "INTEGER", nullable: false),
                Text = table.Column<string>(type: "TEXT", maxLength: 4000, nullable: false),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_FindingComments", x => x.Id);
                table.ForeignKey(
                    name: "FK_FindingComments_Findings_FindingId",
                    column: x => x.FindingId,
                    principalTable: "Findings",
                    principalColumn: "Id",
                    onDelete: ReferentialAction.Cascade);
            });
        migrationBuilder.CreateIndex("IX_FindingComments_FindingId_At", "FindingComments", ["FindingId", "At"]);
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.DropTable("FindingComments");
        foreach (var index in new[] { "IX_Findings_TriageDecisionId", "IX_Findings_AssignedTo_Priority", "IX_Findings_AssignedTeamId_Priority" })
        {
            migrationBuilder.DropIndex(index, "Findings");
        }

        foreach (var column in new[] { "AssignedTeamId", "AssignedTo", "RiskAcceptedUntil", "TriageDecisionId" })
        {
            migrationBuilder.DropColumn(column, "Findings");
        }

        migrationBuilder.DropTable("TriageDecisions");
    }
}
