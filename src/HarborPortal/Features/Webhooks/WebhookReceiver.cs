using System.Buffers;
using System.Globalization;
using HarborPortal.Data;
using HarborPortal.Features.Locations;
using HarborPortal.Features.Scanning;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace HarborPortal.Features.Webhooks;

/// <summary>
/// Handles one delivery to <c>POST /api/webhooks/harbor/{connectionId}</c>. Harbor gives up after about 3 s and its
/// payloads are unreliable, so a webhook is only a hint: the artifacts it names are queued for a targeted sync and
/// answered 202 at once, without calling Harbor. The checks run cheapest first, and nothing is written before all
/// of them have passed: 404 unknown connection, 401 secret, 429 throttle, 400 body.
/// </summary>
public sealed partial class WebhookReceiver(
    PortalDbContext db, SyncRequests syncs, WebhookThrottle throttle, IOptions<WebhookOptions> options,
    TimeProvider time, ILogger<WebhookReceiver> logger)
{
    /// <summary>Who the runs it asks for are requested by.</summary>
    public const string RequestedBy = "webhook";

    public async Task<IResult> ReceiveAsync(long connectionId, HttpRequest request)
    {
        var target = await db.HarborConnections.AsNoTracking()
            .Where(c => c.Id == connectionId)
            .Select(c => new { c.Enabled, SecretHash = db.ConnectionWebhooks.Where(w => w.ConnectionId == c.Id).Select(w => w.SecretHash).FirstOrDefault() })
            .SingleOrDefaultAsync(request.HttpContext.RequestAborted);
        if (target is null)
        {
            Log.Refused(logger, connectionId, StatusCodes.Status404NotFound, "no such connection");
            return Problem(StatusCodes.Status404NotFound, "Not Found", $"There is no connection {connectionId}.");
        }

        var header = request.Headers.Authorization.ToString();
        if (!WebhookSecrets.Matches(header, target.SecretHash))
        {
            // The reason goes to the log only; the caller learns nothing about the connection's webhook settings.
            var reason = target.SecretHash is null ? "webhooks are off for this connection (no secret generated)"
                : header.Length == 0 ? "no Authorization header"
                : "wrong Authorization header";
            Log.Unauthorized(logger, connectionId, reason);
            return Problem(StatusCodes.Status401Unauthorized, "Unauthorized",
                "Send the connection's webhook secret as the Authorization header (Harbor: the webhook's \"Auth Header\").");
        }

        if (!throttle.TryAcquire(connectionId, out var retryAfter))
        {
            Log.Refused(logger, connectionId, StatusCodes.Status429TooManyRequests, "too many webhooks");
            request.HttpContext.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            return Problem(StatusCodes.Status429TooManyRequests, "Too Many Requests", "Too many webhooks for this connection; Harbor will retry.");
        }

        var maxBytes = options.Value.MaxBodyBytes;
        var body = await ReadBoundedAsync(request, maxBytes);
        if (body is null)
        {
            Log.Refused(logger, connectionId, StatusCodes.Status400BadRequest, $"body over {maxBytes} bytes");
            return Problem(StatusCodes.Status400BadRequest, "Bad Request", $"The body is larger than {maxBytes} bytes.");
        }

        var parsed = HarborWebhookPayload.Parse(body.Value);
        if (parsed.Event is not { } webhook)
        {
            Log.Refused(logger, connectionId, StatusCodes.Status400BadRequest, parsed.Error!);
            return Problem(StatusCodes.Status400BadRequest, "Bad Request", parsed.Error!);
        }

        if (!webhook.IsHandled)
        {
            return await IgnoredAsync(connectionId, webhook, "an event type the portal does not act on");
        }

        if (!target.Enabled)
        {
            return await IgnoredAsync(connectionId, webhook, "the connection is disabled");
        }

        var locations = await ConnectionLocations.ForAsync(db, connectionId, CancellationToken.None);
        var inScope = webhook.Artifacts.Where(a => locations.IncludesRepository(a.ProjectName, a.RepositoryName)).ToList();
        if (inScope.Count == 0)
        {
            return await IgnoredAsync(connectionId, webhook, webhook.Artifacts.Count == 0 ? "it names no artifact" : "its repository is not in the scanned locations");
        }

        // Harbor sends several events at once (one per manifest, then one per scan), to any instance: RequestArtifactsAsync
        // takes them one at a time per connection in the database, so that they all land in the same pending run. Not
        // cancelled when Harbor hangs up: the request is already good.
        var start = await syncs.RequestArtifactsAsync(connectionId, inScope, RequestedBy, CancellationToken.None);

        if (start is null)
        {
            // Deleted a moment ago.
            return Problem(StatusCodes.Status404NotFound, "Not Found", $"There is no connection {connectionId}.");
        }

        await RecordAsync(connectionId, webhook.Type, start.RunId);
        Log.Accepted(logger, connectionId, webhook.Type, inScope.Count, Describe(inScope), start.RunId, start.AlreadyRunning);
        return TypedResults.Accepted($"/api/v1/sync-runs/{start.RunId}", new WebhookAccepted(start.RunId, inScope.Count));
    }

    private async Task<IResult> IgnoredAsync(long connectionId, HarborWebhookEvent webhook, string reason)
    {
        await RecordAsync(connectionId, webhook.Type, runId: null);
        Log.Ignored(logger, connectionId, webhook.Type, reason);
        return TypedResults.NoContent();
    }

    private Task RecordAsync(long connectionId, string eventType, long? runId)
    {
        var now = time.GetUtcNow();
        return db.ConnectionWebhooks.Where(w => w.ConnectionId == connectionId).ExecuteUpdateAsync(s => s
            .SetProperty(w => w.LastReceivedAt, now)
            .SetProperty(w => w.LastEventType, eventType)
            .SetProperty(w => w.LastRunId, runId)
            .SetProperty(w => w.ReceivedCount, w => w.ReceivedCount + 1));
    }

    /// <summary>The body, or null when it is longer than <paramref name="maxBytes"/>; never reads more than one byte past it.</summary>
    private static async Task<ReadOnlyMemory<byte>?> ReadBoundedAsync(HttpRequest request, int maxBytes)
    {
        if (request.ContentLength > maxBytes)
        {
            return null;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(maxBytes + 1);
        try
        {
            var length = 0;
            int read;
            while (length <= maxBytes && (read = await request.Body.ReadAsync(buffer.AsMemory(length, maxBytes + 1 - length), request.HttpContext.RequestAborted)) > 0)
            {
                length += read;
            }

            return length > maxBytes ? null : buffer.AsSpan(0, length).ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static string Describe(IReadOnlyList<ArtifactRef> artifacts) =>
        string.Join(", ", artifacts.Take(3).Select(a => $"{a.RepositoryName}@{a.Digest}")) + (artifacts.Count > 3 ? $" and {artifacts.Count - 3} more" : "");

    private static IResult Problem(int status, string title, string detail) => TypedResults.Problem(statusCode: status, title: title, detail: detail);

    private static partial class Log
    {
        // Never the Authorization header, nor any other header: only the connection, the outcome and why.
        [LoggerMessage(1, LogLevel.Information, "Harbor webhook for connection {ConnectionId}: {EventType} names {ArtifactCount} artifact(s) ({Artifacts}); queued in sync run {RunId} (joined an existing run: {Joined})")]
        public static partial void Accepted(ILogger logger, long connectionId, string eventType, int artifactCount, string artifacts, long runId, bool joined);

        [LoggerMessage(2, LogLevel.Information, "Harbor webhook for connection {ConnectionId}: {EventType} ignored, {Reason}")]
        public static partial void Ignored(ILogger logger, long connectionId, string eventType, string reason);

        [LoggerMessage(3, LogLevel.Information, "Harbor webhook for connection {ConnectionId} refused with {Status}: {Reason}")]
        public static partial void Refused(ILogger logger, long connectionId, int status, string reason);

        [LoggerMessage(4, LogLevel.Warning, "Harbor webhook for connection {ConnectionId} refused with 401: {Reason}")]
        public static partial void Unauthorized(ILogger logger, long connectionId, string reason);
    }
}

/// <summary>The 202 answer: the run that will re-read the named artifacts.</summary>
public sealed record WebhookAccepted(long RunId, int Artifacts);
