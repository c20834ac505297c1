using HarborPortal.Features.Findings;
using HarborPortal.Features.Scanning;
using HarborPortal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Xunit.Abstractions;

namespace HarborPortal.Tests.Features.Scanning;

// The sync's writer has a SQLite path (a prepared statement per row) and a PostgreSQL path (set-based inserts): the same
// Harbor, synced by both, must give the same findings and history. Runs both databases whatever PORTAL_TEST_DATABASE says.
public sealed class SyncDatabaseParityTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string _postgresDatabase = "parity_" + Guid.NewGuid().ToString("n");
    private SyncHarness? _sqlite;
    private SyncHarness? _postgres;

    public async Task InitializeAsync()
    {
        _sqlite = await SyncHarness.StartAsync(output, database: new Dictionary<string, string?> { ["Database:Provider"] = "Sqlite" });
        _postgres = await SyncHarness.StartAsync(output, database: new Dictionary<string, string?>
        {
            ["Database:Provider"] = "Postgres",
            ["ConnectionStrings:Portal"] = await PostgresCluster.Shared.CreateDatabaseAsync(_postgresDatabase),
        });
    }

    public async Task DisposeAsync()
    {
        if (_sqlite is not null)
        {
            await _sqlite.DisposeAsync();
        }

        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }

        await PostgresCluster.Shared.DropDatabaseAsync(_postgresDatabase);
    }

    [Fact]
    public async Task A_Sync_Of_The_Default_Scenario_Writes_The_Same_Findings_On_PostgreSQL_As_On_SQLite()
    {
        var onSqlite = await SyncTwiceAsync(_sqlite!);
        var onPostgres = await SyncTwiceAsync(_postgres!);

        Assert.NotEmpty(onSqlite.Findings);
        Assert.Equal(onSqlite.Counts, onPostgres.Counts);
        Assert.Equal(onSqlite.Findings.Count, onPostgres.Findings.Count);
        for (var i = 0; i < onSqlite.Findings.Count; i++)
        {
            Assert.Equal(onSqlite.Findings[i], onPostgres.Findings[i]);
        }

        Assert.Equal(onSqlite.Events, onPostgres.Events);
    }

    // A first sync, Harbor rescanning one image (its findings change), and a second sync: inserts, updates, resolutions
    // and "last seen" touches all go through the writer.
    private static async Task<Outcome> SyncTwiceAsync(SyncHarness harness)
    {
        var first = await harness.SyncAsync();
        Assert.Equal(SyncRunStatus.Succeeded, first.Status);
        harness.Rescan(SyncHarness.PaymentsDigest, state =>
        {
            state.VulnerabilitySets["payments"].RemoveAt(0);
            state.VulnerabilitySets["payments"][0]["fix_version"] = "9.9.9";
        });
        var second = await harness.SyncAsync();
        Assert.Equal(SyncRunStatus.Succeeded, second.Status);

        await using var db = harness.App.CreateDbContext();
        var findings = (await db.Findings.AsNoTracking().ToListAsync()).OrderBy(f => f.Identity, StringComparer.Ordinal).ToList();
        // Dates are the writer's clock (each portal syncs at its own time): compared by which run wrote them.
        string RunOf(DateTimeOffset? at) =>
            at is not { } value ? "-"
            : value >= first.StartedAt && value <= first.FinishedAt ? "first"
            : value >= second.StartedAt && value <= second.FinishedAt ? "second"
            : $"outside the runs: {value:O}";
        var rows = findings.Select(f => new Row(
            f.Identity, f.ProjectName, f.RepositoryName, f.Digest, f.Tags, f.VulnerabilityId, f.PackageName, f.InstalledVersion, f.FixedVersion,
            f.Severity, f.CvssScore, f.Title, f.Status, f.ResolvedReason, f.Priority, f.ReopenCount, f.ProjectIsPublic, f.ImagePushedAt,
            RunOf(f.FirstSeenAt), RunOf(f.LastSeenAt), RunOf(f.ResolvedAt), f.FixAvailable)).ToList();
        var identities = findings.ToDictionary(f => f.Id, f => f.Identity);
        var events = (await db.FindingEvents.AsNoTracking().ToListAsync())
            .Select(e => $"{identities[e.FindingId]} {e.Kind} {e.Reason} {RunOf(e.At)} {(e.SyncRunId == first.Id ? "first" : e.SyncRunId == second.Id ? "second" : "-")}")
            .Order(StringComparer.Ordinal).ToList();
        var counts = $"{first.FindingsNew}/{first.FindingsResolved} then {second.FindingsNew}/{second.FindingsUpdated}/{second.FindingsResolved}/{second.FindingsReopened}";
        return new Outcome(rows, events, counts);
    }

    private sealed record Outcome(List<Row> Findings, List<string> Events, string Counts);

    private sealed record Row(
        string Identity, string Project, string Repository, string Digest, string Tags, string Vulnerability, string Package, string Installed, string Fixed,
        Severity Severity, double? Cvss, string Title, FindingStatus Status, string? ResolvedReason, Severity Priority, int ReopenCount, bool? ProjectIsPublic,
        DateTimeOffset? ImagePushedAt, string FirstSeen, string LastSeen, string Resolved, bool FixAvailable);
}
