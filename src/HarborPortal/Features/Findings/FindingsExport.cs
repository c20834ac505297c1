using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using HarborPortal.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Net.Http.Headers;

namespace HarborPortal.Features.Findings;

public enum FindingExportFormat
{
    Csv,
    Json,
}

/// <summary>
/// The queue's view as a file: every finding the filter (and the caller's scope) matches, in the page's order, read in
/// keyset chunks through the same query as the page and written to the response as each chunk arrives — memory holds
/// one chunk, never the whole result, and a client that goes away stops the reading.
/// </summary>
public static class FindingsExport
{
    /// <summary>Rows read per query: large enough that the plan's probes cost little, small enough to stay a few MB.</summary>
    public const int ChunkSize = 2000;

    /// <summary>The filter's share of a file name; longer filters are cut at a word boundary.</summary>
    public const int MaxFilterNameLength = 80;

    // What a spreadsheet reads as the start of a formula (OWASP's list): such a cell gets a leading apostrophe.
    private static readonly SearchValues<char> FormulaStarts = SearchValues.Create("=+-@\t\r");
    private static readonly SearchValues<char> NeedsQuotes = SearchValues.Create(",\"\r\n");

    public static string ContentType(FindingExportFormat format) => format switch
    {
        FindingExportFormat.Csv => "text/csv; charset=utf-8; header=present",
        _ => "application/json; charset=utf-8",
    };

    /// <summary>
    /// findings-severity-critical-source-harbor-20261122T0930Z.csv: the filter (without the view's sort and grouping) and
    /// the UTC time, in lower-case letters, digits and dashes only, so that no browser or shell has to guess.
    /// </summary>
    public static string FileName(FindingFilter filter, DateTimeOffset now, FindingExportFormat format)
    {
        var words = new StringBuilder();
        foreach (var (name, value) in filter.ToQuery(includeView: false))
        {
            words.Append('-').Append(name).Append('-').Append(value);
        }

        var described = Sanitise(words.ToString());
        if (described.Length > MaxFilterNameLength)
        {
            var cut = described.LastIndexOf('-', MaxFilterNameLength);
            described = described[..(cut > 0 ? cut : MaxFilterNameLength)];
        }

        var stamp = now.UtcDateTime.ToString("yyyyMMdd'T'HHmm'Z'", CultureInfo.InvariantCulture);
        var extension = format == FindingExportFormat.Csv ? "csv" : "json";
        return described.Length == 0 ? $"findings-{stamp}.{extension}" : $"findings-{described}-{stamp}.{extension}";
    }

    // Lower-case ASCII letters and digits; every other run of characters becomes one dash.
    private static string Sanitise(string text)
    {
        var safe = new StringBuilder(text.Length);
        foreach (var c in text.ToLowerInvariant())
        {
            if (char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c))
            {
                safe.Append(c);
            }
            else if (safe.Length > 0 && safe[^1] != '-')
            {
                safe.Append('-');
            }
        }

