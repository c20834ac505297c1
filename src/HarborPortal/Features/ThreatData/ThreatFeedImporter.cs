using System.Data.Common;
using System.Globalization;
using HarborPortal.Data;
using HarborPortal.Features.Findings;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Options;

namespace HarborPortal.Features.ThreatData;

/// <summary>What a fetch or upload did, in the words the admin page and the API show.</summary>
public sealed record ThreatFeedResult(bool Succeeded, string Message, int Entries = 0, int PrioritiesChanged = 0);

/// <summary>
/// Replaces a feed's stored data from its URL or an uploaded file. Parsing and checking happen before anything is
/// written, and the replacement is one transaction, so a failed download or a malformed file keeps the previous data and
/// only records the error. Afterwards the findings whose vulnerability changed KEV/EPSS standing get their priority again.
/// </summary>
public sealed partial class ThreatFeedImporter(
    PortalDbContext db, IHttpClientFactory httpClients, IOptions<ThreatDataOptions> options, TimeProvider time, ILogger<ThreatFeedImporter> logger)
{
    public const string HttpClientName = "threat-data";

    public static async Task<ThreatFeed> GetOrCreateAsync(PortalDbContext db, ThreatFeedKind kind, CancellationToken cancellationToken)
    {
        var feed = await db.ThreatFeeds.SingleOrDefaultAsync(f => f.Kind == kind, cancellationToken);
        if (feed is null)
        {
            feed = new ThreatFeed { Kind = kind };
            db.ThreatFeeds.Add(feed);
        }

        return feed;
    }

    public async Task<ThreatFeedResult> FetchAsync(ThreatFeedKind kind, CancellationToken cancellationToken)
    {
        var feed = await GetOrCreateAsync(db, kind, cancellationToken);
        var url = feed.Url ?? options.Value.DefaultUrl(kind);
        byte[] content;
        try
        {
            content = await DownloadAsync(url, cancellationToken);
        }
        catch (ThreatFeedException exception)
        {
            return await FailAsync(feed, exception.Message, cancellationToken);
        }

        return await ImportAsync(feed, content, url, cancellationToken);
    }

    public async Task<ThreatFeedResult> UploadAsync(ThreatFeedKind kind, Stream file, string fileName, CancellationToken cancellationToken)
    {
        var feed = await GetOrCreateAsync(db, kind, cancellationToken);
        byte[] content;
        try
        {
            content = await ThreatFeedParsers.ReadBoundedAsync(file, options.Value.MaxBytes, cancellationToken);
        }
        catch (ThreatFeedException exception)
        {
            return await FailAsync(feed, exception.Message, cancellationToken);
        }

        var name = Path.GetFileName(fileName);
        return await ImportAsync(feed, content, "upload: " + (name.Length > 200 ? name[..200] : name), cancellationToken);
    }

    private async Task<byte[]> DownloadAsync(string url, CancellationToken cancellationToken)
    {
        if (ThreatFeedUrls.Validate(url) is { } invalid)
        {
            throw new ThreatFeedException(invalid);
        }

        var uri = new Uri(url.Trim());
        var limits = options.Value;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(limits.Timeout);
        try
        {
            var client = httpClients.CreateClient(HttpClientName);
            using var response = await client.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                throw new ThreatFeedException($"{uri.Host} answered {(int)response.StatusCode} {response.ReasonPhrase}; the stored data was kept.");
            }

            if (response.Content.Headers.ContentLength > limits.MaxBytes)
            {
                throw ThreatFeedParsers.TooLarge(limits.MaxBytes);
            }

            await using var body = await response.Content.ReadAsStreamAsync(timeout.Token);
            return await ThreatFeedParsers.ReadBoundedAsync(body, limits.MaxBytes, timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ThreatFeedException($"{uri.Host} did not send the file within {limits.Timeout.TotalSeconds:0} seconds (ThreatData:Timeout); the stored data was kept.");
        }
        catch (HttpRequestException exception)
        {
            throw new ThreatFeedException($"Cannot read {uri.Host}: {exception.Message}");
        }
    }

    private async Task<ThreatFeedResult> ImportAsync(ThreatFeed feed, byte[] content, string source, CancellationToken cancellationToken)
    {
        ParsedFeed parsed;
        try
        {
            parsed = ThreatFeedParsers.Parse(feed.Kind, content, options.Value.MaxBytes);
        }
        catch (ThreatFeedException exception)
        {
            return await FailAsync(feed, exception.Message, cancellationToken);
        }

        var now = time.GetUtcNow();
        var changed = await ReplaceAsync(feed, parsed, source, now, cancellationToken);
        var prioritiesChanged = await ThreatPriorities.RecomputeAsync(db, changed, now, cancellationToken);
        Log.Imported(logger, feed.Kind, parsed.Count, source, prioritiesChanged);
        var date = parsed.DataDate is { } d ? $" of {d:yyyy-MM-dd}" : "";
        return new ThreatFeedResult(true, $"Stored {parsed.Count:N0} entries{date}; the priority of {prioritiesChanged:N0} findings changed.", parsed.Count, prioritiesChanged);
    }

    private async Task<ThreatFeedResult> FailAsync(ThreatFeed feed, string message, CancellationToken cancellationToken)
    {
        feed.LastAttemptAt = time.GetUtcNow();
        feed.LastError = message.Length > 1024 ? message[..1024] : message;
        await db.SaveChangesAsync(cancellationToken);
        Log.Failed(logger, feed.Kind, message);
        return new ThreatFeedResult(false, message);
    }

    // One transaction: the readers see the old entries or the new ones, never a mix or none.
    private async Task<IReadOnlyCollection<string>> ReplaceAsync(ThreatFeed feed, ParsedFeed parsed, string source, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var before = feed.Enabled ? await ThreatPriorities.EffectiveAsync(db, feed.Kind, cancellationToken) : [];
        var connection = db.Database.GetDbConnection();
        var dbTransaction = transaction.GetDbTransaction();
        if (feed.Kind == ThreatFeedKind.Kev)
        {
            await db.KevEntries.ExecuteDeleteAsync(cancellationToken);
            if (db is PostgresPortalDbContext)
            {
                await InsertColumnsAsync(connection, dbTransaction,
                    """INSERT INTO "KevEntries" ("CveId", "VendorProject", "Product", "Name", "DateAdded", "ShortDescription", "RequiredAction", "DueDate", "RansomwareUse") SELECT * FROM unnest(@p0, @p1, @p2, @p3, @p4, @p5, @p6, @p7, @p8)""",
                    parsed.Kev, rows => [Column(rows, e => e.CveId), Column(rows, e => e.VendorProject), Column(rows, e => e.Product), Column(rows, e => e.Name),
                        Column(rows, e => e.DateAdded), Column(rows, e => e.ShortDescription), Column(rows, e => e.RequiredAction), Column(rows, e => e.DueDate),
                        Column(rows, e => e.RansomwareUse)],
                    cancellationToken);
            }
            else
            {
                await InsertAsync(connection, dbTransaction,
                    """INSERT INTO "KevEntries" ("CveId", "VendorProject", "Product", "Name", "DateAdded", "ShortDescription", "RequiredAction", "DueDate", "RansomwareUse") VALUES (@p0, @p1, @p2, @p3, @p4, @p5, @p6, @p7, @p8)""",
                    parsed.Kev, e => [e.CveId, e.VendorProject, e.Product, e.Name, e.DateAdded.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), e.ShortDescription, e.RequiredAction, e.DueDate?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), e.RansomwareUse],
                    cancellationToken);
            }
        }
        else
        {
            await db.EpssScores.ExecuteDeleteAsync(cancellationToken);
            if (db is PostgresPortalDbContext)
            {
                await InsertColumnsAsync(connection, dbTransaction,
                    """INSERT INTO "EpssScores" ("CveId", "Probability", "Percentile") SELECT * FROM unnest(@p0, @p1, @p2)""",
                    parsed.Epss, rows => [Column(rows, e => e.CveId), Column(rows, e => e.Probability), Column(rows, e => e.Percentile)],
                    cancellationToken);
            }
            else
            {
                await InsertAsync(connection, dbTransaction,
                    """INSERT INTO "EpssScores" ("CveId", "Probability", "Percentile") VALUES (@p0, @p1, @p2)""",
                    parsed.Epss, e => [e.CveId, e.Probability, e.Percentile],
                    cancellationToken);
            }
        }

        feed.Source = source;
        feed.DataDate = parsed.DataDate;
        feed.DataVersion = parsed.DataVersion;
        feed.FetchedAt = now;
        feed.EntryCount = parsed.Count;
        feed.LastAttemptAt = now;
        feed.LastError = null;
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);

        if (!feed.Enabled)
        {
            return [];
        }

        var after = feed.Kind == ThreatFeedKind.Kev
            ? parsed.Kev.Select(e => e.CveId).ToHashSet(StringComparer.Ordinal)
            : parsed.Epss.Where(e => e.Probability >= PriorityRules.HighExploitProbability).Select(e => e.CveId).ToHashSet(StringComparer.Ordinal);
        after.SymmetricExceptWith(before);
        return after;
    }

    private static async Task InsertAsync<T>(DbConnection connection, DbTransaction transaction, string sql, IEnumerable<T> rows, Func<T, object?[]> values, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        DbParameter[]? parameters = null;
        foreach (var row in rows)
        {
            var fields = values(row);
            if (parameters is null)
            {
                parameters = new DbParameter[fields.Length];
                for (var i = 0; i < fields.Length; i++)
                {
                    parameters[i] = command.CreateParameter();
                    parameters[i].ParameterName = "@p" + i;
                    command.Parameters.Add(parameters[i]);
                }

                await command.PrepareAsync(cancellationToken);
            }

            for (var i = 0; i < fields.Length; i++)
            {
                parameters[i].Value = fields[i] ?? DBNull.Value;
            }

            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    // PostgreSQL: rows go in as one array per column, a chunk per statement (one round trip per row over TCP would take
    // minutes for EPSS's quarter of a million scores).
    private const int RowsPerStatement = 50_000;

    private static async Task InsertColumnsAsync<T>(
        DbConnection connection, DbTransaction transaction, string sql, IReadOnlyList<T> rows, Func<ArraySegment<T>, object[]> columns, CancellationToken cancellationToken)
    {
        var all = rows as T[] ?? [.. rows];
        for (var start = 0; start < all.Length; start += RowsPerStatement)
        {
            var chunk = new ArraySegment<T>(all, start, Math.Min(RowsPerStatement, all.Length - start));
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = sql;
            var values = columns(chunk);
            for (var i = 0; i < values.Length; i++)
            {
                var parameter = command.CreateParameter();
                parameter.ParameterName = "@p" + i;
                parameter.Value = values[i];
                command.Parameters.Add(parameter);
            }

            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    private static TValue[] Column<T, TValue>(ArraySegment<T> rows, Func<T, TValue> value)
    {
        var column = new TValue[rows.Count];
        for (var i = 0; i < column.Length; i++)
        {
            column[i] = value(rows[i]);
        }

        return column;
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Threat feed {Feed}: stored {Count} entries from {Source}; {Changed} findings changed priority")]
        public static partial void Imported(ILogger logger, ThreatFeedKind feed, int count, string source, int changed);

        [LoggerMessage(2, LogLevel.Warning, "Threat feed {Feed}: kept the stored data: {Error}")]
        public static partial void Failed(ILogger logger, ThreatFeedKind feed, string error);
    }
}
