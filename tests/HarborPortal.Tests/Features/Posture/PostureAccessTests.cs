using HarborPortal.Features.Findings;
using HarborPortal.Features.Posture;
using HarborPortal.Features.Scanning;
using HarborAuthKind = HarborPortal.Features.Connections.HarborAuthKind;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;
using static HarborPortal.Features.Posture.PostureChecks;

namespace HarborPortal.Tests.Features.Posture;

// What the checks do when the account may not read a setting, or Harbor fails to give it: "not assessed", never a pass.
public sealed class PostureAccessTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_User_Without_Admin_Rights_Gets_Not_Assessed_With_The_Permission_For_What_It_Cannot_Read()
    {
        await using var harness = await PostureHarness.StartAsync(output, HarborAuthKind.User, PostureHarness.AuditorUser, PostureHarness.AuditorPassword);
        harness.Simulator.Mutate(state => state.ScanAllSchedule = null);

        var summary = await harness.RunAsync();

        var results = await harness.ResultsAsync();
        AssertNotAssessed(harness.Result(results, ScanAllSchedule), "system scan-all:read");
        AssertNotAssessed(harness.Result(results, GcSchedule), "system garbage-collection:read");
        AssertNotAssessed(harness.Result(results, RobotExpiry, "system robots"), "system robot:list");
        // Readable by anyone signed in: still assessed.
        Assert.Equal(PostureOutcome.Pass, harness.Result(results, AuthMode).Outcome);
        Assert.Equal(PostureOutcome.Pass, harness.Result(results, SystemCveAllowlist).Outcome);
        // It sees only the public project; its retention policy is not readable without membership.
        Assert.Equal(["public-project"], results.Where(r => r.ProjectName.Length > 0).Select(r => r.ProjectName).Distinct());
        AssertNotAssessed(harness.Result(results, TagRetention, "public-project"), "tag-retention:read on public-project");
        Assert.True(summary.NotAssessed >= 4);

        // Not assessed is never a finding, and a disabled scan-all the account cannot see is not "passed" either.
        Assert.Equal([$"{PublicProject.Id} @ public-project"], PostureHarness.Describe(await harness.FindingsAsync()));
        Assert.DoesNotContain(results, r => r.CheckId == ScanAllSchedule.Id && r.Outcome == PostureOutcome.Pass);
    }

    [Fact]
    public async Task A_Robot_Without_System_Permissions_Gets_Not_Assessed_For_Every_System_Read()
    {
        await using var harness = await PostureHarness.StartAsync(output, HarborAuthKind.Robot, PostureHarness.ReaderRobot, PostureHarness.ReaderRobotSecret);

        await harness.RunAsync();

        var results = await harness.ResultsAsync();
        AssertNotAssessed(harness.Result(results, ScanAllSchedule), "system scan-all:read");
        AssertNotAssessed(harness.Result(results, GcSchedule), "system garbage-collection:read");
        AssertNotAssessed(harness.Result(results, Scanner), "system scanner:list (or scanner:read on a project)");
        // Robots may not list robots without robot:list: its own expiry is not assessed either.
        AssertNotAssessed(harness.Result(results, RobotExpiry, PostureHarness.ReaderRobot), "system robot:list");
        AssertNotAssessed(harness.Result(results, TagRetention, "hardened"), "tag-retention:read on hardened");
        // Project settings come with the project list, which it may read.
        Assert.Equal(PostureOutcome.Fail, harness.Result(results, ScanOnPush, "no-scan-on-push").Outcome);
        Assert.DoesNotContain(await harness.FindingsAsync(), f => f.VulnerabilityId is "HARBOR-POSTURE-GC-SCHEDULE" or "HARBOR-POSTURE-SCAN-ALL-SCHEDULE" or "HARBOR-POSTURE-SCANNER");
    }

    [Fact]
    public async Task Harbor_Failing_One_Read_Leaves_Only_That_Check_Not_Assessed_And_Its_Finding_As_It_Was()
    {
        await using var harness = await PostureHarness.StartAsync(output);
        harness.Simulator.Mutate(state => state.GcSchedule = null);
        await harness.RunAsync();
        var gcFinding = (await harness.FindingsAsync()).Single(f => f.VulnerabilityId == GcSchedule.Id);

        // Every attempt of the GC schedule read fails (the client retries 5xx); the next reads succeed.
        harness.Simulator.Faults.FailNext(3, 500, "/api/v2.0/system/gc");
        await harness.RunAsync();

        var results = await harness.ResultsAsync();
        var gc = harness.Result(results, GcSchedule);
        Assert.Equal(PostureOutcome.NotAssessed, gc.Outcome);
        Assert.Contains("HTTP 500", gc.Evidence, StringComparison.Ordinal);
        Assert.Null(gc.NeededPermission);
        Assert.Single(results, r => r.Outcome == PostureOutcome.NotAssessed);
        Assert.Equal(PostureOutcome.Pass, harness.Result(results, ScanAllSchedule).Outcome);
        Assert.Equal(FindingStatus.Open, (await harness.FindingsAsync()).Single(f => f.Id == gcFinding.Id).Status);
    }

    [Fact]
    public async Task A_Sync_Of_The_Connection_Runs_The_Posture_Checks_When_It_Ends()
    {
        await using var harness = await PostureHarness.StartAsync(output);
        await using var scope = harness.App.Services.CreateAsyncScope();

        var start = await scope.ServiceProvider.GetRequiredService<SyncRequests>().StartAsync(harness.ConnectionId, "tester", CancellationToken.None);

        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await harness.ResultsAsync()).Count == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "No posture results after the sync.");
            await Task.Delay(100);
        }

        await using var db = harness.App.CreateDbContext();
        Assert.Equal(SyncRunStatus.Succeeded, (await db.SyncRuns.SingleAsync(r => r.Id == start!.RunId)).Status);
        var findings = await harness.FindingsAsync();
        Assert.Equal(7, findings.Count);
        var events = await db.FindingEvents.AsNoTracking().Where(e => findings.Select(f => f.Id).Contains(e.FindingId)).ToListAsync();
        Assert.All(events, e =>
        {
            Assert.Equal(start!.RunId, e.SyncRunId);
            Assert.Null(e.Actor);
        });
    }

    private static void AssertNotAssessed(PostureResult result, string permission)
    {
        Assert.Equal(PostureOutcome.NotAssessed, result.Outcome);
        Assert.Equal(permission, result.NeededPermission);
        Assert.Contains("may not read this", result.Evidence, StringComparison.Ordinal);
    }
}
