using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace HarborPortal.Data.Migrations.Sqlite;

/// <summary>
/// Accounts, sessions, API tokens, the break-glass admin and the audit log.
/// Written by hand (the EF design-time package cannot be restored here); the test
/// <c>Migrations_Create_The_Same_Schema_As_The_Model</c> proves it matches the model.
/// </summary>
[DbContext(typeof(SqlitePortalDbContext))]
[Migration("20261122000000_Initial")]
public sealed class Initial : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.CreateTable(
            name: "AuditEvents",
            columns: table => new
            {
                Id = table.Column<long>(type: "INTEGER", nullable: false).Annotation("Sqlite:Autoincrement", true),
                At = table.Column<long>(type: "INTEGER", nullable: false),
                Action = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                Succeeded = table.Column<bool>(type: "INTEGER", nullable: false),
                Actor = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                Method = table.Column<string>(type: "TEXT", maxLength: 32, nullable: true),
                IpAddress = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                Target = table.Column<string>(type: "TEXT", maxLength: 512, nullable: true),
                Details = table.Column<string>(type: "TEXT", maxLength: 2048, nullable: true),
            },
            constraints: table => table.PrimaryKey("PK_AuditEvents", x => x.Id));

        migrationBuilder.CreateTable(
            name: "LocalAdminAccounts",
            columns: table => new
            {
                Id = table.Column<long>(type: "INTEGER", nullable: false).Annotation("Sqlite:Autoincrement", true),
                UserName = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                PasswordHash = table.Column<string>(type: "TEXT", maxLength: 512, nullable: false),
                FailedAttempts = table.Column<int>(type: "INTEGER", nullable: false),
                LockedUntil = table.Column<long>(type: "INTEGER", nullable: true),
                UpdatedAt = table.Column<long>(type: "INTEGER", nullable: false),
            },
            constraints: table => table.PrimaryKey("PK_LocalAdminAccounts", x => x.Id));

        migrationBuilder.CreateTable(
            name: "UserAccounts",
            columns: table => new
            {
                Id = table.Column<long>(type: "INTEGER", nullable: false).Annotation("Sqlite:Autoincrement", true),
                Issuer = table.Column<string>(type: "TEXT", maxLength: 512, nullable: false),
                Subject = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                UserName = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                Email = table.Column<string>(type: "TEXT", maxLength: 320, nullable: true),
                DisplayName = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                Groups = table.Column<string>(type: "TEXT", nullable: false),
                Roles = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                LastSignInAt = table.Column<long>(type: "INTEGER", nullable: true),
            },
            constraints: table => table.PrimaryKey("PK_UserAccounts", x => x.Id));

        migrationBuilder.CreateTable(
            name: "ApiTokens",
            columns: table => new
            {
                Id = table.Column<long>(type: "INTEGER", nullable: false).Annotation("Sqlite:Autoincrement", true),
                UserAccountId = table.Column<long>(type: "INTEGER", nullable: false),
                Name = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                Prefix = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                TokenHash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                ExpiresAt = table.Column<long>(type: "INTEGER", nullable: false),
                RevokedAt = table.Column<long>(type: "INTEGER", nullable: true),
                LastUsedAt = table.Column<long>(type: "INTEGER", nullable: true),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_ApiTokens", x => x.Id);
                table.ForeignKey("FK_ApiTokens_UserAccounts_UserAccountId", x => x.UserAccountId, "UserAccounts", "Id", onDelete: ReferentialAction.Cascade);
            });

        migrationBuilder.CreateTable(
            name: "UserSessions",
            columns: table => new
            {
                Id = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                UserAccountId = table.Column<long>(type: "INTEGER", nullable: true),
                ProviderSessionId = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                Issuer = table.Column<string>(type: "TEXT", maxLength: 512, nullable: true),
                Subject = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                UserName = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                Method = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                Ticket = table.Column<byte[]>(type: "BLOB", nullable: false),
                CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                LastSeenAt = table.Column<long>(type: "INTEGER", nullable: false),
                ExpiresAt = table.Column<long>(type: "INTEGER", nullable: false),
                AbsoluteExpiresAt = table.Column<long>(type: "INTEGER", nullable: false),
                EndedAt = table.Column<long>(type: "INTEGER", nullable: true),
                EndedReason = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                IpAddress = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                UserAgent = table.Column<string>(type: "TEXT", maxLength: 512, nullable: true),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_UserSessions", x => x.Id);
                table.ForeignKey("FK_UserSessions_UserAccounts_UserAccountId", x => x.UserAccountId, "UserAccounts", "Id", onDelete: ReferentialAction.Cascade);
            });

        migrationBuilder.CreateIndex("IX_ApiTokens_TokenHash", "ApiTokens", "TokenHash", unique: true);
        migrationBuilder.CreateIndex("IX_ApiTokens_UserAccountId", "ApiTokens", "UserAccountId");
        migrationBuilder.CreateIndex("IX_AuditEvents_Action_At", "AuditEvents", ["Action", "At"]);
        migrationBuilder.CreateIndex("IX_AuditEvents_Actor_At", "AuditEvents", ["Actor", "At"]);
        migrationBuilder.CreateIndex("IX_AuditEvents_At", "AuditEvents", "At");
        migrationBuilder.CreateIndex("IX_LocalAdminAccounts_UserName", "LocalAdminAccounts", "UserName", unique: true);
        migrationBuilder.CreateIndex("IX_UserAccounts_Issuer_Subject", "UserAccounts", ["Issuer", "Subject"], unique: true);
        migrationBuilder.CreateIndex("IX_UserAccounts_UserName", "UserAccounts", "UserName");
        migrationBuilder.CreateIndex("IX_UserSessions_Issuer_Subject", "UserSessions", ["Issuer", "Subject"]);
        migrationBuilder.CreateIndex("IX_UserSessions_ProviderSessionId", "UserSessions", "ProviderSessionId");
        migrationBuilder.CreateIndex("IX_UserSessions_UserAccountId", "UserSessions", "UserAccountId");
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.DropTable("ApiTokens");
        migrationBuilder.DropTable("AuditEvents");
        migrationBuilder.DropTable("LocalAdminAccounts");
        migrationBuilder.DropTable("UserSessions");
        migrationBuilder.DropTable("UserAccounts");
    }
}
