using Quartz;

namespace HarborPortal.Features.Triage;

/// <summary>Hourly: risk acceptances whose date has passed end, and their findings reopen by themselves.</summary>
[DisallowConcurrentExecution]
public sealed partial class RiskAcceptanceExpiryJob(TriageCommands commands, TimeProvider time, ILogger<RiskAcceptanceExpiryJob> logger) : IJob
{
    public static readonly JobKey Key = new("risk-acceptance-expiry", "triage");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var reopened = await commands.ExpireRiskAcceptancesAsync(time.GetUtcNow(), cancellationToken);
        if (reopened > 0)
        {
            Log.Reopened(logger, reopened);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Expired risk acceptances reopened {Count} findings")]
        public static partial void Reopened(ILogger logger, int count);
    }
}
