using HarborPortal.Features.Findings;
using HarborPortal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Primitives;

namespace HarborPortal.Tests.Features.Findings;

/// <summary>The seeded queue, shared by the tests that only read it.</summary>
public sealed class SeededQueue : IAsyncLifetime
{
    public PortalApplication App { get; } = new();

    public List<Finding> Findings { get; private set; } = [];

    public async Task InitializeAsync()
    {
        App.CreateClient().Dispose();
        Findings = await FindingSeeds.SeedAsync(App);
    }

    public async Task DisposeAsync() => await App.DisposeAsync();
}

public sealed class FindingQueueTests(SeededQueue seeded) : IClassFixture<SeededQueue>
{
    // Each filter as the page's URL writes it, with the rows it must return (the same rule, applied in memory).
    public static TheoryData<string> FilterCases() =>
    [
        "",
        "severity=Critical",
        "severity=Low,None",
        "priority=High",
        "priority=Critical&priority=Medium",
        "status=Resolved",
        "status=Open",
        "source=Trivy (import)",
        "connection=2",
        "project=team-b",
        "repository=team-a/app1",
        "vulnerability=cve-2024-0003",
        "package=ssl",
        "package=zl",
        "fix=no",
        "fix=yes",
        "from=2025-01-20&to=2025-01-25",
        "severity=High&project=team-a&fix=yes",
    ];

