using System.Text.RegularExpressions;
using HarborPortal.BrowserTests.Infrastructure;
using HarborPortal.BrowserTests.Pages;
using HarborPortal.Data;
using HarborPortal.Tests.Features.Findings;
using HarborPortal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace HarborPortal.BrowserTests;

/// <summary>Triage in a real browser: a security engineer accepts a finding's risk until a date and sees why its priority changed.</summary>
[Collection(PortalCollection.Name)]
public sealed class TriageTests(PortalServerFixture server, BrowserFixture browser, ITestOutputHelper output)
    : BrowserTest(server, browser, output), IAsyncLifetime
{
    public async Task InitializeAsync()
    {
        await using var db = await Server.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
        if (!await db.Findings.AnyAsync())
        {
            await FindingSeeds.SeedAsync(db);
        }
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public Task Open_A_Finding_Accept_Its_Risk_Until_A_Date_And_See_The_Status_And_Explained_Priority_Change() => WithPageAsync(async page =>
    {
        var security = IdentityProviderFixture.User("sec");
        await (await LoginPage.OpenAsync(page)).LogInViaAuthentikAsync(security.Username, security.Password);
        // The most important open finding (the queue lists resolved ones too).
        await page.GotoAsync(Pages.FindingsPage.Path + "?status=Open");
        var findings = new Pages.FindingsPage(page);
        await findings.OpenFindingAsync(0);
        var triage = new FindingTriagePanel(page);
        await Expect(triage.Status).ToHaveTextAsync("Open");
        var until = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(45);

        await triage.AcceptRiskAsync(until, "Only reachable from the build network");

        await Expect(page).ToHaveURLAsync(new Regex(@"/findings/\d+\?done="));
        await Expect(triage.Status).ToHaveTextAsync("Risk accepted");
        await Expect(triage.DecisionSource).ToContainTextAsync($"Risk accepted by {security.Username}");
        await Expect(triage.DecisionSource).ToContainTextAsync($"until {until:yyyy-MM-dd}");
        await Expect(triage.PriorityFactors).ToContainTextAsync($"→ None: the risk is accepted until {until:yyyy-MM-dd}");
        await Expect(triage.Priority).ToContainTextAsync("None");
        await Expect(triage.Timeline.Locator("li[data-kind=Decision]")).ToHaveCountAsync(1);
    });
}
