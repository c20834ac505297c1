using HarborPortal.Features.Connections;
using HarborPortal.Features.Dashboard;
using HarborPortal.Features.Findings;
using HarborPortal.Features.Scanning;
using HarborPortal.Features.Teams;
using HarborPortal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace HarborPortal.Tests.Features.Dashboard;

/// <summary>
/// Findings, snapshots, artifacts and a sync run with a known history, relative to a clock that stands still: seven open
/// findings over three projects (team-a and team-b on harbor-prod, team-c on harbor-stage), resolved ones inside and
/// outside the 90-day window, a risk acceptance, snapshots with a gap, and artifacts in every coverage state.
/// </summary>
public sealed class DashboardSeed : IAsyncLifetime
{
    public const string Import = "Trivy (import)";
    public const string TeamAGroup = "team-a-devs";

    public TestClock Clock { get; } = new();

    public PortalApplication App { get; }

    public List<Finding> Findings { get; private set; } = [];

    public long ProdId { get; private set; }

    public long StageId { get; private set; }

    public long RunId { get; private set; }

    public DateOnly Today => DateOnly.FromDateTime(Clock.GetUtcNow().UtcDateTime);

    public DashboardSeed() => App = new PortalApplication(configureServices: services => services.AddSingleton<TimeProvider>(Clock));

    /// <summary>Noon (UTC) <paramref name="days"/> days ago: whole days, far from midnight.</summary>
    public DateTimeOffset DaysAgo(int days) => new DateTimeOffset(Today.ToDateTime(new TimeOnly(12, 0)), TimeSpan.Zero).AddDays(-days);

    public async Task InitializeAsync()
    {
        App.CreateClient().Dispose();
        await using var db = App.CreateDbContext();
        var prod = Connection("harbor-prod");
        var stage = Connection("harbor-stage");
        db.HarborConnections.AddRange(prod, stage);
        await db.SaveChangesAsync();
        (ProdId, StageId) = (prod.Id, stage.Id);

        db.Findings.AddRange(
            Create(1, "team-a/api", "sha256:d1", "CVE-2025-0001", Severity.Critical, FindingStatus.Open, firstSeen: 10),
            Create(2, "team-a/api", "sha256:d1", "CVE-2025-0002", Severity.High, FindingStatus.InProgress, firstSeen: 2),
            Create(3, "team-a/api", "sha256:d2", "CVE-2025-0001", Severity.Critical, FindingStatus.Open, firstSeen: 3),
            Create(4, "team-b/web", "sha256:d3", "CVE-2025-0001", Severity.Critical, FindingStatus.Open, firstSeen: 40, tool: Import),
            Create(5, "team-b/web", "sha256:d3", "CVE-2025-0003", Severity.High, FindingStatus.Open, firstSeen: 31),
            Create(6, "team-c/db", "sha256:d4", "CVE-2025-0002", Severity.Medium, FindingStatus.Open, firstSeen: 100),
            Create(7, "team-c/db", "sha256:d4", "CVE-2025-0004", Severity.Low, FindingStatus.Open, firstSeen: 5),
            Create(8, "team-a/api", "sha256:d1", "CVE-2025-0005", Severity.High, FindingStatus.Resolved, firstSeen: 12, resolved: 2),
            Create(9, "team-b/web", "sha256:d3", "CVE-2025-0006", Severity.High, FindingStatus.Resolved, firstSeen: 30, resolved: 10),
            Create(10, "team-a/api", "sha256:d2", "CVE-2025-0007", Severity.Critical, FindingStatus.Resolved, firstSeen: 8, resolved: 4),
            Create(11, "team-c/db", "sha256:d4", "CVE-2025-0008", Severity.Critical, FindingStatus.Resolved, firstSeen: 200, resolved: 100),
            Create(12, "team-a/api", "sha256:d1", "CVE-2025-0009", Severity.Medium, FindingStatus.RiskAccepted, firstSeen: 1));

        // Yesterday: 5 open in team-a, 4 in team-b; two days ago: no snapshot (a gap); three days ago: a snapshot with nothing open.
        db.FindingSnapshots.AddRange(
            Snapshot(1, ProdId, "team-a", Severity.Critical, open: 5),
            Snapshot(1, ProdId, "team-b", Severity.High, open: 4),
            Marker(1),
            Marker(3));

        db.ScannedArtifacts.AddRange(
            Artifact(ProdId, "team-a/api", "sha256:d1", "Success", scannedDaysAgo: 1),
            Artifact(ProdId, "team-a/api", "sha256:d2", "Success", scannedDaysAgo: 10),
            Artifact(ProdId, "team-b/web", "sha256:d3", "Error", scannedDaysAgo: null),
            Artifact(ProdId, "team-b/web", "sha256:d5", null, scannedDaysAgo: null),
            Artifact(StageId, "team-c/db", "sha256:d4", "Success", scannedDaysAgo: 2),
            Artifact(StageId, "team-c/db", "sha256:d6", null, scannedDaysAgo: null));

        var run = new SyncRun { ConnectionId = ProdId, Status = SyncRunStatus.Succeeded, RequestedBy = "admin", RequestedAt = DaysAgo(1), StartedAt = DaysAgo(1), FinishedAt = DaysAgo(1).AddMinutes(3) };
        db.SyncRuns.Add(run);
        db.Teams.Add(new Team { Name = "Team A", AuthentikGroup = TeamAGroup, Projects = [new TeamProject { ProjectName = "team-a" }], UpdatedAt = DaysAgo(0) });
        await db.SaveChangesAsync();
        RunId = run.Id;
        Findings = await db.Findings.AsNoTracking().OrderBy(f => f.Id).ToListAsync();
    }

