using System.Net;
using System.Text;
using System.Text.Json;
using HarborPortal.Features.Auth;
using HarborPortal.Features.Imports;
using HarborPortal.Tests.Features.Auth;
using HarborPortal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using static HarborPortal.Tests.Features.Imports.ImportSupport;

namespace HarborPortal.Tests.Features.Imports;

/// <summary>A portal with one Trivy import done: each bad upload after it must leave every row as it was.</summary>
public sealed class ImportedImage : IAsyncLifetime
{
    public PortalApplication App { get; } = new(Settings);

    public long ConnectionId { get; private set; }

    public string Token { get; private set; } = "";

    public async Task InitializeAsync()
    {
        ConnectionId = await AddConnectionAsync(App);
        await AddConnectionAsync(App, "harbor-stage");
        Token = await ApiTokenTests.CreateTokenAsync(App, "ci-security", PortalRoles.Security);
        using var client = App.CreateClient();
        await ImportTests.ImportAsync(client, Token, Fixture("trivy-payments-api.json"), $"{ConnectionId}");
    }

    public async Task DisposeAsync() => await App.DisposeAsync();
}

public sealed class ImportRefusalTests(ImportedImage imported) : IClassFixture<ImportedImage>
{
    private static readonly string Sarif = Encoding.UTF8.GetString(Fixture("trivy-payments-api.sarif"));
    private static readonly string TrivyJson = Encoding.UTF8.GetString(Fixture("trivy-payments-api.json"));

    // name → (file, file name, connection, image, format) and the field and words of the refusal. "{connection}" is the real one.
    public static TheoryData<string, string?, string?, string?, string?, string, string> Cases() => new()
    {
        { "malformed JSON", "{\n  \"SchemaVersion\": 2,\n  \"Results\": [\n    {\"Target\": \"x\" \"Class\": \"os-pkgs\"}\n  ]\n}", "{connection}", Image, null,
            "file", "broken.json: The file is not valid JSON at line 4, position " },
        { "truncated JSON", TrivyJson[..(TrivyJson.Length / 2)], "{connection}", Image, null, "file", "broken.json: The file is not valid JSON at line" },
        { "SARIF uploaded as Trivy", Sarif, "{connection}", Image, "trivy", "file", "This file is a SARIF log, not a Trivy JSON report" },
        { "Trivy uploaded as SARIF", TrivyJson, "{connection}", Image, "sarif", "file", "This file is a Trivy JSON report, not a SARIF log" },
        { "not a report", "{\"kind\": \"List\", \"items\": []}", "{connection}", Image, null, "file", "neither a Trivy JSON report (SchemaVersion, Results) nor a SARIF 2.1.0 log" },
        { "Trivy schema version 1", "[{\"Target\": \"alpine:3.10\", \"Vulnerabilities\": []}]", "{connection}", Image, null, "file", "does not have the shape of a Trivy or SARIF report at $" },
        { "an empty file", "", "{connection}", Image, null, "file", "broken.json is empty." },
        { "no file", null, "{connection}", Image, null, "file", "Choose a Trivy JSON report or a SARIF 2.1.0 file to upload." },
        { "a file over the limit", TrivyJson + new string(' ', MaxFileBytes), "{connection}", Image, null, "file", "the largest report accepted is 40 KB (Imports:MaxFileBytes)" },
        { "no project", TrivyJson, "{connection}", "payments-api@" + ImportMappingTests.Digest, null, "image", "needs a project and a repository" },
        { "no digest, none in the report", TrivyJson, "{connection}", "team-a/orders-api:2.0", null, "image", "team-a/orders-api:2.0 names no digest and the report does not list one" },
        { "no digest nor tag", TrivyJson, "{connection}", "team-a/payments-api", null, "image", "has neither a digest nor a tag" },
        { "another image's report", TrivyJson, "{connection}", "team-a/payments-api@sha256:" + new string('0', 64), null, "image", "The report is about team-a/payments-api@sha256:7812" },
        { "another registry's image", TrivyJson, "{connection}", "registry.other.test/team-a/payments-api:1.4.2", null, "image", "The image is on registry.other.test, but the connection harbor-prod is harbor.example.test" },
        { "an unknown connection", TrivyJson, "999", Image, null, "connectionId", "There is no connection 999." },
        { "no connection", TrivyJson, null, Image, null, "connectionId", "Choose the connection" },
        { "an unknown format", TrivyJson, "{connection}", Image, "cyclonedx", "format", "'cyclonedx' is not a format: auto, trivy or sarif." },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_Bad_Upload_Is_Refused_With_A_Clear_Error_And_Changes_Nothing(
        string name, string? file, string? connection, string? image, string? format, string field, string expected)
    {
        using var client = imported.App.CreateClient();
        var before = await SnapshotAsync(imported.App);
        // "Nothing changed" means something here: the image's findings, that most of these uploads would otherwise change.
        Assert.Contains("Trivy (import) Open", before, StringComparison.Ordinal);

        using var response = await ApiImportAsync(client, imported.Token,
            Form(file is null ? null : Encoding.UTF8.GetBytes(file), "broken.json", connection?.Replace("{connection}", $"{imported.ConnectionId}", StringComparison.Ordinal), image, format));

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{name}: {(int)response.StatusCode}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("Nothing was imported", problem.GetProperty("title").GetString());
        var message = problem.GetProperty("errors").GetProperty(field)[0].GetString();
        Assert.Contains(expected, message, StringComparison.Ordinal);
        Assert.Equal(message, problem.GetProperty("detail").GetString());
        Assert.Equal(before, await SnapshotAsync(imported.App));

        await using var db = imported.App.CreateDbContext();
        var audit = await db.AuditEvents.AsNoTracking().Where(a => a.Action == ReportImporter.AuditAction).OrderByDescending(a => a.Id).FirstAsync();
        Assert.False(audit.Succeeded);
        Assert.Contains(expected, audit.Details, StringComparison.Ordinal);
    }
}
