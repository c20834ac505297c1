using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using HarborPortal.Data;
using HarborPortal.Features.Connections;
using HarborPortal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace HarborPortal.Tests.Features.Imports;

/// <summary>Uploads as the page's form and the API send them, and a picture of everything an import may change.</summary>
internal static class ImportSupport
{
    public const string Image = "team-a/payments-api@" + ImportMappingTests.Digest;

    /// <summary>Small enough for a test to exceed cheaply; the fixtures are 10–20 KB.</summary>
    public const int MaxFileBytes = 40 * 1024;

    public static Dictionary<string, string?> Settings => new() { ["Imports:MaxFileBytes"] = MaxFileBytes.ToString(System.Globalization.CultureInfo.InvariantCulture) };

    public static byte[] Fixture(string name) => File.ReadAllBytes(ImportMappingTests.Fixture(name));

    /// <summary>The Trivy fixture, changed: <paramref name="change"/> gets the report's Results.</summary>
    public static byte[] Trivy(Action<JsonArray> change)
    {
        var report = JsonNode.Parse(Fixture("trivy-payments-api.json"))!;
        change(report["Results"]!.AsArray());
        return Encoding.UTF8.GetBytes(report.ToJsonString());
    }

    public static void RemoveVulnerability(JsonArray results, string id)
    {
        foreach (var result in results)
        {
            if (result!["Vulnerabilities"] is JsonArray vulnerabilities)
            {
                foreach (var gone in vulnerabilities.Where(v => v!["VulnerabilityID"]!.GetValue<string>() == id).ToList())
                {
                    vulnerabilities.Remove(gone);
                }
            }
        }
    }

    public static async Task<long> AddConnectionAsync(PortalApplication app, string name = "harbor-prod")
    {
        await using var db = app.CreateDbContext();
        var connection = new HarborConnection
        {
            Name = name,
            BaseUrl = $"https://{(name == "harbor-prod" ? "harbor.example.test" : name + ".example.test")}",
            UserName = "robot$portal",
            ProtectedSecret = "unused",
        };
        db.HarborConnections.Add(connection);
        await db.SaveChangesAsync();
        return connection.Id;
    }

    public static MultipartFormDataContent Form(byte[]? file, string fileName, string? connectionId, string? image, string? format = null, string? antiforgery = null)
    {
        var form = new MultipartFormDataContent();
        if (antiforgery is not null)
        {
            form.Add(new StringContent(antiforgery), "__RequestVerificationToken");
        }

        foreach (var (name, value) in new[] { ("connectionId", connectionId), ("image", image), ("format", format) })
        {
            if (value is not null)
            {
                form.Add(new StringContent(value), name);
            }
        }

        if (file is not null)
        {
            var content = new ByteArrayContent(file);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            form.Add(content, "file", fileName);
        }

        return form;
    }

    public static async Task<HttpResponseMessage> ApiImportAsync(HttpClient client, string? token, MultipartFormDataContent form)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/findings/imports") { Content = form };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return await client.SendAsync(request);
    }

    /// <summary>Every row an import writes or whose counters it moves, as text: equal before and after means nothing changed.</summary>
    public static async Task<string> SnapshotAsync(PortalApplication app)
    {
        await using var db = app.CreateDbContext();
        var findings = await db.Findings.AsNoTracking().OrderBy(f => f.Id)
            .Select(f => $"{f.Id} {f.Identity} {f.SourceTool} {f.Status} {f.Severity} {f.Priority} {f.FixedVersion} {f.Tags} {f.LastSeenAt.UtcTicks} {f.ResolvedReason}").ToListAsync();
        var events = await db.FindingEvents.AsNoTracking().OrderBy(e => e.Id).Select(e => $"{e.Id} {e.FindingId} {e.Kind} {e.Actor}").ToListAsync();
        var counts = await db.FindingCounts.AsNoTracking().Where(c => c.Count > 0)
            .Select(c => $"{c.SourceTool} {c.Severity} {c.Status} {c.Count}").ToListAsync();
        var terms = await db.FindingTerms.AsNoTracking().CountAsync();
        return string.Join('\n', findings.Concat(events).Concat(counts.Order(StringComparer.Ordinal)).Append($"terms {terms}"));
    }

    public static async Task<int> CountAsync(PortalDbContext db, string sourceTool) => await db.Findings.CountAsync(f => f.SourceTool == sourceTool);
}
