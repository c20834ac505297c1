using System.Net;
using HarborPortal.Features.Auth;
using HarborPortal.Features.Findings;
using HarborPortal.Features.Triage;
using HarborPortal.Tests.Features.Auth;
using HarborPortal.Tests.Features.Findings;
using HarborPortal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Xunit.Abstractions;
using static HarborPortal.Tests.Features.Imports.ImportSupport;

namespace HarborPortal.Tests.Features.Imports;

// Triage decisions key on repository, package and vulnerability, whatever tool reported it: an import is no way around them.
public sealed class ImportTriageTests(ITestOutputHelper output)
{
    private const string NextDigest = "sha256:7e1bc2a1f0c5d4e3b2a19f8e7d6c5b4a39281706f5e4d3c2b1a0f9e8d7c6b5a4";

    [Fact]
    public async Task A_Vulnerability_Triaged_For_The_Repository_Arrives_Triaged_In_The_Next_Imported_Image()
    {
        await using var app = new PortalApplication(Settings, output);
        var connectionId = await AddConnectionAsync(app);
        var token = await ApiTokenTests.CreateTokenAsync(app, "ci-security", PortalRoles.Security);
        using var client = app.CreateClient();
        using (var first = await ApiImportAsync(client, token, Form(Fixture("trivy-payments-api.json"), "trivy-payments-api.json", $"{connectionId}", Image)))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        long triagedId;
        await using (var db = app.CreateDbContext())
        {
            triagedId = await db.Findings.Where(f => f.VulnerabilityId == "CVE-2023-45288").Select(f => f.Id).SingleAsync();
        }

        await TriageSupport.TriageAsync(app, triagedId, new TriageChange(FindingStatus.FalsePositive, "The vulnerable HTTP/2 server is never started.", null));

        // The same report for the next image of the repository (its own digest inside, as Trivy would write it).
        var nextReport = System.Text.Encoding.UTF8.GetBytes(System.Text.Encoding.UTF8.GetString(Fixture("trivy-payments-api.json")).Replace(ImportMappingTests.Digest, NextDigest, StringComparison.Ordinal));
        using var next = await ApiImportAsync(client, token, Form(nextReport, "trivy-payments-api-next.json", $"{connectionId}", "team-a/payments-api@" + NextDigest));

        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        await using var check = app.CreateDbContext();
        var inNextImage = await check.Findings.AsNoTracking().Where(f => f.Digest == NextDigest).ToListAsync();
        Assert.Equal(7, inNextImage.Count);
        var triaged = Assert.Single(inNextImage, f => f.VulnerabilityId == "CVE-2023-45288");
        Assert.Equal(FindingStatus.FalsePositive, triaged.Status);
        Assert.NotNull(triaged.TriageDecisionId);
        Assert.All(inNextImage.Where(f => f.Id != triaged.Id), f => Assert.Equal(FindingStatus.Open, f.Status));
        var timeline = await check.FindingEvents.AsNoTracking().Where(e => e.FindingId == triaged.Id).OrderBy(e => e.Id).Select(e => e.Kind).ToListAsync();
        Assert.Equal([FindingEventKind.Opened, TriageEventKind.Triaged], timeline);
    }
}
