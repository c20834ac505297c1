using System.Globalization;
using System.Text.Json;

namespace HarborPortal.Features.Findings;

/// <summary>What an export column reads: the finding, and what the export looked up once for every row.</summary>
public sealed record FindingExportRow(Finding Finding, string ConnectionName);

/// <summary>One column of the CSV and JSON exports: its CSV header, its JSON property and how it reads a row.</summary>
public abstract class FindingExportColumn(string header, string jsonName)
{
    public string Header { get; } = header;

    public string JsonName { get; } = jsonName;

    internal JsonEncodedText JsonProperty { get; } = JsonEncodedText.Encode(jsonName);

    /// <summary>The CSV cell's text, before quoting.</summary>
    public abstract string? Text(FindingExportRow row);

    public abstract void WriteJson(Utf8JsonWriter json, FindingExportRow row);
}

/// <summary>
/// The export's columns, in order, for both formats: the one place to add a column (assignee, decision, …).
/// </summary>
public static class FindingExportColumns
{
    public static readonly IReadOnlyList<FindingExportColumn> All =
    [
        new NumberColumn("id", "id", r => r.Finding.Id),
        new TextColumn("status", "status", r => r.Finding.Status.ToString()),
        new TextColumn("priority", "priority", r => r.Finding.Priority.ToString()),
        new TextColumn("severity", "severity", r => r.Finding.Severity.ToString()),
        new TextColumn("vulnerability", "vulnerability", r => r.Finding.VulnerabilityId),
        new TextColumn("package", "package", r => r.Finding.PackageName),
        new TextColumn("installed_version", "installedVersion", r => r.Finding.InstalledVersion),
        new TextColumn("fixed_version", "fixedVersion", r => r.Finding.FixedVersion),
        new ScoreColumn("cvss", "cvss", r => r.Finding.CvssScore),
        new TextColumn("source_tool", "sourceTool", r => r.Finding.SourceTool),
        new TextColumn("connection", "connection", r => r.ConnectionName),
        new TextColumn("project", "project", r => r.Finding.ProjectName),
        new TextColumn("repository", "repository", r => r.Finding.RepositoryName),
        new TextColumn("digest", "digest", r => r.Finding.Digest),
        new ListColumn("tags", "tags", r => r.Finding.Tags.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)),
        new TimeColumn("first_seen", "firstSeen", r => r.Finding.FirstSeenAt),
        new TimeColumn("last_seen", "lastSeen", r => r.Finding.LastSeenAt),
        new TimeColumn("resolved_at", "resolvedAt", r => r.Finding.ResolvedAt),
        new TextColumn("resolved_reason", "resolvedReason", r => r.Finding.ResolvedReason),
        new TextColumn("assigned_to", "assignedTo", r => r.Finding.AssignedTo),
        new NumberColumn("assigned_team_id", "assignedTeamId", r => r.Finding.AssignedTeamId),
        new NumberColumn("triage_decision_id", "triageDecisionId", r => r.Finding.TriageDecisionId),
        new TimeColumn("risk_accepted_until", "riskAcceptedUntil", r => r.Finding.RiskAcceptedUntil),
    ];

    /// <summary>Times in UTC to the second (ISO 8601), the same text in both formats.</summary>
    public static string Time(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private sealed class TextColumn(string header, string jsonName, Func<FindingExportRow, string?> read) : FindingExportColumn(header, jsonName)
    {
        public override string? Text(FindingExportRow row) => read(row);

        public override void WriteJson(Utf8JsonWriter json, FindingExportRow row)
        {
            if (read(row) is { } value)
            {
                json.WriteString(JsonProperty, value);
            }
            else
            {
                json.WriteNull(JsonProperty);
            }
        }
    }

    private sealed class NumberColumn(string header, string jsonName, Func<FindingExportRow, long?> read) : FindingExportColumn(header, jsonName)
    {
        public override string? Text(FindingExportRow row) => read(row)?.ToString(CultureInfo.InvariantCulture);

        public override void WriteJson(Utf8JsonWriter json, FindingExportRow row)
        {
            if (read(row) is { } value)
            {
                json.WriteNumber(JsonProperty, value);
            }
            else
            {
                json.WriteNull(JsonProperty);
            }
        }
    }

    private sealed class ScoreColumn(string header, string jsonName, Func<FindingExportRow, double?> read) : FindingExportColumn(header, jsonName)
    {
        public override string? Text(FindingExportRow row) => read(row)?.ToString("0.0", CultureInfo.InvariantCulture);

        public override void WriteJson(Utf8JsonWriter json, FindingExportRow row)
        {
            if (read(row) is { } value)
            {
                json.WriteNumber(JsonProperty, Math.Round(value, 1));
            }
            else
            {
                json.WriteNull(JsonProperty);
            }
        }
    }

    private sealed class TimeColumn(string header, string jsonName, Func<FindingExportRow, DateTimeOffset?> read) : FindingExportColumn(header, jsonName)
    {
        public override string? Text(FindingExportRow row) => read(row) is { } value ? Time(value) : null;

        public override void WriteJson(Utf8JsonWriter json, FindingExportRow row)
        {
            if (read(row) is { } value)
            {
                json.WriteString(JsonProperty, Time(value));
            }
            else
            {
                json.WriteNull(JsonProperty);
            }
        }
    }

    // A list is an array in JSON and one comma-separated cell in CSV (quoted, so the commas stay inside it).
    private sealed class ListColumn(string header, string jsonName, Func<FindingExportRow, string[]> read) : FindingExportColumn(header, jsonName)
    {
        public override string Text(FindingExportRow row) => string.Join(',', read(row));

        public override void WriteJson(Utf8JsonWriter json, FindingExportRow row)
        {
            json.WriteStartArray(JsonProperty);
            foreach (var item in read(row))
            {
                json.WriteStringValue(item);
            }

            json.WriteEndArray();
        }
    }
}
