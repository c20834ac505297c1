using HarborPortal.Features.Findings;
using HarborPortal.Tests.Infrastructure;

namespace HarborPortal.Tests.Features.Findings;

/// <summary>
/// The package search on whichever database the suite runs on (FTS5 trigram on SQLite, pg_trgm + ILIKE on PostgreSQL):
/// any three characters inside a name find it, in any case, and LIKE's wildcards typed by a user are plain characters.
/// </summary>
public sealed class PackageSearchTests : IAsyncLifetime
{
    private const string Target = "python3-urllib3";
    private static readonly string[] Packages = [Target, "lib_x%y", "libaxyy", @"back\slash"];

    private readonly PortalApplication _app = new();
    private Dictionary<string, long> _ids = [];

    public async Task InitializeAsync()
    {
        _app.CreateClient().Dispose();
        await using var db = _app.CreateDbContext();
        await FindingSeeds.SeedAsync(db, count: 0);
        var findings = Packages.Select((package, i) =>
        {
            var finding = FindingSeeds.Create(i);
            finding.PackageName = package;
            return finding;
        }).ToList();
        db.Findings.AddRange(findings);
        await db.SaveChangesAsync();
        _ids = findings.ToDictionary(f => f.PackageName, f => f.Id);
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Any_Three_Inner_Characters_Of_A_Name_Find_It_In_Any_Case()
    {
        await using var db = _app.CreateDbContext();
        var queue = new FindingQueue(db);

        for (var start = 0; start + 3 <= Target.Length; start++)
        {
            var part = Target.Substring(start, 3);
            foreach (var text in new[] { part, part.ToUpperInvariant() })
            {
                var page = await queue.PageAsync(new FindingFilter { Package = text }, FindingScope.Everything, null);
                Assert.True(page.Items.Any(f => f.Id == _ids[Target]), $"'{text}' did not find {Target}");
                Assert.Contains(Target, await queue.SuggestAsync(FindingTermKind.Package, text, FindingScope.Everything));
            }
        }
    }

    [Theory]
    [InlineData("b_x", new[] { "lib_x%y" })]
    [InlineData("x%y", new[] { "lib_x%y" })]
    [InlineData("%", new string[0])]
    [InlineData("li_", new string[0])]
    [InlineData(@"k\s", new[] { @"back\slash" })]
    [InlineData("py", new[] { Target })]
    [InlineData("l", new[] { "lib_x%y", "libaxyy" })]
    public async Task Wildcards_In_The_Text_Are_Literal_Characters(string text, string[] expected)
    {
        await using var db = _app.CreateDbContext();
        var queue = new FindingQueue(db);

        var page = await queue.PageAsync(new FindingFilter { Package = text }, FindingScope.Everything, null);

        Assert.Equal(expected.Order(StringComparer.Ordinal), page.Items.Select(f => f.PackageName).Order(StringComparer.Ordinal));
    }
}
