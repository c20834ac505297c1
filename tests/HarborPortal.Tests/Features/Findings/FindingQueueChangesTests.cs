using HarborPortal.Features.Findings;
using HarborPortal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Xunit.Abstractions;

namespace HarborPortal.Tests.Features.Findings;

/// <summary>The queue while the data changes under it: paging during a sync, counts kept by the triggers.</summary>
public sealed class FindingQueueChangesTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(FindingSortKey.Priority, 0)]
    [InlineData(FindingSortKey.LastSeen, 0)]
    [InlineData(FindingSortKey.FirstSeen, FindingQueue.FewRows)]
    public async Task Paging_Returns_Every_Row_Once_Even_While_Findings_Are_Inserted_Between_Pages(FindingSortKey sort, int threshold)
    {
        await using var app = new PortalApplication(output: output);
        var original = await FindingSeeds.SeedAsync(app);
        var seen = new List<long>();
        string? after = null;
        var inserted = 0;
        do
        {
            await using (var db = app.CreateDbContext())
            {
                var page = await new FindingQueue(db) { FewRowsThreshold = threshold }.PageAsync(new FindingFilter { Sort = sort }, FindingScope.Everything, after, 10);
                seen.AddRange(page.Items.Select(f => f.Id));
                after = page.NextCursor;
            }

            // A sync writes new findings, of every priority and date, between two clicks on "next".
            await using (var db = app.CreateDbContext())
            {
                db.Findings.AddRange(Enumerable.Range(0, 5).Select(i => FindingSeeds.Create(1000 + inserted + i, vulnerability: $"CVE-2025-{inserted + i:0000}")));
                await db.SaveChangesAsync();
                inserted += 5;
            }
        }
        while (after is not null);

        Assert.Equal(seen.Count, seen.Distinct().Count());
        Assert.Empty(original.Select(f => f.Id).Except(seen));
    }

    [Fact]
    public async Task Facet_Counts_Follow_Inserts_Updates_And_Deletes()
    {
        await using var app = new PortalApplication(output: output);
        await FindingSeeds.SeedAsync(app);
        await using (var db = app.CreateDbContext())
        {
            // What the sync does: resolve in bulk, change evidence, delete a connection's findings.
            await db.Findings.Where(f => f.ProjectName == "team-a" && f.Status == FindingStatus.Open)
                .ExecuteUpdateAsync(s => s.SetProperty(f => f.Status, FindingStatus.Resolved));
            var one = await db.Findings.FirstAsync(f => f.ProjectName == "team-b");
            one.Severity = Severity.Critical;
            one.Priority = Severity.Critical;
            one.FixedVersion = one.FixedVersion.Length > 0 ? "" : "9.9";
            await db.SaveChangesAsync();
            await db.Findings.Where(f => f.ConnectionId == 2).ExecuteDeleteAsync();
        }

        await using var check = app.CreateDbContext();
        var rows = await check.Findings.AsNoTracking().ToListAsync();
        var facets = await new FindingQueue(check).FacetsAsync(new FindingFilter(), FindingScope.Everything);

        Assert.Equal(rows.Count, facets.Occurrences);
        foreach (var status in Enum.GetValues<FindingStatus>())
        {
            Assert.Equal(rows.Count(f => f.Status == status), facets.Statuses.Single(v => v.Value == status.ToString()).Count);
        }

        foreach (var severity in Enum.GetValues<Severity>())
        {
            Assert.Equal(rows.Count(f => f.Severity == severity), facets.Severities.Single(v => v.Value == severity.ToString()).Count);
            Assert.Equal(rows.Count(f => f.Priority == severity), facets.Priorities.Single(v => v.Value == severity.ToString()).Count);
        }

        Assert.Equal(rows.Count(f => f.FixAvailable), facets.FixAvailable.Single(v => v.Value == "yes").Count);
        Assert.DoesNotContain(facets.Connections, v => v.Value == "2");
    }

    [Fact]
    public async Task The_Sync_Stores_The_Explained_Priority_And_Its_Inputs()
    {
        await using var app = new PortalApplication(output: output);
        await FindingSeeds.SeedAsync(app, count: 12);
        await using var db = app.CreateDbContext();

        var stored = await db.Findings.AsNoTracking().ToListAsync();

        Assert.All(stored, f => Assert.Equal(PriorityRules.Evaluate(f, PriorityContext.For(f, FindingSeeds.Now)).Priority, f.Priority));
        Assert.All(stored, f => Assert.Equal(f.FixedVersion.Length > 0, f.FixAvailable));
        Assert.All(stored, f => Assert.Equal(f.CvssScore ?? -1, f.CvssRank));
    }

    [Fact]
    public async Task The_Daily_Refresh_Moves_Priorities_That_The_Calendar_Changed()
    {
        await using var app = new PortalApplication(output: output);
        var seededFindings = await FindingSeeds.SeedAsync(app, count: 24);
        var later = FindingSeeds.Now.AddDays(200);

        await using (var db = app.CreateDbContext())
        {
            var changed = await PriorityRefreshJob.RefreshAsync(db, later, CancellationToken.None);
            Assert.True(changed > 0);
        }

        await using var check = app.CreateDbContext();
        var open = await check.Findings.AsNoTracking().Where(f => f.Status == FindingStatus.Open).ToListAsync();
        Assert.All(open, f => Assert.Equal(PriorityRules.Evaluate(f, PriorityContext.For(f, later)).Priority, f.Priority));
        var facets = await new FindingQueue(check).FacetsAsync(new FindingFilter(), FindingScope.Everything);
        Assert.Equal(await check.Findings.CountAsync(f => f.Priority == Severity.Low), facets.Priorities.Single(v => v.Value == "Low").Count);
        Assert.Equal(seededFindings.Count, facets.Occurrences);
    }

    [Fact]
    public async Task Facets_Under_A_Broad_Text_Or_Date_Filter_Are_Left_Out_Keeping_The_Selected_Choices()
    {
        await using var app = new PortalApplication(output: output);
        await FindingSeeds.SeedAsync(app, count: 12);
        await using var db = app.CreateDbContext();
        db.Findings.AddRange(Enumerable.Range(100, 20).Select(i => FindingSeeds.Create(i, vulnerability: "CVE-2024-0001")));
        await db.SaveChangesAsync();
        var queue = new FindingQueue(db) { NarrowedFacetLimit = 10 };
        var filter = FindingQueueTests.Parse("vulnerability=CVE-2024-0001&severity=High&fix=no");

        var facets = await queue.FacetsAsync(filter, FindingScope.Everything);
        var narrow = await queue.FacetsAsync(FindingQueueTests.Parse("vulnerability=CVE-2024-0002"), FindingScope.Everything);

        Assert.False(facets.Complete);
        Assert.Equal(10, facets.Occurrences);
        Assert.Equal(["High"], facets.Severities.Where(v => v.Selected).Select(v => v.Value));
        Assert.Equal("no", facets.FixAvailable.Single(v => v.Selected).Value);
        Assert.True(narrow.Complete);
        Assert.Equal(1, narrow.Occurrences);
    }
}
