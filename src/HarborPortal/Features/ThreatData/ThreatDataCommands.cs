using System.Security.Claims;
using HarborPortal.Data;
using HarborPortal.Features.Audit;
using Microsoft.Extensions.Options;
using Quartz;

namespace HarborPortal.Features.ThreatData;

/// <summary>An admin's changes to the feeds: settings, "Fetch now" and uploads, each audited.</summary>
public sealed class ThreatDataCommands(
    PortalDbContext db, ThreatFeedImporter importer, ISchedulerFactory schedulers, AuditLog audit, IOptions<ThreatDataOptions> options, TimeProvider time)
{
    /// <summary>Null when saved, else the message the admin sees (nothing changed).</summary>
    public async Task<string?> SaveSettingsAsync(ThreatFeedKind kind, bool enabled, string? url, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var wanted = string.IsNullOrWhiteSpace(url) || url.Trim() == options.Value.DefaultUrl(kind) ? null : url.Trim();
        if (wanted is not null && ThreatFeedUrls.Validate(wanted) is { } invalid)
        {
            await audit.WriteAsync("threat-data.update", false, user.Identity?.Name, null, Target(kind), invalid, cancellationToken);
            return invalid;
        }

        var feed = await ThreatFeedImporter.GetOrCreateAsync(db, kind, cancellationToken);
        var changes = new List<string>();
        if (feed.Enabled != enabled)
        {
            changes.Add(enabled ? "enabled" : "disabled");
        }

        if (feed.Url != wanted)
        {
            changes.Add($"URL {wanted ?? "default (" + options.Value.DefaultUrl(kind) + ")"}");
        }

        var toggled = feed.Enabled != enabled;
        feed.Enabled = enabled;
        feed.Url = wanted;
        feed.UpdatedAt = time.GetUtcNow();
        feed.UpdatedBy = user.Identity?.Name;
        await db.SaveChangesAsync(cancellationToken);

        // Turning a feed on or off moves the priority of every finding its data names; the daily refresh would do it too, a day late.
        var prioritiesChanged = toggled
            ? await ThreatPriorities.RecomputeAsync(db, await ThreatPriorities.EffectiveAsync(db, kind, cancellationToken), feed.UpdatedAt.Value, cancellationToken)
            : 0;
        var details = (changes.Count == 0 ? "no change" : string.Join("; ", changes)) + (toggled ? $"; priority changed on {prioritiesChanged} findings" : "");
        await audit.WriteAsync("threat-data.update", true, user.Identity?.Name, null, Target(kind), details, cancellationToken);
        return null;
    }

    /// <summary>Schedules the feed's job at once; the page shows progress until the attempt is recorded.</summary>
    public async Task RequestFetchAsync(ThreatFeedKind kind, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var feed = await ThreatFeedImporter.GetOrCreateAsync(db, kind, cancellationToken);
        feed.FetchRequestedAt = time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);

        var scheduler = await schedulers.GetScheduler(cancellationToken);
        await scheduler.ScheduleJob(TriggerBuilder.Create()
            .ForJob(ThreatFeedJob.KeyFor(kind))
            .WithIdentity($"threat-feed-now-{Guid.NewGuid():n}", "threat-data")
            .UsingJobData(ThreatFeedJob.FeedKey, kind.ToString())
            .UsingJobData(ThreatFeedJob.ManualKey, "true")
            .StartNow()
            .Build(), new ScheduleJobOptions(), cancellationToken);
        await audit.WriteAsync("threat-data.fetch", true, user.Identity?.Name, null, Target(kind), $"fetch requested from {feed.Url ?? options.Value.DefaultUrl(kind)}", cancellationToken);
    }

    public async Task<ThreatFeedResult> UploadAsync(ThreatFeedKind kind, Stream file, string fileName, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var result = await importer.UploadAsync(kind, file, fileName, cancellationToken);
        await audit.WriteAsync("threat-data.upload", result.Succeeded, user.Identity?.Name, null, Target(kind), $"{Path.GetFileName(fileName)}: {result.Message}", cancellationToken);
        return result;
    }

    private static string Target(ThreatFeedKind kind) => $"threat-feed {kind}";
}
