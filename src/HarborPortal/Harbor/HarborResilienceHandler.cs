using System.Net;
using System.Security.Authentication;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace HarborPortal.Harbor;

/// <summary>
/// Per connection: retries 429/5xx/transport errors with exponential backoff and jitter (honouring <c>Retry-After</c>),
/// times out each attempt, and keeps at most <c>MaxConcurrency</c> requests in flight.
/// </summary>
internal sealed partial class HarborResilienceHandler : DelegatingHandler
{
    private readonly ResiliencePipeline<HttpResponseMessage> _pipeline;
    private readonly SemaphoreSlim _inFlight;
    private readonly ILogger _logger;

    public HarborResilienceHandler(HarborClientOptions options, int maxConcurrency, TimeSpan timeout, TimeProvider time, ILogger logger)
    {
        _logger = logger;
        _inFlight = new SemaphoreSlim(Math.Max(1, maxConcurrency));
        _pipeline = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = Math.Max(0, options.MaxAttempts - 1),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryBaseDelay,
                MaxDelay = options.MaxRetryDelay,
                ShouldHandle = args => ValueTask.FromResult(IsTransient(args.Outcome)),
                DelayGenerator = args => ValueTask.FromResult(RetryAfter(args.Outcome.Result, time, options.MaxRetryDelay)),
                OnRetry = args =>
                {
                    var reason = args.Outcome.Result is { } response ? $"HTTP {(int)response.StatusCode}" : args.Outcome.Exception?.GetType().Name ?? "unknown";
                    Log.Retrying(_logger, args.AttemptNumber + 1, reason, args.RetryDelay);
                    return default;
                },
            })
            .AddTimeout(timeout)
            .Build();
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        await _pipeline.ExecuteAsync(
            async token =>
            {
                // The slot is held per attempt, never during a backoff, and until the body is read so the limit is real.
                await _inFlight.WaitAsync(token);
                try
                {
                    var response = await base.SendAsync(request, token);
                    await response.Content.LoadIntoBufferAsync(token);
                    return response;
                }
                finally
                {
                    _inFlight.Release();
                }
            },
            cancellationToken);

    private static bool IsTransient(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        // A certificate problem will not fix itself on retry.
        { Exception: HttpRequestException { InnerException: AuthenticationException } } => false,
        { Exception: HttpRequestException or TimeoutRejectedException } => true,
        { Result: { } response } => response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.InternalServerError
            or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout,
        _ => false,
    };

    private static TimeSpan? RetryAfter(HttpResponseMessage? response, TimeProvider time, TimeSpan max)
    {
        var header = response?.Headers.RetryAfter;
        var delay = header?.Delta ?? (header?.Date is { } date ? date - time.GetUtcNow() : null);
        return delay is { } d ? TimeSpan.FromTicks(Math.Clamp(d.Ticks, 0, max.Ticks)) : null;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inFlight.Dispose();
        }

        base.Dispose(disposing);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Harbor request failed ({Reason}); attempt {Attempt} in {Delay}")]
        public static partial void Retrying(ILogger logger, int attempt, string reason, TimeSpan delay);
    }
}
