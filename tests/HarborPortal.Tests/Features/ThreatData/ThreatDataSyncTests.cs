using HarborPortal.Features.Findings;
using HarborPortal.Features.ThreatData;
using HarborPortal.Tests.Features.Scanning;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace HarborPortal.Tests.Features.ThreatData;

public sealed class ThreatDataSyncTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Listed = "CVE-2024-0727";

    private SyncHarness _harness = null!;

    public async Task InitializeAsync() => _harness = await SyncHarness.StartAsync(output);

    public async Task DisposeAsync() => await _harness.DisposeAsync();

    [Fact]
    public async Task A_Sync_Makes_The_Findings_Of_A_Known_Exploited_Cve_Critical_When_Kev_Is_Enabled()
    {
        await using (var scope = _harness.App.Services.CreateAsyncScope())
        {
            await using var file = File.OpenRead(FeedServer.Fixture("kev_test_openssl.json"));
            var result = await scope.ServiceProvider.GetRequiredService<ThreatFeedImporter>().UploadAsync(ThreatFeedKind.Kev, file, "kev.json", CancellationToken.None);
            Assert.True(result.Succeeded, result.Message);
        }

        await using (var db = _harness.App.CreateDbContext())
        {
            await db.ThreatFeeds.ExecuteUpdateAsync(s => s.SetProperty(f => f.Enabled, true));
        }

        var run = await _harness.SyncAsync();

        Assert.Empty(run.ErrorList);
        var now = DateTimeOffset.UtcNow;
        await using var check = _harness.App.CreateDbContext();
        var findings = await check.Findings.AsNoTracking().OrderBy(f => f.Id).ToListAsync();
        var listed = findings.Where(f => f.VulnerabilityId == Listed).ToList();
        Assert.NotEmpty(listed);
        Assert.All(listed, f => Assert.Equal(Severity.Critical, f.Priority));
        // Without KEV the same evidence gives less: the sync's own evaluation read the catalog.
        Assert.Contains(listed, f => PriorityRules.Evaluate(f, PriorityContext.For(f, now)).Priority != Severity.Critical);
        Assert.All(findings.Where(f => f.VulnerabilityId != Listed), f => Assert.Equal(PriorityRules.Evaluate(f, PriorityContext.For(f, now)).Priority, f.Priority));
    }
}
