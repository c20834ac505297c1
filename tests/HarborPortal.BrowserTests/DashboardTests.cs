using HarborPortal.BrowserTests.Infrastructure;
using HarborPortal.BrowserTests.Pages;
using HarborPortal.Data;
using HarborPortal.Features.Dashboard;
using HarborPortal.Features.Findings;
using HarborPortal.Tests.Features.Findings;
using HarborPortal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace HarborPortal.BrowserTests;

/// <summary>The dashboard in a real browser: the SVG charts are drawn, and a number opens the queue with that many findings.</summary>
[Collection(PortalCollection.Name)]
public sealed class DashboardTests(PortalServerFixture server, BrowserFixture browser, ITestOutputHelper output)
    : BrowserTest(server, browser, output), IAsyncLifetime
{
    private List<Finding> _findings = [];
    private int _snapshotDays;

    public async Task InitializeAsync()
    {
        await using var db = await Server.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
        _findings = await db.Findings.AnyAsync() ? await db.Findings.AsNoTracking().ToListAsync() : await FindingSeeds.SeedAsync(db);
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        var from = today.AddDays(-29);
        _snapshotDays = await db.FindingSnapshots.Where(s => s.Day >= from && s.Day < today && s.ConnectionId == 0 && s.ProjectName == "").CountAsync();
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public Task The_Charts_Render_And_A_Number_Opens_The_Queue_With_That_Many_Findings() => WithPageAsync(async page =>
    {
        var security = IdentityProviderFixture.User("sec");
        await (await LoginPage.OpenAsync(page)).LogInViaAuthentikAsync(security.Username, security.Password);

        var dashboard = await Pages.DashboardPage.OpenAsync(page);

        await Expect(dashboard.SeverityBars).ToHaveCountAsync(6);
        await Expect(dashboard.WeeklyBars).ToHaveCountAsync(2 * DashboardQuery.Weeks);
        // Today (live) and each earlier day of the 30 that has a snapshot.
        await Expect(dashboard.TrendPoints).ToHaveCountAsync(1 + _snapshotDays);
        var critical = _findings.Count(f => f.Severity == Severity.Critical && f.Status is FindingStatus.Open or FindingStatus.InProgress);
        await Expect(dashboard.OpenBySeverity("Critical")).ToHaveTextAsync(critical.ToString());

        var (shown, queue) = await dashboard.FollowOpenBySeverityAsync("Critical");

        Assert.Equal(critical, shown);
        await Expect(queue.Occurrences).ToHaveTextAsync(shown.ToString());
        await Expect(queue.Rows).ToHaveCountAsync(shown);
    });
}
