using System.Text.Json;

namespace HarborPortal.Features.Imports;

public enum ReportFormat
{
    Trivy,
    Sarif,
}

/// <summary>A parsed upload, its format told by its own fields.</summary>
public sealed record ParsedReport(ReportFormat Format, UploadedReport Report);

/// <summary>
/// Reads an uploaded file as a Trivy JSON report or a SARIF 2.1.0 log. The file is deserialised while it streams (the
/// serializer keeps a small buffer, never the whole text), strictly: no comments, no trailing commas. Every refusal is a
/// sentence for the person who uploaded it, with the line and position for broken JSON.
/// </summary>
public static class ReportParser
{
    private static readonly JsonSerializerOptions Options = new()
    {
        AllowTrailingCommas = false,
        ReadCommentHandling = JsonCommentHandling.Disallow,
        MaxDepth = 64,
    };

    public static async Task<(ParsedReport? Report, string? Error)> ParseAsync(Stream file, ReportFormat? expected, CancellationToken cancellationToken)
    {
        UploadedReport? report;
        try
        {
            report = await JsonSerializer.DeserializeAsync<UploadedReport>(file, Options, cancellationToken);
        }
        catch (JsonException e)
        {
            return (null, Describe(e));
        }

        if (report is null)
        {
            return (null, "The file holds JSON null, not a report.");
        }

        ReportFormat? format = report.Runs is not null || report.Version is not null ? ReportFormat.Sarif
            : report.SchemaVersion is not null || report.Results is not null || report.ArtifactName is not null ? ReportFormat.Trivy
            : null;
        if (format is null)
        {
            return (null, "The file is JSON but neither a Trivy JSON report (SchemaVersion, Results) nor a SARIF 2.1.0 log (version, runs).");
        }

        if (expected is { } chosen && chosen != format)
        {
            return (null, format == ReportFormat.Sarif
                ? "This file is a SARIF log, not a Trivy JSON report: choose SARIF (or let the portal detect the format)."
                : "This file is a Trivy JSON report, not a SARIF log: choose Trivy JSON (or let the portal detect the format).");
        }

        var error = format == ReportFormat.Trivy ? CheckTrivy(report) : CheckSarif(report);
        return error is null ? (new ParsedReport(format.Value, report), null) : (null, error);
    }

    private static string? CheckTrivy(UploadedReport report)
    {
        if (report.SchemaVersion != 2)
        {
            return report.SchemaVersion is null
                ? "The Trivy report has no SchemaVersion: upload the output of 'trivy image -f json' (schema version 2)."
                : $"Trivy report schema version {report.SchemaVersion} is not supported: upload the output of 'trivy image -f json' from Trivy 0.20 or later (schema version 2).";
        }

        for (var r = 0; r < (report.Results?.Count ?? 0); r++)
        {
            var vulnerabilities = report.Results![r].Vulnerabilities ?? [];
            for (var v = 0; v < vulnerabilities.Count; v++)
            {
                if (string.IsNullOrWhiteSpace(vulnerabilities[v].VulnerabilityID) || string.IsNullOrWhiteSpace(vulnerabilities[v].PkgName))
                {
                    return $"Results[{r}].Vulnerabilities[{v}] has no VulnerabilityID or no PkgName: the file is not a Trivy report as 'trivy image -f json' writes it.";
                }
            }
        }

        return null;
    }

    private static string? CheckSarif(UploadedReport report)
    {
        if (report.Version != "2.1.0")
        {
            return report.Version is null
                ? "The SARIF log has no version: only SARIF 2.1.0 is supported."
                : $"SARIF version {report.Version} is not supported: only SARIF 2.1.0 is.";
        }

        if (report.Runs is not { Count: > 0 } runs)
        {
            return "The SARIF log has no runs: there is no tool to take results from.";
        }

        for (var r = 0; r < runs.Count; r++)
        {
            if (string.IsNullOrWhiteSpace(runs[r].Tool?.Driver?.Name))
            {
                return $"runs[{r}].tool.driver.name is missing: the tool's name becomes the findings' source tool.";
            }

            var results = runs[r].Results ?? [];
            var rules = runs[r].Tool!.Driver!.Rules ?? [];
            for (var i = 0; i < results.Count; i++)
            {
                var index = results[i].RuleIndex;
                if (string.IsNullOrWhiteSpace(results[i].RuleId) && (index is null || index < 0 || index >= rules.Count || string.IsNullOrWhiteSpace(rules[index.Value].Id)))
                {
                    return $"runs[{r}].results[{i}] names no rule (ruleId or ruleIndex): the rule is the finding's vulnerability id.";
                }
            }
        }

        return null;
    }

    private static string Describe(JsonException e)
    {
        // System.Text.Json counts lines and bytes from 0; editors count from 1.
        var where = e.LineNumber is { } line ? $"line {line + 1}, position {(e.BytePositionInLine ?? 0) + 1}" : "an unknown place";
        var message = e.Message;
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        message = (cut > 0 ? message[..cut] : message).TrimEnd('.', ' ');
        // The reader's own exception type is internal: its name is the only sign of broken syntax rather than a wrong shape.
        var isSyntax = e.InnerException?.GetType().Name == "JsonReaderException";
        if (message.Contains("does not contain any JSON tokens", StringComparison.Ordinal))
        {
            return "The file holds no JSON (it is blank).";
        }

        return isSyntax
            ? $"The file is not valid JSON at {where}: {message}."
            : $"The file does not have the shape of a Trivy or SARIF report at {e.Path} ({where}): {message}.";
    }
}
