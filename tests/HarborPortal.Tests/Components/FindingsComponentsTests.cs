using AngleSharp.Dom;
using AngleSharp.Html.Dom;
using HarborPortal.Components.Shared;
using HarborPortal.Features.Findings;
using HarborPortal.Tests.Features.Findings;
using HarborPortal.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;

namespace HarborPortal.Tests.Components;

/// <summary>The queue's building blocks rendered alone: what a user sees in the table, the filter bar, the pager and the badges.</summary>
public sealed class FindingsComponentsTests
{
    private static readonly Dictionary<long, string> Connections = new() { [1] = "harbor-prod", [2] = "harbor-stage" };

    [Fact]
    public async Task The_Table_Shows_One_Row_Per_Finding_With_Its_Link_Badges_Versions_And_Image()
    {
        var withFix = Seeded(4, 101);
        var withoutFix = Seeded(35, 102);
        withoutFix.CvssScore = null;

        var page = await ComponentRenderer.RenderAsync<FindingsTable>(new Dictionary<string, object?> { ["Items"] = new List<Finding> { withFix, withoutFix }, ["ConnectionNames"] = Connections });

        var rows = page.QuerySelectorAll("[data-testid=findings-table] tbody tr");
        Assert.Equal(["101", "102"], rows.Select(r => r.GetAttribute("data-finding-id") ?? ""));
        Assert.Null(page.QuerySelector("[data-testid=findings-empty]"));

        var first = rows[0];
        var link = first.QuerySelector<IHtmlAnchorElement>("[data-testid=finding-link]")!;
        Assert.Equal("/findings/101", link.GetAttribute("href"));
        Assert.Equal(withFix.VulnerabilityId, link.TextContent);
        Assert.Contains(withFix.Title, first.TextContent, StringComparison.Ordinal);
        var badges = first.QuerySelectorAll("[data-severity]");
        Assert.Equal([withFix.Priority.ToString(), withFix.Severity.ToString()], badges.Select(b => b.GetAttribute("data-severity") ?? ""));
        Assert.Equal(withFix.Severity.ToString(), badges[1].TextContent);
        Assert.Contains("→ " + withFix.FixedVersion, first.TextContent, StringComparison.Ordinal);
        Assert.Contains($"{withFix.RepositoryName}:v4", first.TextContent.Replace(" ", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Contains(FindingsTable.ShortDigest(withFix.Digest) + " · harbor-prod", first.TextContent, StringComparison.Ordinal);
        Assert.Contains(withFix.CvssScore!.Value.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture), first.QuerySelector("td.text-end")!.TextContent, StringComparison.Ordinal);

        var second = rows[1];
        Assert.Contains("no fix", second.TextContent, StringComparison.Ordinal);
        Assert.Equal("—", second.QuerySelector("td.text-end")!.TextContent);
        Assert.Contains("harbor-stage", second.TextContent, StringComparison.Ordinal);
        Assert.Equal("Resolved", second.QuerySelectorAll("td")[^1].TextContent);
    }

    [Fact]
    public async Task An_Empty_Table_Says_That_Nothing_Matches()
    {
        var page = await ComponentRenderer.RenderAsync<FindingsTable>(new Dictionary<string, object?> { ["Items"] = new List<Finding>() });

        Assert.Null(page.QuerySelector("[data-testid=findings-table]"));
        Assert.Equal("No findings match these filters.", page.QuerySelector("[data-testid=findings-empty]")!.TextContent);
    }

    [Fact]
    public async Task A_Connection_That_No_Longer_Exists_Is_Named_By_Its_Id()
    {
        var page = await ComponentRenderer.RenderAsync<FindingsTable>(new Dictionary<string, object?> { ["Items"] = new List<Finding> { Seeded(14, 7) } });

        Assert.Contains("connection 2", page.QuerySelector("tbody tr")!.TextContent, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Severity.Critical, "text-bg-danger")]
    [InlineData(Severity.High, "text-bg-warning")]
    [InlineData(Severity.Medium, "text-bg-info")]
    [InlineData(Severity.Low, "text-bg-secondary")]
    [InlineData(Severity.None, "text-bg-light")]
    [InlineData(Severity.Unknown, "text-bg-light")]
    public async Task A_Badge_Names_Its_Severity_In_Words_Beside_Its_Colour(Severity severity, string colour)
    {
        var page = await ComponentRenderer.RenderAsync<SeverityBadge>(new Dictionary<string, object?> { ["Value"] = severity, ["Prefix"] = "P: " });

        var badge = page.QuerySelector("span.badge")!;
        Assert.Contains(colour, badge.ClassList);
        Assert.Equal(severity.ToString(), badge.GetAttribute("data-severity"));
        Assert.Equal("P: " + severity, badge.TextContent);
    }

    [Fact]
    public async Task A_Facet_Lists_Its_Values_With_Counts_And_Keeps_What_Is_Checked()
    {
        FacetValue[] values = [new("Critical", "Critical", 1234, true), new("High", "High", 0, false), new("Low", "Low", -1, true)];

        var page = await ComponentRenderer.RenderAsync<FacetChecklist>(new Dictionary<string, object?> { ["Title"] = "Severity", ["Name"] = "severity", ["Values"] = values });

        var fieldset = page.QuerySelector("fieldset[data-facet=severity]")!;
        Assert.Equal("Severity", fieldset.QuerySelector("legend")!.TextContent);
        var boxes = fieldset.QuerySelectorAll<IHtmlInputElement>("input[type=checkbox]").ToList();
        Assert.All(boxes, b => Assert.Equal("severity", b.Name));
        Assert.Equal(["Critical", "High", "Low"], boxes.Select(b => b.Value ?? ""));
        Assert.Equal([true, false, true], boxes.Select(b => b.IsChecked));
        var counts = fieldset.QuerySelectorAll("[data-count]").ToList();
        Assert.Equal(["1,234", "0", "—"], counts.Select(c => c.TextContent));
        Assert.Equal("Critical", page.QuerySelector("label[for=facet-severity-Critical]")!.TextContent);
    }

    [Fact]
    public async Task A_Facet_Without_Values_Says_None()
    {
        var page = await ComponentRenderer.RenderAsync<FacetChecklist>(new Dictionary<string, object?> { ["Title"] = "Source tool", ["Name"] = "source", ["Values"] = Array.Empty<FacetValue>() });

        Assert.Empty(page.QuerySelectorAll("input"));
        Assert.Equal("none", page.QuerySelector("fieldset p")!.TextContent);
    }

    [Fact]
    public async Task A_Type_Ahead_Is_A_Named_Text_Box_That_Asks_For_Suggestions_As_The_User_Types()
    {
        var page = await ComponentRenderer.RenderAsync<TypeAheadInput>(new Dictionary<string, object?> { ["Label"] = "Package contains", ["Name"] = "package", ["Value"] = "ssl", ["Placeholder"] = "openssl" });

        var input = page.QuerySelector<IHtmlInputElement>("input#filter-package")!;
        Assert.Equal("package", input.Name);
        Assert.Equal("ssl", input.Value);
        Assert.Equal("openssl", input.Placeholder);
        Assert.Equal(FindingFilter.MaxTextLength, input.MaxLength);
        Assert.Equal("/findings/suggest/package", input.GetAttribute("hx-get"));
        Assert.Equal("#suggest-package", input.GetAttribute("hx-target"));
        Assert.Equal("suggest-package", input.GetAttribute("list"));
        Assert.NotNull(page.QuerySelector("datalist#suggest-package"));
        Assert.Equal("Package contains", page.QuerySelector("label[for=filter-package]")!.TextContent);
    }

    [Fact]
    public async Task Suggestions_Are_The_Options_Of_The_Datalist()
    {
        var page = await ComponentRenderer.RenderAsync<Suggestions>(new Dictionary<string, object?> { ["Values"] = new List<string> { "team-a/app0", "team-a/app1" } });

        Assert.Equal(["team-a/app0", "team-a/app1"], page.QuerySelectorAll("option").Select(o => o.GetAttribute("value") ?? ""));
    }

    [Fact]
    public async Task The_Next_Page_Link_Keeps_The_Filter_And_Carries_The_Cursor()
    {
        var filter = FindingQueueTests.Parse("severity=Critical,High&source=Trivy (import)&sort=cvss&dir=asc");

        var page = await ComponentRenderer.RenderAsync<Pager>(new Dictionary<string, object?> { ["Filter"] = filter, ["After"] = "cursor-1", ["NextCursor"] = "cursor/2+=" });

        var next = page.QuerySelector("[data-testid=next-page]")!;
        var href = next.GetAttribute("href")!;
        Assert.StartsWith("/findings?", href, StringComparison.Ordinal);
        Assert.Equal("/findings/view" + href["/findings".Length..], next.GetAttribute("hx-get"));
        var query = QueryHelpers.ParseQuery(href[href.IndexOf('?', StringComparison.Ordinal)..]);
        Assert.Equal("Critical,High", query["severity"].ToString());
        Assert.Equal("Trivy (import)", query["source"].ToString());
        Assert.Equal("cvss", query["sort"].ToString());
        Assert.Equal("asc", query["dir"].ToString());
        Assert.Equal("cursor/2+=", query["after"].ToString());
        Assert.Equal(filter.ToQueryString(), FindingQueueTests.Parse(href[(href.IndexOf('?', StringComparison.Ordinal) + 1)..]).ToQueryString());
        // Not the first page: a way back to it, with the same filter and no cursor.
        Assert.Equal("/findings" + filter.ToQueryString(), page.QuerySelector("[data-testid=first-page]")!.GetAttribute("href"));
    }

    [Fact]
    public async Task The_Last_Page_Has_No_Next_Link_And_The_First_Page_No_Link_To_Itself()
    {
        var filter = FindingQueueTests.Parse("status=Open");

        var last = await ComponentRenderer.RenderAsync<Pager>(new Dictionary<string, object?> { ["Filter"] = filter, ["After"] = "cursor-9", ["NextCursor"] = null });
        var only = await ComponentRenderer.RenderAsync<Pager>(new Dictionary<string, object?> { ["Filter"] = filter });

        Assert.Null(last.QuerySelector("[data-testid=next-page]"));
        Assert.NotNull(last.QuerySelector("[data-testid=first-page]"));
        Assert.Empty(only.QuerySelectorAll("[data-testid=pager] a"));
    }

    [Fact]
    public async Task The_Export_Links_Carry_The_Filter_And_Order_But_Not_The_Grouping()
    {
        var filter = FindingQueueTests.Parse("severity=Critical&project=team-a&sort=first-seen&group=vulnerability");

        var page = await ComponentRenderer.RenderAsync<ExportLinks>(new Dictionary<string, object?> { ["Filter"] = filter });

        Assert.Equal("/findings/export.csv?severity=Critical&project=team-a&sort=first-seen", page.QuerySelector("[data-testid=export-csv]")!.GetAttribute("href"));
        Assert.Equal("/findings/export.json?severity=Critical&project=team-a&sort=first-seen", page.QuerySelector("[data-testid=export-json]")!.GetAttribute("href"));
        Assert.True(page.QuerySelector("[data-testid=export-csv]")!.HasAttribute("download"));
    }

    private static Finding Seeded(int seed, long id)
    {
        var finding = FindingSeeds.Create(seed);
        finding.Id = id;
        return finding;
    }
}