    [Theory]
    [MemberData(nameof(FilterCases))]
    public async Task Every_Filter_Returns_Exactly_Its_Rows_In_Every_Order_Page_By_Page(string query)
    {
        var filter = Parse(query);
        var expected = seeded.Findings.Where(Matches(query)).ToList();

        foreach (var sort in Enum.GetValues<FindingSortKey>())
        {
            foreach (var ascending in new[] { false, true })
            {
                // Threshold 0 forces the seek/walk plans; the default reads these few rows through the filter's index.
                foreach (var threshold in new[] { 0, FindingQueue.FewRows })
                {
                    var view = filter with { Sort = sort, Ascending = ascending };
                    var ids = await AllPagesAsync(view, FindingScope.Everything, pageSize: 7, threshold);
                    var want = FindingSeeds.Sorted(expected, sort, ascending).Select(f => f.Id).ToList();
                    Assert.True(want.SequenceEqual(ids), $"{query} by {sort} {(ascending ? "asc" : "desc")} (threshold {threshold}): expected [{string.Join(",", want)}] got [{string.Join(",", ids)}]");
                }
            }
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("severity=High")]
    [InlineData("status=Open&source=Harbor")]
    [InlineData("repository=team-b/app0")]
    [InlineData("package=ssl&status=Open")]
    public async Task Facets_Count_Each_Value_With_The_Other_Filters_Applied(string query)
    {
        var filter = Parse(query);
        await using var db = seeded.App.CreateDbContext();
        var facets = await new FindingQueue(db).FacetsAsync(filter, FindingScope.Everything);

        // A facet ignores its own filter: its values are the choices that would change the result.
        IEnumerable<Finding> Others(string facet) => seeded.Findings.Where(Matches(Without(query, facet)));
        Assert.Equal(seeded.Findings.Count(Matches(query)), facets.Occurrences);
        foreach (var severity in Enum.GetValues<Severity>())
        {
            Assert.Equal(Others("severity").Count(f => f.Severity == severity), facets.Severities.Single(v => v.Value == severity.ToString()).Count);
            Assert.Equal(Others("priority").Count(f => f.Priority == severity), facets.Priorities.Single(v => v.Value == severity.ToString()).Count);
        }

        foreach (var status in Enum.GetValues<FindingStatus>())
        {
            Assert.Equal(Others("status").Count(f => f.Status == status), facets.Statuses.Single(v => v.Value == status.ToString()).Count);
        }

        Assert.Equal(Others("source").GroupBy(f => f.SourceTool).ToDictionary(g => g.Key, g => (long)g.Count()), facets.SourceTools.ToDictionary(v => v.Value, v => v.Count));
        Assert.Equal(Others("connection").GroupBy(f => f.ConnectionId.ToString()).ToDictionary(g => g.Key, g => (long)g.Count()), facets.Connections.ToDictionary(v => v.Value, v => v.Count));
        Assert.Equal(Others("project").GroupBy(f => f.ProjectName).ToDictionary(g => g.Key, g => (long)g.Count()), facets.Projects.ToDictionary(v => v.Value, v => v.Count));
        Assert.Equal(Others("fix").Count(f => f.FixedVersion != ""), facets.FixAvailable.Single(v => v.Value == "yes").Count);
        Assert.All(facets.Connections, v => Assert.Equal(v.Value == "2" ? "harbor-stage" : "harbor-prod", v.Label));
        Assert.All(facets.Severities, v => Assert.Equal(filter.Severities.Contains(Enum.Parse<Severity>(v.Value)), v.Selected));
    }

    [Fact]
    public async Task Unique_Vulnerabilities_Are_Counted_Beside_Occurrences()
    {
        await using var db = seeded.App.CreateDbContext();
        var queue = new FindingQueue(db);

        var all = await queue.CountVulnerabilitiesAsync(new FindingFilter(), FindingScope.Everything);
        var critical = await queue.CountVulnerabilitiesAsync(Parse("severity=Critical"), FindingScope.Everything);

        Assert.Equal(10, all);
        Assert.Equal(seeded.Findings.Where(f => f.Severity == Severity.Critical).Select(f => f.VulnerabilityId).Distinct().Count(), critical);
    }

    [Fact]
    public async Task Grouping_By_Vulnerability_Gives_One_Row_Per_Vulnerability_With_Its_Images()
    {
        var filter = Parse("group=vulnerability&status=Open");
        var expected = seeded.Findings.Where(f => f.Status == FindingStatus.Open).GroupBy(f => f.VulnerabilityId).ToList();

        var groups = new List<VulnerabilityGroup>();
        string? after = null;
        do
        {
            await using var db = seeded.App.CreateDbContext();
            var page = await new FindingQueue(db).VulnerabilitiesAsync(filter, FindingScope.Everything, after, limit: 3);
            groups.AddRange(page.Items);
            after = page.NextCursor;
        }
        while (after is not null);

        Assert.Equal(expected.Count, groups.Count);
        Assert.Equal(expected.Count, groups.Select(g => g.VulnerabilityId).Distinct().Count());
        foreach (var group in groups)
        {
            var rows = expected.Single(g => g.Key == group.VulnerabilityId).ToList();
            Assert.Equal(rows.Select(f => f.Digest).Distinct().Count(), group.Images);
            Assert.Equal(rows.Count, group.Occurrences);
            Assert.Equal(rows.Max(f => f.Priority), group.Priority);
        }

        // Worst priority first, ties by id descending.
        var order = expected.Select(g => (Priority: g.Max(f => f.Priority), Id: g.Key)).OrderByDescending(g => g.Priority).ThenByDescending(g => g.Id, StringComparer.Ordinal).Select(g => g.Id);
        Assert.Equal(order, groups.Select(g => g.VulnerabilityId));
    }

    [Fact]
    public async Task Grouping_By_Image_Gives_One_Row_Per_Image_With_Its_Vulnerabilities()
    {
        var filter = Parse("group=image&sort=last-seen");
        var expected = seeded.Findings.GroupBy(f => (f.ConnectionId, f.RepositoryName, f.Digest)).ToList();

        var groups = new List<ImageGroup>();
        string? after = null;
        do
        {
            await using var db = seeded.App.CreateDbContext();
            var page = await new FindingQueue(db).ImagesAsync(filter, FindingScope.Everything, after, limit: 4);
            groups.AddRange(page.Items);
            after = page.NextCursor;
        }
        while (after is not null);

        Assert.Equal(expected.Count, groups.Count);
        foreach (var group in groups)
        {
            var rows = expected.Single(g => g.Key == (group.ConnectionId, group.RepositoryName, group.Digest)).ToList();
            Assert.Equal(rows.Select(f => f.VulnerabilityId).Distinct().Count(), group.Vulnerabilities);
            Assert.Equal(rows.Count, group.Occurrences);
            Assert.Equal(rows.Max(f => f.LastSeenAt), group.LastSeenAt);
        }

        Assert.Equal(groups.Select(g => g.LastSeenAt).OrderDescending(), groups.Select(g => g.LastSeenAt));
    }

    [Fact]
    public async Task A_Developer_Scope_Reads_Only_The_Owned_Projects_In_Pages_Facets_Groups_And_Suggestions()
    {
        var scope = new FindingScope(["team-a"]);
        await using var db = seeded.App.CreateDbContext();
        var queue = new FindingQueue(db);

        var ids = await AllPagesAsync(new FindingFilter(), scope, pageSize: 10, FindingQueue.FewRows);
        var walked = await AllPagesAsync(new FindingFilter { Sort = FindingSortKey.Cvss }, scope, pageSize: 10, threshold: 0);
        var facets = await queue.FacetsAsync(new FindingFilter(), scope);
        var groups = await queue.VulnerabilitiesAsync(new FindingFilter(), scope, null, limit: 50);
        var otherTeam = await queue.PageAsync(new FindingFilter { Project = "team-b" }, scope, null);
        var repositories = await queue.SuggestAsync(FindingTermKind.Repository, "app", scope);

        var owned = seeded.Findings.Where(f => f.ProjectName == "team-a").Select(f => f.Id).ToHashSet();
        Assert.True(owned.SetEquals(ids));
        Assert.True(owned.SetEquals(walked));
        Assert.Equal(owned.Count, facets.Occurrences);
        Assert.Equal(["team-a"], facets.Projects.Select(p => p.Value));
        Assert.Equal(seeded.Findings.Where(f => f.ProjectName == "team-a").Sum(f => 1), groups.Items.Sum(g => g.Occurrences));
        Assert.Empty(otherTeam.Items);
        Assert.Equal(["team-a/app0", "team-a/app1"], repositories);
    }

    [Fact]
    public async Task A_Developer_In_No_Team_Sees_Nothing()
    {
        await using var db = seeded.App.CreateDbContext();
        var queue = new FindingQueue(db);
        var nobody = new FindingScope([]);

        Assert.Empty((await queue.PageAsync(new FindingFilter(), nobody, null)).Items);
        Assert.Equal(0, (await queue.FacetsAsync(new FindingFilter(), nobody)).Occurrences);
        Assert.Empty(await queue.SuggestAsync(FindingTermKind.Package, "ssl", nobody));
    }

    [Theory]
    [InlineData(FindingTermKind.Package, "ssl", new[] { "libssl3", "openssl" })]
    [InlineData(FindingTermKind.Package, "SSL", new[] { "libssl3", "openssl" })]
    [InlineData(FindingTermKind.Package, "zl", new[] { "zlib1g" })]
    [InlineData(FindingTermKind.Repository, "team-c/", new[] { "team-c/app0", "team-c/app1" })]
    [InlineData(FindingTermKind.Vulnerability, "0003", new[] { "CVE-2024-0003" })]
    [InlineData(FindingTermKind.Project, "team", new[] { "team-a", "team-b", "team-c" })]
    [InlineData(FindingTermKind.Package, "nothing-like-it", new string[0])]
    [InlineData(FindingTermKind.Package, "\"quoted\" OR x*", new string[0])]
    public async Task Type_Ahead_Suggests_Known_Values_Containing_The_Text(FindingTermKind kind, string text, string[] expected)
    {
        await using var db = seeded.App.CreateDbContext();

        var values = await new FindingQueue(db).SuggestAsync(kind, text, FindingScope.Everything);

        Assert.Equal(expected, values);
    }

    [Fact]
    public async Task A_Cursor_From_Another_Order_Or_A_Forged_One_Is_Refused()
    {
        await using var db = seeded.App.CreateDbContext();
        var queue = new FindingQueue(db);
        var first = await queue.PageAsync(new FindingFilter(), FindingScope.Everything, null, limit: 5);

        await Assert.ThrowsAsync<InvalidCursorException>(() => queue.PageAsync(new FindingFilter { Sort = FindingSortKey.Cvss }, FindingScope.Everything, first.NextCursor));
        await Assert.ThrowsAsync<InvalidCursorException>(() => queue.PageAsync(new FindingFilter(), FindingScope.Everything, "not-a-cursor"));
        await Assert.ThrowsAsync<InvalidCursorException>(() => queue.PageAsync(new FindingFilter(), FindingScope.Everything,
            new FindingCursor(FindingCursor.ViewOf(new FindingFilter()), "x'; DROP TABLE Findings; --", "1").Encode()));
    }

    [Fact]
    public void Unknown_Filter_Values_Are_Named_Not_Ignored()
    {
        FindingFilter.Parse(Query("severity=Critical,Catastrophic&status=Open&sort=age&fix=maybe&from=yesterday&group=team&connection=x"), out var errors);

        Assert.Equal(["connection", "fix", "from", "group", "severity", "sort"], errors.Keys.Order());
        Assert.Contains("Catastrophic", errors["severity"][0], StringComparison.Ordinal);
    }

    [Fact]
    public void A_Filter_Survives_The_Round_Trip_Through_Its_Url()
    {
        var filter = Parse("severity=Critical&severity=High&status=Open&project=team-a&package=ssl&fix=no&from=2025-01-02&sort=cvss&dir=asc&group=image");

        var again = Parse(filter.ToQueryString().TrimStart('?'));

        Assert.Equal(filter.ToQueryString(), again.ToQueryString());
        Assert.Equal([Severity.Critical, Severity.High], again.Severities);
        Assert.Equal(FindingGrouping.Image, again.Group);
        Assert.True(again.Ascending);
    }

    private async Task<List<long>> AllPagesAsync(FindingFilter filter, FindingScope scope, int pageSize, int threshold)
    {
        var ids = new List<long>();
        string? after = null;
        var pages = 0;
        do
        {
            await using var db = seeded.App.CreateDbContext();
            var page = await new FindingQueue(db) { FewRowsThreshold = threshold }.PageAsync(filter, scope, after, pageSize);
            Assert.True(page.Items.Count <= pageSize);
            ids.AddRange(page.Items.Select(f => f.Id));
            after = page.NextCursor;
            Assert.True(++pages < 100, "paging does not end");
        }
        while (after is not null);

        return ids;
    }

    internal static FindingFilter Parse(string query)
    {
        var filter = FindingFilter.Parse(Query(query), out var errors);
        Assert.Empty(errors);
        return filter;
    }

    internal static Dictionary<string, StringValues> Query(string query) =>
        Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(query);

    private static string Without(string query, string name) =>
        string.Join('&', query.Split('&', StringSplitOptions.RemoveEmptyEntries).Where(p => !p.StartsWith(name + "=", StringComparison.Ordinal)));

    // The filters' meaning, written a second time in plain LINQ: the oracle the SQL is checked against.
    internal static Func<Finding, bool> Matches(string query)
    {
        var filter = FindingFilter.Parse(Query(query), out _);
        return f =>
            (filter.SourceTools.Count == 0 || filter.SourceTools.Contains(f.SourceTool))
            && (filter.Severities.Count == 0 || filter.Severities.Contains(f.Severity))
            && (filter.Priorities.Count == 0 || filter.Priorities.Contains(f.Priority))
            && (filter.Statuses.Count == 0 || filter.Statuses.Contains(f.Status))
            && (filter.ConnectionIds.Count == 0 || filter.ConnectionIds.Contains(f.ConnectionId))
            && (filter.Project is null || f.ProjectName == filter.Project)
            && (filter.Repository is null || f.RepositoryName == filter.Repository)
            && (filter.Vulnerability is null || f.VulnerabilityId.Equals(filter.Vulnerability, StringComparison.OrdinalIgnoreCase))
            && (filter.Package is null || (filter.Package.Length >= 3
                ? f.PackageName.Contains(filter.Package, StringComparison.OrdinalIgnoreCase)
                : f.PackageName.StartsWith(filter.Package, StringComparison.Ordinal)))
            && (filter.FixAvailable is null || (f.FixedVersion != "") == filter.FixAvailable)
            && (filter.FirstSeenFrom is null || f.FirstSeenAt >= new DateTimeOffset(filter.FirstSeenFrom.Value.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero))
            && (filter.FirstSeenTo is null || f.FirstSeenAt < new DateTimeOffset(filter.FirstSeenTo.Value.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero));
    }
}
