using HarborPortal.Data;
using HarborPortal.Features.Findings;
using HarborPortal.Features.Triage;
using HarborPortal.Tests.Features.Scanning;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;
using static HarborPortal.Tests.Features.Findings.TriageSupport;
using static HarborPortal.Tests.Features.Scanning.SyncHarness;

namespace HarborPortal.Tests.Features.Findings;

// Decisions against the sync: the simulator pushes new images and rescans, the portal's own writer applies them.
public sealed class TriageSyncTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string PaymentsRepository = "team-a/payments-api";
    private SyncHarness _harness = null!;

    public async Task InitializeAsync() => _harness = await SyncHarness.StartAsync(output);

    public async Task DisposeAsync() => await _harness.DisposeAsync();

    [Fact]
    public async Task A_False_Positive_On_One_Digest_Arrives_Already_Triaged_On_The_Next_Pushed_Digest_And_Narrowing_Stops_That()
    {
        await _harness.SyncAsync();
        var original = (await _harness.FindingsAsync()).First(f => f.Digest == PaymentsDigest);

        var decided = await TriageAsync(_harness.App, original.Id, new TriageChange(FindingStatus.FalsePositive, "The vulnerable code path is never loaded", null));
        var decisionId = Assert.Single(decided.DecisionIds);

        // A new image of the same repository, with the same vulnerabilities.
        var pushed = _harness.Simulator.AddArtifact(PaymentsRepository, "1.9.0", "payments");
        var run = await _harness.SyncAsync();

        var arrived = (await _harness.FindingsAsync()).Single(f => f.Digest == pushed.Digest && f.VulnerabilityId == original.VulnerabilityId && f.PackageName == original.PackageName);
        Assert.Equal(FindingStatus.FalsePositive, arrived.Status);
        Assert.Equal(decisionId, arrived.TriageDecisionId);
        var events = (await _harness.EventsAsync()).Where(e => e.FindingId == arrived.Id).ToList();
        Assert.Equal([(FindingEventKind.Opened, null), (TriageEventKind.Triaged, $"Triaged by decision #{decisionId}")], events.Select(e => (e.Kind, e.Reason)).ToList());
        Assert.All(events, e => Assert.Equal(run.Id, e.SyncRunId));
        // Only that vulnerability in that package: the image's other findings arrive Open.
        Assert.All((await _harness.FindingsAsync()).Where(f => f.Digest == pushed.Digest && f.Id != arrived.Id), f => Assert.Equal(FindingStatus.Open, f.Status));

        // Narrowed to the one digest: the other image's finding goes back to Open, with its reason on the timeline.
        var narrowed = await TriageAsync(_harness.App, original.Id, new TriageChange(FindingStatus.FalsePositive, "Only this build is affected", null, TriageScope.Digest));

        var findings = await _harness.FindingsAsync();
        Assert.Equal(FindingStatus.Open, findings.Single(f => f.Id == arrived.Id).Status);
        Assert.Null(findings.Single(f => f.Id == arrived.Id).TriageDecisionId);
        Assert.Equal(FindingStatus.FalsePositive, findings.Single(f => f.Id == original.Id).Status);
        Assert.Equal(Assert.Single(narrowed.DecisionIds), findings.Single(f => f.Id == original.Id).TriageDecisionId);
        Assert.Contains(await _harness.EventsAsync(), e => e.FindingId == arrived.Id && e.Kind == TriageEventKind.Untriaged && e.Actor == "alice");
        await using (var db = _harness.App.CreateDbContext())
        {
            var old = await db.TriageDecisions.SingleAsync(d => d.Id == decisionId);
            Assert.NotNull(old.EndedAt);
            Assert.StartsWith("replaced by decision #", old.EndedWhy, StringComparison.Ordinal);
        }

        // And the next push no longer arrives triaged.
        var third = _harness.Simulator.AddArtifact(PaymentsRepository, "2.0.0", "payments");
        await _harness.SyncAsync();
        Assert.Equal(FindingStatus.Open, (await _harness.FindingsAsync()).Single(f => f.Digest == third.Digest && f.VulnerabilityId == original.VulnerabilityId && f.PackageName == original.PackageName).Status);
    }

    [Fact]
    public async Task A_Finding_Resolved_Then_Seen_Again_Reopens_And_Its_Decision_Applies_Again()
    {
        await _harness.SyncAsync();
        var finding = (await _harness.FindingsAsync()).First(f => f.Digest == PaymentsDigest);
        var decision = Assert.Single((await TriageAsync(_harness.App, finding.Id, new TriageChange(FindingStatus.RiskAccepted, "Compensating WAF rule", Tomorrow.AddDays(30)))).DecisionIds);
        System.Text.Json.Nodes.JsonObject removed = null!;
        _harness.Rescan(PaymentsDigest, state =>
        {
            var set = state.VulnerabilitySets["payments"];
            removed = set.First(v => v["id"]!.GetValue<string>() == finding.VulnerabilityId && v["package"]!.GetValue<string>() == finding.PackageName);
            set.Remove(removed);
        });
        await _harness.SyncAsync();
        Assert.Equal(FindingStatus.Resolved, (await _harness.FindingsAsync()).Single(f => f.Id == finding.Id).Status);

        _harness.Rescan(PaymentsDigest, state => state.VulnerabilitySets["payments"].Add(removed));
        var reopening = await _harness.SyncAsync();

        Assert.Equal(1, reopening.FindingsReopened);
        var back = (await _harness.FindingsAsync()).Single(f => f.Id == finding.Id);
        Assert.Equal(FindingStatus.RiskAccepted, back.Status);
        Assert.Equal(decision, back.TriageDecisionId);
        Assert.Equal(Severity.None, back.Priority);
        Assert.Equal(
            [FindingEventKind.Reopened, TriageEventKind.Triaged],
            (await _harness.EventsAsync()).Where(e => e.FindingId == finding.Id && e.SyncRunId == reopening.Id).Select(e => e.Kind).ToList());
    }

    [Fact]
    public async Task An_Expired_Risk_Acceptance_Reopens_Its_Findings_With_The_Priority_Recomputed_And_Audited()
    {
        await _harness.SyncAsync();
        var finding = (await _harness.FindingsAsync()).First(f => f.Digest == PaymentsDigest && f.Priority > Severity.None);
        await TriageAsync(_harness.App, finding.Id, new TriageChange(FindingStatus.RiskAccepted, "Fixed in the next release", Tomorrow));
        var accepted = (await _harness.FindingsAsync()).Single(f => f.Id == finding.Id);
        Assert.Equal(FindingStatus.RiskAccepted, accepted.Status);
        Assert.Equal(Severity.None, accepted.Priority);

        // The date passes (moved into the past here), then the hourly job runs.
        await using (var db = _harness.App.CreateDbContext())
        {
            var decision = await db.TriageDecisions.SingleAsync();
            decision.ExpiresAt = DateTimeOffset.UtcNow.AddMinutes(-1);
            await db.SaveChangesAsync();
        }

        await using (var scope = _harness.App.Services.CreateAsyncScope())
        {
            var job = ActivatorUtilities.CreateInstance<RiskAcceptanceExpiryJob>(scope.ServiceProvider);
            await job.Execute(null!, CancellationToken.None);
        }

        var reopened = (await _harness.FindingsAsync()).Single(f => f.Id == finding.Id);
        Assert.Equal(FindingStatus.Open, reopened.Status);
        Assert.Null(reopened.TriageDecisionId);
        Assert.Equal(finding.Priority, reopened.Priority);
        var expiry = Assert.Single(await _harness.EventsAsync(), e => e.FindingId == finding.Id && e.Kind == TriageEventKind.RiskAcceptanceExpired);
        Assert.Contains("risk acceptance expired", expiry.Reason, StringComparison.Ordinal);
        await using var check = _harness.App.CreateDbContext();
        Assert.NotNull((await check.TriageDecisions.SingleAsync()).EndedAt);
        Assert.Single(await check.AuditEvents.Where(a => a.Action == "triage.risk-acceptance.expired").ToListAsync());
    }
}
