using HarborPortal.Features.Audit;
using HarborPortal.Features.Auth;
using HarborPortal.Features.Connections;
using HarborPortal.Features.Dashboard;
using HarborPortal.Features.Findings;
using HarborPortal.Features.Keys;
using HarborPortal.Features.Locations;
using HarborPortal.Features.Posture;
using HarborPortal.Features.Scanning;
using HarborPortal.Features.Webhooks;
using HarborPortal.Features.Schedules;
using HarborPortal.Features.Teams;
using HarborPortal.Features.ThreatData;
using HarborPortal.Features.Triage;
using Microsoft.EntityFrameworkCore;

namespace HarborPortal.Data;

/// <summary>
/// The portal's one database. Features query it directly; each provider has a derived context
/// (<see cref="SqlitePortalDbContext"/>, later PostgreSQL) that owns its migrations.
/// </summary>
public abstract class PortalDbContext(DbContextOptions options) : DbContext(options)
{
    public DbSet<UserAccount> UserAccounts => Set<UserAccount>();

    public DbSet<UserSession> UserSessions => Set<UserSession>();

    public DbSet<ApiToken> ApiTokens => Set<ApiToken>();

    public DbSet<LocalAdminAccount> LocalAdminAccounts => Set<LocalAdminAccount>();

    public DbSet<AuditEvent> AuditEvents => Set<AuditEvent>();

    public DbSet<HarborConnection> HarborConnections => Set<HarborConnection>();

    public DbSet<ConnectionVerification> ConnectionVerifications => Set<ConnectionVerification>();

    public DbSet<Finding> Findings => Set<Finding>();

    public DbSet<FindingEvent> FindingEvents => Set<FindingEvent>();

    public DbSet<ScannedArtifact> ScannedArtifacts => Set<ScannedArtifact>();

    public DbSet<SyncRun> SyncRuns => Set<SyncRun>();

    public DbSet<ConnectionLocations> ConnectionLocations => Set<ConnectionLocations>();

    public DbSet<ConnectionWebhook> ConnectionWebhooks => Set<ConnectionWebhook>();
    public DbSet<SyncSchedule> SyncSchedules => Set<SyncSchedule>();
    public DbSet<FindingCount> FindingCounts => Set<FindingCount>();

    public DbSet<FindingTerm> FindingTerms => Set<FindingTerm>();

    public DbSet<Team> Teams => Set<Team>();

    public DbSet<TeamProject> TeamProjects => Set<TeamProject>();

    public DbSet<ThreatFeed> ThreatFeeds => Set<ThreatFeed>();

    public DbSet<KevEntry> KevEntries => Set<KevEntry>();

    public DbSet<EpssScore> EpssScores => Set<EpssScore>();
    public DbSet<PostureResult> PostureResults => Set<PostureResult>();
    public DbSet<FindingSnapshot> FindingSnapshots => Set<FindingSnapshot>();
    public DbSet<TriageDecision> TriageDecisions => Set<TriageDecision>();

    public DbSet<FindingComment> FindingComments => Set<FindingComment>();

    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        // Entity configurations live beside their entities, in the feature folders.
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(PortalDbContext).Assembly);
    }
}