        return safe.ToString().TrimEnd('-');
    }

    /// <summary>
    /// One RFC 4180 cell: quoted when it holds a comma, a quote or a line break (quotes doubled), and prefixed with an
    /// apostrophe when it starts like a formula, so that opening the file never runs what a scanner report contained.
    /// </summary>
    public static void AppendCell(StringBuilder line, string? value)
    {
        value ??= "";
        var guarded = value.Length > 0 && FormulaStarts.Contains(value[0]);
        if (value.AsSpan().IndexOfAny(NeedsQuotes) < 0)
        {
            line.Append(guarded ? "'" : "").Append(value);
            return;
        }

        line.Append('"');
        if (guarded)
        {
            line.Append('\'');
        }

        line.Append(value.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
    }

    public static void AppendRow(StringBuilder line, IEnumerable<string?> cells)
    {
        var first = true;
        foreach (var cell in cells)
        {
            if (!first)
            {
                line.Append(',');
            }

            AppendCell(line, cell);
            first = false;
        }

        line.Append("\r\n");
    }

    /// <summary>Every finding of the view, chunk by chunk, in the order the queue pages them.</summary>
    public static async IAsyncEnumerable<IReadOnlyList<Finding>> ChunksAsync(
        FindingQueue queue, FindingFilter filter, FindingScope scope, int chunkSize = ChunkSize, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var view = filter with { Group = FindingGrouping.None };
        string? after = null;
        do
        {
            var chunk = await queue.ReadPageAsync(view, scope, after, chunkSize, cancellationToken);
            if (chunk.Items.Count > 0)
            {
                yield return chunk.Items;
            }

            after = chunk.NextCursor;
        }
        while (after is not null);
    }

    /// <summary>Writes the whole view to <paramref name="output"/>, flushing after every chunk.</summary>
    public static async Task WriteAsync(
        PipeWriter output, FindingExportFormat format, PortalDbContext db, FindingQueue queue, FindingFilter filter, FindingScope scope, CancellationToken cancellationToken)
    {
        var connections = await db.HarborConnections.AsNoTracking().ToDictionaryAsync(c => c.Id, c => c.Name, cancellationToken);
        var chunks = ChunksAsync(queue, filter, scope, cancellationToken: cancellationToken);
        FindingExportRow Row(Finding f) => new(f, connections.GetValueOrDefault(f.ConnectionId) ?? $"connection {f.ConnectionId} (deleted)");

        if (format == FindingExportFormat.Csv)
        {
            await WriteCsvAsync(output, chunks, Row, cancellationToken);
        }
        else
        {
            await WriteJsonAsync(output, chunks, Row, cancellationToken);
        }
    }

    private static async Task WriteCsvAsync(PipeWriter output, IAsyncEnumerable<IReadOnlyList<Finding>> chunks, Func<Finding, FindingExportRow> row, CancellationToken cancellationToken)
    {
        var columns = FindingExportColumns.All;
        var encoder = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false).GetEncoder();
        var text = new StringBuilder(64 * 1024);

        void Encode(bool flush)
        {
            foreach (var part in text.GetChunks())
            {
                encoder.Convert(part.Span, output, flush: false, out _, out _);
            }

            if (flush)
            {
                encoder.Convert([], output, flush: true, out _, out _);
            }

            text.Clear();
        }

        AppendRow(text, columns.Select(c => c.Header));
        Encode(flush: false);
        await output.FlushAsync(cancellationToken);

        var cells = new string?[columns.Count];
        await foreach (var chunk in chunks)
        {
            foreach (var finding in chunk)
            {
                var values = row(finding);
                for (var i = 0; i < cells.Length; i++)
                {
                    cells[i] = columns[i].Text(values);
                }

                AppendRow(text, cells);
                if (text.Length >= 32 * 1024)
                {
                    Encode(flush: false);
                }
            }

            Encode(flush: false);
            await output.FlushAsync(cancellationToken);
        }

        Encode(flush: true);
        await output.FlushAsync(cancellationToken);
    }

    private static async Task WriteJsonAsync(PipeWriter output, IAsyncEnumerable<IReadOnlyList<Finding>> chunks, Func<Finding, FindingExportRow> row, CancellationToken cancellationToken)
    {
        var columns = FindingExportColumns.All;
        await using var json = new Utf8JsonWriter(output);
        json.WriteStartArray();
        await foreach (var chunk in chunks)
        {
            foreach (var finding in chunk)
            {
                var values = row(finding);
                json.WriteStartObject();
                foreach (var column in columns)
                {
                    column.WriteJson(json, values);
                }

                json.WriteEndObject();
            }

            json.Flush();
            await output.FlushAsync(cancellationToken);
        }

        json.WriteEndArray();
        json.Flush();
        await output.FlushAsync(cancellationToken);
    }
}

/// <summary>An export as an endpoint's answer: the file's headers, then the rows streamed into the body.</summary>
public sealed class FindingsExportResult(FindingFilter filter, FindingScope scope, FindingExportFormat format, string fileName) : IResult
{
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = FindingsExport.ContentType(format);
        response.Headers.ContentDisposition = new ContentDispositionHeaderValue("attachment") { FileName = fileName }.ToString();
        // Findings are sensitive: no shared cache keeps a copy.
        response.Headers.CacheControl = "no-store";

        var services = httpContext.RequestServices;
        await FindingsExport.WriteAsync(response.BodyWriter, format, services.GetRequiredService<PortalDbContext>(), services.GetRequiredService<FindingQueue>(),
            filter, scope, httpContext.RequestAborted);
    }
}
