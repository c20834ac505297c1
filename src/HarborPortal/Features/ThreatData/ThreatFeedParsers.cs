using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace HarborPortal.Features.ThreatData;

/// <summary>A fetch or upload that cannot be used; its message is what the admin page shows.</summary>
public sealed class ThreatFeedException(string message) : Exception(message);

/// <summary>A feed file read and checked, ready to replace the stored data.</summary>
public sealed record ParsedFeed(DateTimeOffset? DataDate, string? DataVersion, IReadOnlyList<KevEntry> Kev, IReadOnlyList<EpssScore> Epss)
{
    public int Count => Kev.Count + Epss.Count;
}

/// <summary>Reads CISA's KEV JSON and EPSS's CSV (plain or gzip), refusing anything malformed with a message that says where.</summary>
public static partial class ThreatFeedParsers
{
    public static ParsedFeed Parse(ThreatFeedKind kind, byte[] content, long maxBytes)
    {
        var plain = Decompress(content, maxBytes);
        return kind == ThreatFeedKind.Kev ? ParseKev(plain) : ParseEpss(plain);
    }

    /// <summary>Reads at most <paramref name="maxBytes"/>; more is an error, not a silently truncated file.</summary>
    public static async Task<byte[]> ReadBoundedAsync(Stream stream, long maxBytes, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                throw TooLarge(maxBytes);
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    public static ThreatFeedException TooLarge(long maxBytes) =>
        new($"The file is larger than the limit of {Size(maxBytes)} (ThreatData:MaxBytes); the stored data was kept.");

    private static string Size(long bytes) => bytes >= 1024 * 1024 ? $"{bytes / (1024 * 1024)} MB" : bytes >= 1024 ? $"{bytes / 1024} KB" : $"{bytes} bytes";

    // Gzip by its magic bytes, whatever the URL or file name says.
    private static byte[] Decompress(byte[] content, long maxBytes)
    {
        if (content.Length < 2 || content[0] != 0x1f || content[1] != 0x8b)
        {
            return content;
        }

        try
        {
            using var gzip = new GZipStream(new MemoryStream(content), CompressionMode.Decompress);
            return ReadBoundedAsync(gzip, maxBytes, CancellationToken.None).GetAwaiter().GetResult();
        }
        catch (InvalidDataException exception)
        {
            throw new ThreatFeedException($"The file looks gzip-compressed but cannot be decompressed ({exception.Message}).");
        }
    }

    private static ParsedFeed ParseKev(byte[] content)
    {
        KevCatalog? catalog;
        try
        {
            catalog = JsonSerializer.Deserialize<KevCatalog>(content);
        }
        catch (JsonException exception)
        {
            throw new ThreatFeedException($"The KEV file is not valid JSON: {exception.Message}");
        }

        if (catalog?.Vulnerabilities is not { Count: > 0 } vulnerabilities)
        {
            throw new ThreatFeedException("The KEV file has no 'vulnerabilities' entries: it is not CISA's catalog.");
        }

        if (catalog.Count is { } count && count != vulnerabilities.Count)
        {
            throw new ThreatFeedException($"The KEV catalog says it has {count} entries but lists {vulnerabilities.Count}: the file is incomplete.");
        }

        var entries = new Dictionary<string, KevEntry>(StringComparer.Ordinal);
        for (var i = 0; i < vulnerabilities.Count; i++)
        {
            var item = vulnerabilities[i];
            var cve = item.CveId?.Trim().ToUpperInvariant() ?? "";
            if (!CvePattern().IsMatch(cve))
            {
                throw new ThreatFeedException($"KEV entry {i + 1} has no valid cveID ('{Clip(item.CveId, 40)}').");
            }

            if (!DateOnly.TryParseExact(item.DateAdded, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var added))
            {
                throw new ThreatFeedException($"KEV entry {cve} has no valid dateAdded ('{Clip(item.DateAdded, 40)}').");
            }

            entries[cve] = new KevEntry
            {
                CveId = cve,
                VendorProject = Clip(item.VendorProject, 256),
                Product = Clip(item.Product, 256),
                Name = Clip(item.VulnerabilityName, 512),
                DateAdded = added,
                ShortDescription = Clip(item.ShortDescription, 4096),
                RequiredAction = Clip(item.RequiredAction, 2048),
                DueDate = DateOnly.TryParseExact(item.DueDate, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var due) ? due : null,
                RansomwareUse = Clip(item.KnownRansomwareCampaignUse, 32),
            };
        }

        return new ParsedFeed(catalog.DateReleased, Clip(catalog.CatalogVersion, 64), [.. entries.Values], []);
    }

    private static ParsedFeed ParseEpss(byte[] content)
    {
        using var reader = new StringReader(Encoding.UTF8.GetString(content));
        var first = reader.ReadLine()?.TrimStart('\uFEFF').Trim() ?? "";
        if (!first.StartsWith("#model_version:", StringComparison.Ordinal))
        {
            throw new ThreatFeedException("The EPSS file does not start with '#model_version:…,score_date:…': it is not an EPSS scores file.");
        }

        string? version = null;
        DateTimeOffset? scoreDate = null;
        foreach (var pair in first.TrimStart('#').Split(',', StringSplitOptions.TrimEntries))
        {
            var parts = pair.Split(':', 2, StringSplitOptions.TrimEntries);
            if (parts.Length == 2 && parts[0] == "model_version")
            {
                version = Clip(parts[1], 64);
            }
            else if (parts.Length == 2 && parts[0] == "score_date")
            {
                scoreDate = DateTimeOffset.TryParse(parts[1], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date)
                    ? date
                    : throw new ThreatFeedException($"The EPSS score_date '{Clip(parts[1], 40)}' is not a date.");
            }
        }

        if (scoreDate is null)
        {
            throw new ThreatFeedException("The EPSS file's first line has no score_date.");
        }

        var header = reader.ReadLine()?.Trim();
        if (!string.Equals(header, "cve,epss,percentile", StringComparison.OrdinalIgnoreCase))
        {
            throw new ThreatFeedException($"The EPSS file's second line should be 'cve,epss,percentile', not '{Clip(header, 60)}'.");
        }

        var scores = new Dictionary<string, EpssScore>(StringComparer.Ordinal);
        var lineNumber = 2;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (line.Length == 0)
            {
                continue;
            }

            var fields = line.Split(',');
            var cve = fields[0].Trim().ToUpperInvariant();
            if (fields.Length != 3 || !CvePattern().IsMatch(cve)
                || !double.TryParse(fields[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var probability) || probability is < 0 or > 1
                || !double.TryParse(fields[2], NumberStyles.Float, CultureInfo.InvariantCulture, out var percentile) || percentile is < 0 or > 1)
            {
                throw new ThreatFeedException($"EPSS line {lineNumber} is not 'CVE-id,probability,percentile' with numbers from 0 to 1: '{Clip(line, 80)}'.");
            }

            scores[cve] = new EpssScore { CveId = cve, Probability = probability, Percentile = percentile };
        }

        if (scores.Count == 0)
        {
            throw new ThreatFeedException("The EPSS file has no scores.");
        }

        return new ParsedFeed(scoreDate, version, [], [.. scores.Values]);
    }

    private static string Clip(string? value, int max)
    {
        var text = value?.Trim() ?? "";
        return text.Length > max ? text[..max] : text;
    }

    [GeneratedRegex(@"^CVE-\d{4}-\d{4,}$", RegexOptions.CultureInvariant)]
    private static partial Regex CvePattern();

    private sealed record KevCatalog(
        [property: JsonPropertyName("title")] string? Title,
        [property: JsonPropertyName("catalogVersion")] string? CatalogVersion,
        [property: JsonPropertyName("dateReleased")] DateTimeOffset? DateReleased,
        [property: JsonPropertyName("count")] int? Count,
        [property: JsonPropertyName("vulnerabilities")] List<KevItem>? Vulnerabilities);

    private sealed record KevItem(
        [property: JsonPropertyName("cveID")] string? CveId,
        [property: JsonPropertyName("vendorProject")] string? VendorProject,
        [property: JsonPropertyName("product")] string? Product,
        [property: JsonPropertyName("vulnerabilityName")] string? VulnerabilityName,
        [property: JsonPropertyName("dateAdded")] string? DateAdded,
        [property: JsonPropertyName("shortDescription")] string? ShortDescription,
        [property: JsonPropertyName("requiredAction")] string? RequiredAction,
        [property: JsonPropertyName("dueDate")] string? DueDate,
        [property: JsonPropertyName("knownRansomwareCampaignUse")] string? KnownRansomwareCampaignUse);
}
