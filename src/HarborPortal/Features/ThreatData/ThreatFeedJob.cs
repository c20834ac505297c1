using HarborPortal.Data;
using Quartz;

namespace HarborPortal.Features.ThreatData;

/// <summary>
/// Fetches one feed from its URL: daily for an enabled feed, or at once when an admin presses "Fetch now" (a one-off
/// trigger with <see cref="ManualKey"/>, which runs even while the feed is disabled so that data can be checked first).
/// </summary>
[DisallowConcurrentExecution]
public sealed class ThreatFeedJob(PortalDbContext db, ThreatFeedImporter importer) : IJob
{
    public const string FeedKey = "feed";
    public const string ManualKey = "manual";

    public static JobKey KeyFor(ThreatFeedKind kind) => new($"threat-feed-{kind.ToString().ToLowerInvariant()}", "threat-data");

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var kind = Enum.Parse<ThreatFeedKind>(context.MergedJobDataMap.GetString(FeedKey) ?? throw new InvalidOperationException("A threat feed trigger names no feed."));
        var manual = context.MergedJobDataMap.ContainsKey(ManualKey);
        var feed = await ThreatFeedImporter.GetOrCreateAsync(db, kind, cancellationToken);
        if (!feed.Enabled && !manual)
        {
            return;
        }

        await importer.FetchAsync(kind, cancellationToken);
    }
}
