using HarborPortal.Data;
using HarborPortal.Features.Findings;
using HarborPortal.Features.Scanning;
using Microsoft.EntityFrameworkCore;
using Xunit.Abstractions;

namespace HarborPortal.Tests.Features.Scanning;

/// <summary>
/// The sync's writer on its own, batch by batch, on the test run's database. On PostgreSQL it reads a batch's stored
/// findings in one query before applying it and moves "last seen" in one statement after it; these cases are the ones
/// where doing that carelessly would go wrong: an artifact named twice in one batch, and findings seen again unchanged.
/// </summary>
public sealed class SyncWriterTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Project = "library";
    private const string Repository = "library/payments";
    private const string Digest = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    private const string OtherRepository = "library/nginx";
    private const string OtherDigest = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

    private static readonly DateTimeOffset FirstRun = new(2026, 11, 20, 8, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset SecondRun = FirstRun.AddHours(6);

    private SyncHarness _harness = null!;

    public async Task InitializeAsync() => _harness = await SyncHarness.StartAsync(output);

    public async Task DisposeAsync() => await _harness.DisposeAsync();

    [Fact]
    public async Task Findings_Reported_Again_Unchanged_Move_Only_Their_Last_Seen()
    {
        await WriteAsync(FirstRun, Report(Repository, Digest, "CVE-2026-0001", "CVE-2026-0002", "CVE-2026-0003"), Report(OtherRepository, OtherDigest, "CVE-2026-0009"));

        // Only the payments image is re-reported; the nginx image's finding was not seen by this batch.
        var counts = await WriteAsync(SecondRun, Report(Repository, Digest, "CVE-2026-0001", "CVE-2026-0002", "CVE-2026-0003"));

        Assert.Equal(default, counts);
        var findings = await FindingsAsync();
        Assert.All(findings.Where(f => f.Digest == Digest), f =>
        {
            Assert.Equal(FindingStatus.Open, f.Status);
            Assert.Equal(FirstRun, f.FirstSeenAt);
            Assert.Equal(SecondRun, f.LastSeenAt);
        });
        Assert.Equal(FirstRun, Assert.Single(findings, f => f.Digest == OtherDigest).LastSeenAt);
        Assert.Equal(4, await EventCountAsync(FindingEventKind.Opened));
        Assert.Equal(4, await EventCountAsync());
    }

    [Fact]
    public async Task An_Artifact_Removed_And_Reported_Again_In_One_Batch_Is_Applied_In_That_Order()
    {
        await WriteAsync(FirstRun, Report(Repository, Digest, "CVE-2026-0001", "CVE-2026-0002"));

        var counts = await WriteAsync(SecondRun,
            new ArtifactOutcome(ArtifactOutcomeKind.Removed, Project, Repository, Digest),
            Report(Repository, Digest, "CVE-2026-0001", "CVE-2026-0002", "CVE-2026-0003"));

        // The removal resolved both; the report that follows it reopens them (they are not "unchanged") and adds the third.
        Assert.Equal(new FindingCounts(1, 0, 2, 2), counts);
        var findings = await FindingsAsync();
        Assert.Equal(3, findings.Count);
        Assert.All(findings, f => Assert.Equal(FindingStatus.Open, f.Status));
        Assert.All(findings, f => Assert.Equal(SecondRun, f.LastSeenAt));
        Assert.Equal([0, 1, 1], findings.Select(f => f.ReopenCount).Order().ToArray());
        Assert.Equal(2, await EventCountAsync(FindingEventKind.Resolved));
        Assert.Equal(2, await EventCountAsync(FindingEventKind.Reopened));
    }

    [Fact]
    public async Task Two_Reports_Of_One_Artifact_In_One_Batch_Leave_What_The_Later_One_Says()
    {
        await WriteAsync(FirstRun, Report(Repository, Digest, "CVE-2026-0001", "CVE-2026-0002"));

        // The first report adds one and keeps both; the second, newer one no longer lists the second and the third.
        var counts = await WriteAsync(SecondRun,
            Report(Repository, Digest, "CVE-2026-0001", "CVE-2026-0002", "CVE-2026-0003"),
            Report(Repository, Digest, "CVE-2026-0001"));

        Assert.Equal(new FindingCounts(1, 0, 2, 0), counts);
        var byVulnerability = (await FindingsAsync()).ToDictionary(f => f.VulnerabilityId);
        Assert.Equal(FindingStatus.Open, byVulnerability["CVE-2026-0001"].Status);
        Assert.Equal(SecondRun, byVulnerability["CVE-2026-0001"].LastSeenAt);
        Assert.Equal(FindingStatus.Resolved, byVulnerability["CVE-2026-0002"].Status);
        Assert.Equal(Finding.NoLongerReported, byVulnerability["CVE-2026-0002"].ResolvedReason);
        Assert.Equal(FindingStatus.Resolved, byVulnerability["CVE-2026-0003"].Status);
        Assert.Equal(2, await EventCountAsync(FindingEventKind.Resolved));
    }

    private ArtifactOutcome Report(string repository, string digest, params string[] vulnerabilities) =>
        new(ArtifactOutcomeKind.Report, Project, repository, digest)
        {
            Tags = "v1",
            ScanStatus = "Success",
            ScanCompletedAt = FirstRun,
            Findings = [.. vulnerabilities.Select(id => new Finding
            {
                Identity = Finding.IdentityOf(_harness.ConnectionId, repository, digest, id, "openssl", "3.0.1"),
                ConnectionId = _harness.ConnectionId,
                ProjectName = Project,
                RepositoryName = repository,
                Digest = digest,
                Tags = "v1",
                VulnerabilityId = id,
                PackageName = "openssl",
                InstalledVersion = "3.0.1",
                Severity = Severity.High,
                Priority = Severity.High,
                Title = $"{id} in openssl",
            })],
        };

    private async Task<FindingCounts> WriteAsync(DateTimeOffset at, params ArtifactOutcome[] batch)
    {
        await using var db = _harness.App.CreateDbContext();
        await db.Database.OpenConnectionAsync();
        using var writer = new SyncWriter(db.Database.GetDbConnection(), SqlDialect.For(db), _harness.ConnectionId, runId: null, new FixedTime(at));
        return writer.Write(batch);
    }

    private async Task<List<Finding>> FindingsAsync()
    {
        await using var db = _harness.App.CreateDbContext();
        return await db.Findings.AsNoTracking().OrderBy(f => f.Id).ToListAsync();
    }

    private async Task<int> EventCountAsync(string? kind = null)
    {
        await using var db = _harness.App.CreateDbContext();
        return await db.FindingEvents.CountAsync(e => kind == null || e.Kind == kind);
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
