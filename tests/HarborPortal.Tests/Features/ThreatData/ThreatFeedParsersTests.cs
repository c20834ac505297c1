using System.Text;
using HarborPortal.Features.Findings;
using HarborPortal.Features.ThreatData;

namespace HarborPortal.Tests.Features.ThreatData;

public sealed class ThreatFeedParsersTests
{
    private const long Limit = 1024 * 1024;

    [Fact]
    public void The_Kev_Catalog_Gives_Its_Entries_And_Its_Release_Date()
    {
        var feed = ThreatFeedParsers.Parse(ThreatFeedKind.Kev, File.ReadAllBytes(FeedServer.Fixture("known_exploited_vulnerabilities.json")), Limit);

        Assert.Equal(new DateTimeOffset(2026, 11, 20, 15, 0, 0, TimeSpan.Zero), feed.DataDate);
        Assert.Equal("2026.11.20", feed.DataVersion);
        Assert.Equal(["CVE-2021-44228", "CVE-2023-4863"], feed.Kev.Select(e => e.CveId).Order());
        var log4j = feed.Kev.Single(e => e.CveId == "CVE-2021-44228");
        Assert.Equal(new DateOnly(2021, 12, 10), log4j.DateAdded);
        Assert.Equal(new DateOnly(2021, 12, 24), log4j.DueDate);
        Assert.Equal("Known", log4j.RansomwareUse);
        Assert.Equal("Apache", log4j.VendorProject);
    }

    [Fact]
    public void Epss_Scores_Read_The_Same_Plain_Or_Gzip()
    {
        var csv = File.ReadAllBytes(FeedServer.Fixture("epss_scores-current.csv"));

        var plain = ThreatFeedParsers.Parse(ThreatFeedKind.Epss, csv, Limit);
        var gzip = ThreatFeedParsers.Parse(ThreatFeedKind.Epss, FeedServer.Gzip(csv), Limit);

        Assert.Equal(5, plain.Count);
        Assert.Equal(new DateTimeOffset(2026, 11, 21, 12, 55, 0, TimeSpan.Zero), plain.DataDate);
        Assert.Equal("v2025.03.14", plain.DataVersion);
        Assert.Equal(0.37021, plain.Epss.Single(e => e.CveId == "CVE-2022-0001").Probability);
        Assert.Equal(plain.Epss.Select(e => (e.CveId, e.Probability, e.Percentile)), gzip.Epss.Select(e => (e.CveId, e.Probability, e.Percentile)));
        Assert.Equal(plain.DataDate, gzip.DataDate);
    }

    [Theory]
    [InlineData(ThreatFeedKind.Kev, "{\"vulnerabilities\": [", "not valid JSON")]
    [InlineData(ThreatFeedKind.Kev, "{\"title\": \"x\", \"vulnerabilities\": []}", "no 'vulnerabilities' entries")]
    [InlineData(ThreatFeedKind.Kev, "{\"count\": 3, \"vulnerabilities\": [{\"cveID\": \"CVE-2021-44228\", \"dateAdded\": \"2021-12-10\"}]}", "says it has 3 entries but lists 1")]
    [InlineData(ThreatFeedKind.Kev, "{\"vulnerabilities\": [{\"cveID\": \"log4shell\", \"dateAdded\": \"2021-12-10\"}]}", "KEV entry 1 has no valid cveID")]
    [InlineData(ThreatFeedKind.Kev, "{\"vulnerabilities\": [{\"cveID\": \"CVE-2021-44228\", \"dateAdded\": \"yesterday\"}]}", "no valid dateAdded")]
    [InlineData(ThreatFeedKind.Epss, "cve,epss,percentile\nCVE-2021-44228,0.9,0.9\n", "does not start with '#model_version:")]
    [InlineData(ThreatFeedKind.Epss, "#model_version:v1\ncve,epss,percentile\n", "no score_date")]
    [InlineData(ThreatFeedKind.Epss, "#model_version:v1,score_date:2026-11-21T00:00:00Z\ncve,score\n", "second line should be 'cve,epss,percentile'")]
    [InlineData(ThreatFeedKind.Epss, "#model_version:v1,score_date:2026-11-21T00:00:00Z\ncve,epss,percentile\nCVE-2021-44228,1.7,0.9\n", "EPSS line 3 is not")]
    [InlineData(ThreatFeedKind.Epss, "#model_version:v1,score_date:2026-11-21T00:00:00Z\ncve,epss,percentile\n", "has no scores")]
    public void A_Malformed_File_Is_Refused_With_A_Message_That_Says_Where(ThreatFeedKind kind, string content, string message)
    {
        var error = Assert.Throws<ThreatFeedException>(() => ThreatFeedParsers.Parse(kind, Encoding.UTF8.GetBytes(content), Limit));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_Gzip_File_That_Expands_Past_The_Limit_Is_Refused()
    {
        var bomb = FeedServer.Gzip(new byte[200_000]);

        var error = Assert.Throws<ThreatFeedException>(() => ThreatFeedParsers.Parse(ThreatFeedKind.Epss, bomb, 100_000));

        Assert.Contains("larger than the limit of 97 KB", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://www.cisa.gov/feeds/kev.json", null)]
    [InlineData("http://127.0.0.1:8080/kev.json", null)]
    [InlineData("http://localhost/kev.json", null)]
    [InlineData("http://mirror.example.com/kev.json", "must use https")]
    [InlineData("ftp://mirror.example.com/kev.json", "must use https")]
    [InlineData("https://user:pw@mirror.example.com/kev.json", "must not carry a user name")]
    [InlineData("kev.json", "absolute URL")]
    public void Feed_Urls_Need_Https_Unless_They_Are_Loopback(string url, string? message)
    {
        var error = ThreatFeedUrls.Validate(url);

        if (message is null)
        {
            Assert.Null(error);
        }
        else
        {
            Assert.Contains(message, error, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_Factors_Name_The_Data_And_Its_Date()
    {
        var finding = new Finding
        {
            Identity = "x", ProjectName = "p", RepositoryName = "p/r", Digest = "sha256:1", Tags = "", VulnerabilityId = "CVE-2021-44228",
            PackageName = "log4j", InstalledVersion = "2.14", FixedVersion = "2.17", Severity = Severity.Medium, Title = "t", Description = "", Links = "",
            ArtifactDigests = "", SourceTool = Finding.HarborSource,
        };
        var context = new PriorityContext(DateTimeOffset.UtcNow, KnownExploited: true, ExploitProbability: 0.37, KevCatalogDate: new DateOnly(2026, 11, 20), EpssScoreDate: new DateOnly(2026, 11, 21));

        var factors = PriorityRules.Evaluate(finding, context).Factors;

        Assert.Equal("Medium → High: EPSS 37 % (scores of 2026-11-21): a high chance of exploitation within 30 days", factors.Single(f => f.Rule == "epss").Describe());
        Assert.Equal("High → Critical: known to be exploited in the wild (CISA KEV, catalog of 2026-11-20)", factors.Single(f => f.Rule == "kev").Describe());
    }
}
