using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace HarborPortal.Features.Webhooks;

/// <summary>
/// A token bucket per connection: <see cref="WebhookOptions.BurstLimit"/> tokens, refilled at
/// <see cref="WebhookOptions.PerMinute"/>. Only callers that proved the secret draw from it, so nobody without the
/// secret can spend a connection's budget and silence Harbor's real deliveries. Per instance: behind a load balancer
/// each portal instance allows this much.
/// </summary>
public sealed class WebhookThrottle(IOptions<WebhookOptions> options, TimeProvider time)
{
    private readonly ConcurrentDictionary<long, Bucket> _buckets = new();

    /// <summary>True when the call may go on; otherwise how long until it would.</summary>
    public bool TryAcquire(long connectionId, out TimeSpan retryAfter)
    {
        var limits = options.Value;
        var bucket = _buckets.GetOrAdd(connectionId, _ => new Bucket(limits.BurstLimit, time.GetUtcNow()));
        lock (bucket)
        {
            var now = time.GetUtcNow();
            var perSecond = limits.PerMinute / 60.0;
            bucket.Tokens = Math.Min(limits.BurstLimit, bucket.Tokens + (Math.Max(0, (now - bucket.RefilledAt).TotalSeconds) * perSecond));
            bucket.RefilledAt = now;
            if (bucket.Tokens >= 1)
            {
                bucket.Tokens -= 1;
                retryAfter = TimeSpan.Zero;
                return true;
            }

            retryAfter = perSecond <= 0 ? TimeSpan.FromMinutes(1) : TimeSpan.FromSeconds((1 - bucket.Tokens) / perSecond);
            return false;
        }
    }

    private sealed class Bucket(double tokens, DateTimeOffset refilledAt)
    {
        public double Tokens { get; set; } = tokens;

        public DateTimeOffset RefilledAt { get; set; } = refilledAt;
    }
}
