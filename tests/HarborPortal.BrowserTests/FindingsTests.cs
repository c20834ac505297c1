using System.Text.RegularExpressions;
using HarborPortal.BrowserTests.Infrastructure;
using HarborPortal.BrowserTests.Pages;
using HarborPortal.Data;
using HarborPortal.Features.Findings;
using HarborPortal.Tests.Features.Findings;
using HarborPortal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace HarborPortal.BrowserTests;

/// <summary>The findings queue in a real browser: htmx swaps the view, the URL keeps the filters, back returns to them.</summary>
[Collection(PortalCollection.Name)]
public sealed class FindingsTests(PortalServerFixture server, BrowserFixture browser, ITestOutputHelper output)
    : BrowserTest(server, browser, output), IAsyncLifetime
{
    private List<Finding> _findings = [];

    public async Task InitializeAsync()
    {
        await using var db = await Server.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
        _findings = await db.Findings.AnyAsync() ? await db.Findings.AsNoTracking().ToListAsync() : await FindingSeeds.SeedAsync(db);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public Task Filter_By_Severity_Open_A_Finding_And_Go_Back_To_The_Filtered_Queue() => WithPageAsync(async page =>
    {
        var security = IdentityProviderFixture.User("sec");
        await (await LoginPage.OpenAsync(page)).LogInViaAuthentikAsync(security.Username, security.Password);
        var findings = await Pages.FindingsPage.OpenAsync(page);
        await Expect(findings.Occurrences).ToHaveTextAsync(_findings.Count.ToString());

        await findings.FilterBySeverityAsync("Critical");

        var critical = _findings.Count(f => f.Severity == Severity.Critical);
        await Expect(findings.Occurrences).ToHaveTextAsync(critical.ToString());
        await Expect(findings.Rows).ToHaveCountAsync(critical);
        Assert.All(await findings.RowSeverities.EvaluateAllAsync<string[]>("badges => badges.map(b => b.dataset.severity)"), s => Assert.Equal("Critical", s));

        await findings.OpenFindingAsync(0);
        await findings.GoBackAsync();

        await Expect(page).ToHaveURLAsync(new Regex(@"/findings\?severity=Critical$"));
        await Expect(findings.SeverityCheckbox("Critical")).ToBeCheckedAsync();
        await Expect(findings.Rows).ToHaveCountAsync(critical);
        await Expect(findings.Occurrences).ToHaveTextAsync(critical.ToString());
    });

    [Fact]
    public Task Filter_By_Source_Tool_And_Severity_Open_A_Finding_Go_Back_And_Export_The_Filtered_List() => WithPageAsync(async page =>
    {
        var security = IdentityProviderFixture.User("sec");
        await (await LoginPage.OpenAsync(page)).LogInViaAuthentikAsync(security.Username, security.Password);
        var findings = await Pages.FindingsPage.OpenAsync(page);
        var expected = FindingSeeds.Sorted(_findings.Where(f => f.SourceTool == FindingSeeds.Import && f.Severity == Severity.Critical), FindingSortKey.Priority, ascending: false)
            .Select(f => f.Id).ToList();

        await findings.FilterBySourceToolAsync(FindingSeeds.Import);
        await findings.FilterBySeverityAsync("Critical");
        await Expect(findings.Rows).ToHaveCountAsync(expected.Count);
        await findings.OpenFindingAsync(0);
        await findings.GoBackAsync();

        await Expect(findings.SourceToolCheckbox(FindingSeeds.Import)).ToBeCheckedAsync();
        await Expect(findings.SeverityCheckbox("Critical")).ToBeCheckedAsync();
        await Expect(findings.Rows).ToHaveCountAsync(expected.Count);

        var (fileName, text) = await findings.ExportCsvAsync();

        Assert.Matches(@"^findings-source-trivy-import-severity-critical-\d{8}T\d{4}Z\.csv$", fileName);
        Assert.Equal(expected, Csv.Parse(text).Skip(1).Select(r => long.Parse(r[0])));
    });
}
