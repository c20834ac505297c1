using System.Text;
using HarborPortal.Features.Findings;
using HarborPortal.Features.Imports;
using HarborPortal.Tests.Infrastructure;

namespace HarborPortal.Tests.Features.Imports;

/// <summary>The formats' mapping to findings, the image reference and the parser's refusals, without a host.</summary>
public sealed class ImportMappingTests
{
    public const string Digest = "sha256:7812883484dde4c24d550083bb0b7cf2b01c595bc3174923f3c655cf7e0aa045";
    private static readonly DateTimeOffset Now = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly ImportTarget Target = new(1, "team-a", "team-a/payments-api", Digest, "1.4.2", new PriorityContext(Now));

    public static string Fixture(string name) => Path.Combine(RepositoryPaths.Root, "tests", "HarborPortal.Tests", "Features", "Imports", "Fixtures", name);

    [Fact]
    public async Task A_Trivy_Report_Becomes_One_Finding_Per_Vulnerability_Package_And_Version()
    {
        var report = await ParseAsync("trivy-payments-api.json", ReportFormat.Trivy);

        var tool = ImportedFindings.FromTrivy(report.Report, Target);

        Assert.Equal("Trivy (import)", tool.SourceTool);
        // golang.org/x/net is in two targets (two Go binaries): one finding. The jar target has no vulnerabilities.
        Assert.Equal(
            [
                ("CVE-2024-0727", "libssl3", "3.0.11-1~deb12u2", "3.0.13-1~deb12u1", Severity.Medium, 5.5, "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H"),
                ("CVE-2023-5678", "openssl", "3.0.11-1~deb12u2", "3.0.13-1~deb12u1", Severity.Medium, 5.3, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L"),
                ("CVE-2011-3374", "apt", "2.6.1", "", Severity.Low, 3.7, "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:L/A:N"),
                ("CVE-2023-45853", "zlib1g", "1:1.2.13.dfsg-1", "", Severity.Critical, 9.8, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
                // NVD's score wins over GHSA's 5.3; GHSA's alone is taken when NVD has none.
                ("CVE-2023-45288", "golang.org/x/net", "v0.17.0", "0.23.0", Severity.High, 7.5, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"),
                ("GHSA-m425-mq94-257g", "google.golang.org/grpc", "v1.58.2", "1.56.3, 1.57.1, 1.58.3", Severity.High, 7.5, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"),
                ("CVE-2024-35195", "requests", "2.31.0", "2.32.0", Severity.Medium, 5.6, "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:H/I:H/A:N"),
            ],
            tool.Findings.Select(f => (f.VulnerabilityId, f.PackageName, f.InstalledVersion, f.FixedVersion, f.Severity, f.CvssScore!.Value, f.CvssVector!)).ToList());

        Assert.All(tool.Findings, f =>
        {
            Assert.Equal("Trivy (import)", f.SourceTool);
            Assert.Equal("Trivy", f.ScannerName);
            Assert.Equal(("team-a", "team-a/payments-api", Digest, "1.4.2"), (f.ProjectName, f.RepositoryName, f.Digest, f.Tags));
            Assert.Equal(FindingStatus.Open, f.Status);
            Assert.Equal(PriorityRules.Evaluate(f, Target.Priority).Priority, f.Priority);
        });
        Assert.Equal(tool.Findings.Count, tool.Findings.Select(f => f.Identity).Distinct().Count());

        var apt = tool.Findings.Single(f => f.PackageName == "apt");
        Assert.Equal("It was found that apt-key in apt, all versions, do not correctly validate gpg keys with the master keyring, leading to a potential man-in-the-middle attack.", apt.Title);
        Assert.Equal(["https://avd.aquasec.com/nvd/cve-2011-3374", "https://access.redhat.com/security/cve/cve-2011-3374"], apt.Links.Split('\n'));

        // Critical, no fix (−1), network-exploitable without privileges (+1): Critical.
        Assert.Equal(Severity.Critical, tool.Findings.Single(f => f.PackageName == "zlib1g").Priority);
    }

    [Fact]
    public async Task A_Trivy_Sarif_Log_Reads_Package_Versions_And_Severity_From_Its_Messages()
    {
        var report = await ParseAsync("trivy-payments-api.sarif", ReportFormat.Sarif);

        var tool = Assert.Single(ImportedFindings.FromSarif(report.Report, Target));

        Assert.Equal("SARIF: Trivy", tool.SourceTool);
        Assert.Equal(
            [
                ("CVE-2024-0727", "libssl3", "3.0.11-1~deb12u2", "3.0.13-1~deb12u1", Severity.Medium, (double?)5.5),
                ("CVE-2024-0727", "openssl", "3.0.11-1~deb12u2", "3.0.13-1~deb12u1", Severity.Medium, 5.5),
                ("CVE-2023-45853", "zlib1g", "1:1.2.13.dfsg-1", "", Severity.Critical, 9.8),
                ("CVE-2011-3374", "apt", "2.6.1", "", Severity.Low, 3.7),
            ],
            tool.Findings.Select(f => (f.VulnerabilityId, f.PackageName, f.InstalledVersion, f.FixedVersion, f.Severity, f.CvssScore)).ToList());
        Assert.All(tool.Findings, f => Assert.Equal(("Trivy", "0.52.2", "SARIF: Trivy"), (f.ScannerName, f.ScannerVersion, f.SourceTool)));
        var zlib = tool.Findings.Single(f => f.PackageName == "zlib1g");
        Assert.Equal("zlib: integer overflow and resultant heap-based buffer overflow in zipOpenNewFileInZip4_6", zlib.Title);
        Assert.Equal("https://avd.aquasec.com/nvd/cve-2023-45853", zlib.Links);
    }

    [Fact]
    public async Task A_Grype_Sarif_Log_Splits_Its_Rule_Ids_And_Bands_Its_Security_Severity()
    {
        var report = await ParseAsync("grype-payments-api.sarif", null);

        var tool = Assert.Single(ImportedFindings.FromSarif(report.Report, Target));

        Assert.Equal("SARIF: Grype", tool.SourceTool);
        Assert.Equal(
            [
                ("CVE-2023-45853", "zlib1g", "1:1.2.13.dfsg-1", Severity.Critical, (double?)9.8),
                ("GHSA-m425-mq94-257g", "google.golang.org/grpc", "v1.58.2", Severity.High, 7.5),
                ("CVE-2005-2541", "tar", "1.34+dfsg-1.2+deb12u1", Severity.None, null),
            ],
            tool.Findings.Select(f => (f.VulnerabilityId, f.PackageName, f.InstalledVersion, f.Severity, f.CvssScore)).ToList());
        Assert.All(tool.Findings, f => Assert.Equal(("Grype", "0.79.1", ""), (f.ScannerName, f.ScannerVersion, f.FixedVersion)));
    }

    [Fact]
    public void A_Sarif_Result_Without_Package_Evidence_Falls_Back_On_Its_Level_And_Location()
    {
        var report = new UploadedReport
        {
            Version = "2.1.0",
            Runs =
            [
                new SarifRun
                {
                    Tool = new SarifTool { Driver = new SarifDriver { Name = "Acme Container Scanner, Enterprise Edition", Rules = [new SarifRule { Id = "ACME-42", DefaultConfiguration = new SarifConfiguration { Level = "error" } }] } },
                    Results =
                    [
                        new SarifResult { RuleIndex = 0, Message = new SarifText { Text = "Weak cipher enabled\nmore" }, Locations = [new SarifLocation { PhysicalLocation = new SarifPhysicalLocation { ArtifactLocation = new SarifArtifactLocation { Uri = "etc/ssl/openssl.cnf" } } }] },
                        new SarifResult { RuleId = "ACME-7", Level = "note", Message = new SarifText { Text = "Debug port open" } },
                    ],
                },
            ],
        };

        var tool = Assert.Single(ImportedFindings.FromSarif(report, Target));

        Assert.Equal(32, tool.SourceTool.Length);
        Assert.StartsWith("SARIF: Acme Container Scann~", tool.SourceTool, StringComparison.Ordinal);
        Assert.Equal(
            [("ACME-42", "etc/ssl/openssl.cnf", Severity.High, "Weak cipher enabled"), ("ACME-7", "", Severity.Low, "Debug port open")],
            tool.Findings.Select(f => (f.VulnerabilityId, f.PackageName, f.Severity, f.Title)).ToList());
    }

    [Fact]
    public void Sarif_Tool_Names_Fit_The_Source_Tool_Column_The_Same_Way_Every_Time()
    {
        var long1 = ImportedFindings.SarifSource("Snyk Container Vulnerability Scanner");
        var long2 = ImportedFindings.SarifSource("Snyk Container Vulnerability Checker");

        Assert.Equal("SARIF: Trivy", ImportedFindings.SarifSource("  Trivy "));
        Assert.Equal("SARIF: Grype Anchore", ImportedFindings.SarifSource("Grype,\n Anchore"));
        Assert.Equal(long1, ImportedFindings.SarifSource("Snyk Container Vulnerability Scanner"));
        Assert.NotEqual(long1, long2);
        Assert.All(new[] { long1, long2 }, s => Assert.Equal(ImportedFindings.MaxSourceToolLength, s.Length));
        Assert.Matches("^SARIF: Snyk Container Vulne~[0-9a-f]{4}$", long1);
    }

    [Fact]
    public void An_Imported_Finding_And_Harbors_Finding_Of_The_Same_Vulnerability_Have_Different_Identities()
    {
        var harbor = Finding.IdentityOf(1, "team-a/payments-api", Digest, "CVE-2024-0727", "libssl3", "3.0.11-1~deb12u2");
        var trivy = ImportedFindings.IdentityOf(ImportedFindings.TrivySource, 1, "team-a/payments-api", Digest, "CVE-2024-0727", "libssl3", "3.0.11-1~deb12u2");
        var sarif = ImportedFindings.IdentityOf("SARIF: Trivy", 1, "team-a/payments-api", Digest, "CVE-2024-0727", "libssl3", "3.0.11-1~deb12u2");

        Assert.Equal(3, new[] { harbor, trivy, sarif }.Distinct().Count());
        Assert.All(new[] { trivy, sarif }, i => Assert.Matches("^[0-9a-f]{64}$", i));
    }

    [Theory]
    [InlineData("team-a/payments-api@" + Digest, null, "team-a", "team-a/payments-api", null, Digest)]
    [InlineData("harbor.example.test/team-a/nested/api:1.4.2", "harbor.example.test", "team-a", "team-a/nested/api", "1.4.2", null)]
    [InlineData(" localhost:5000/team-a/api:v1@" + Digest + " ", "localhost:5000", "team-a", "team-a/api", "v1", Digest)]
    public void An_Image_Reference_Names_Project_Repository_And_Digest_Or_Tag(string text, string? host, string project, string repository, string? tag, string? digest)
    {
        var image = ImageReference.Parse(text, out var error);

        Assert.Null(error);
        Assert.Equal(new ImageReference(host, project, repository, tag, digest), image);
    }

    [Theory]
    [InlineData("", "Name the image")]
    [InlineData("payments-api@" + Digest, "needs a project and a repository")]
    [InlineData("harbor.example.test/payments-api:1.0", "needs a project and a repository")]
    [InlineData("team-a/payments-api", "has neither a digest nor a tag")]
    [InlineData("team-a/payments-api@sha256:abc", "is not an image digest")]
    [InlineData("team-a/Payments@" + Digest, "'Payments' is not a valid project or repository name")]
    [InlineData("team-a/api:-bad", "is not a valid tag")]
    public void A_Bad_Image_Reference_Says_What_Is_Wrong(string text, string expected)
    {
        Assert.Null(ImageReference.Parse(text, out var error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"SchemaVersion\": 2,\n  \"Results\": [ }", null, "not valid JSON at line 2, position 16")]
    [InlineData("{\"SchemaVersion\": 2, \"Results\": [],}", null, "not valid JSON at line 1, position 36")]
    [InlineData("   \n ", null, "holds no JSON")]
    [InlineData("[1, 2]", null, "does not have the shape of a Trivy or SARIF report")]
    [InlineData("{\"SchemaVersion\": \"two\"}", null, "does not have the shape of a Trivy or SARIF report at $.SchemaVersion (line 1")]
    [InlineData("{\"name\": \"not a report\"}", null, "neither a Trivy JSON report (SchemaVersion, Results) nor a SARIF 2.1.0 log")]
    [InlineData("{\"SchemaVersion\": 1, \"Results\": []}", null, "schema version 1 is not supported")]
    [InlineData("{\"SchemaVersion\": 2, \"Results\": [{\"Vulnerabilities\": [{\"PkgName\": \"x\"}]}]}", null, "Results[0].Vulnerabilities[0] has no VulnerabilityID")]
    [InlineData("{\"version\": \"2.0.0\", \"runs\": []}", null, "SARIF version 2.0.0 is not supported")]
    [InlineData("{\"version\": \"2.1.0\", \"runs\": []}", null, "has no runs")]
    [InlineData("{\"version\": \"2.1.0\", \"runs\": [{\"tool\": {\"driver\": {}}}]}", null, "runs[0].tool.driver.name is missing")]
    [InlineData("{\"version\": \"2.1.0\", \"runs\": [{\"tool\": {\"driver\": {\"name\": \"x\"}}, \"results\": [{\"message\": {\"text\": \"?\"}}]}]}", null, "runs[0].results[0] names no rule")]
    [InlineData("{\"version\": \"2.1.0\", \"runs\": [{\"tool\": {\"driver\": {\"name\": \"x\"}}}]}", ReportFormat.Trivy, "This file is a SARIF log, not a Trivy JSON report")]
    [InlineData("{\"SchemaVersion\": 2, \"Results\": []}", ReportFormat.Sarif, "This file is a Trivy JSON report, not a SARIF log")]
    public async Task A_File_That_Is_Not_A_Supported_Report_Is_Refused_With_The_Reason(string text, ReportFormat? format, string expected)
    {
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(text));

        var (report, error) = await ReportParser.ParseAsync(stream, format, CancellationToken.None);

        Assert.Null(report);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    private static async Task<ParsedReport> ParseAsync(string fixture, ReportFormat? expected)
    {
        await using var stream = File.OpenRead(Fixture(fixture));
        var (report, error) = await ReportParser.ParseAsync(stream, null, CancellationToken.None);
        Assert.Null(error);
        Assert.Equal(expected ?? report!.Format, report!.Format);
        return report;
    }
}