    public Task DisposeAsync() => App.DisposeAsync().AsTask();

    public IEnumerable<Finding> Open => Findings.Where(f => f.Status is FindingStatus.Open or FindingStatus.InProgress);

    private HarborConnection Connection(string name) => new()
    {
        Name = name,
        BaseUrl = $"https://{name}.example.test",
        UserName = "robot$portal",
        ProtectedSecret = "unused",
        CreatedAt = DaysAgo(300),
        UpdatedAt = DaysAgo(300),
    };

    private Finding Create(int i, string repository, string digest, string vulnerability, Severity severity, FindingStatus status, int firstSeen, int? resolved = null, string tool = Finding.HarborSource)
    {
        var project = repository.Split('/')[0];
        var connection = project == "team-c" ? StageId : ProdId;
        var finding = new Finding
        {
            Identity = Finding.IdentityOf(connection, repository, digest, vulnerability, "pkg", "1.0." + i),
            ConnectionId = connection,
            ProjectName = project,
            RepositoryName = repository,
            Digest = digest,
            Tags = "v1",
            VulnerabilityId = vulnerability,
            PackageName = "pkg",
            InstalledVersion = "1.0." + i,
            Severity = severity,
            SourceTool = tool,
            Status = status,
            ResolvedReason = status == FindingStatus.Resolved ? Finding.NoLongerReported : null,
            FirstSeenAt = DaysAgo(firstSeen),
            LastSeenAt = DaysAgo(0),
            ResolvedAt = resolved is { } days ? DaysAgo(days) : null,
        };
        PriorityRules.Apply(finding, PriorityContext.For(finding, DaysAgo(0)));
        return finding;
    }

    private FindingSnapshot Snapshot(int daysAgo, long connection, string project, Severity severity, long open) => new()
    {
        Day = Today.AddDays(-daysAgo),
        ConnectionId = connection,
        ProjectName = project,
        SourceTool = Finding.HarborSource,
        Severity = severity,
        Open = open,
    };

    private FindingSnapshot Marker(int daysAgo) => new() { Day = Today.AddDays(-daysAgo), ConnectionId = 0, ProjectName = "", SourceTool = "" };

    private ScannedArtifact Artifact(long connection, string repository, string digest, string? status, int? scannedDaysAgo) => new()
    {
        ConnectionId = connection,
        ProjectName = repository.Split('/')[0],
        RepositoryName = repository,
        Digest = digest,
        Tags = "v1",
        ScanStatus = status,
        ScanCompletedAt = scannedDaysAgo is { } days ? DaysAgo(days) : null,
        LastSeenAt = DaysAgo(0),
    };
}
