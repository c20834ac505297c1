using Quartz;

namespace HarborPortal.Features.ThreatData;

public static class ThreatDataSetup
{
    /// <summary>CISA KEV and EPSS: daily fetch jobs (each feed off until an admin enables it), uploads, the priority lookup.</summary>
    public static IServiceCollection AddThreatData(this IServiceCollection services)
    {
        services.AddOptions<ThreatDataOptions>().BindConfiguration(ThreatDataOptions.SectionName);
        services.AddScoped<ThreatFeedImporter>();
        services.AddScoped<ThreatDataCommands>();
        // The importer bounds the time itself (ThreatData:Timeout), per download rather than per request.
        services.AddHttpClient(ThreatFeedImporter.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan);

        services.AddQuartz(quartz =>
        {
            foreach (var kind in Enum.GetValues<ThreatFeedKind>())
            {
                var key = ThreatFeedJob.KeyFor(kind);
                quartz.AddJob<ThreatFeedJob>(job => job
                    .WithIdentity(key)
                    .StoreDurably()
                    .UsingJobData(ThreatFeedJob.FeedKey, kind.ToString())
                    .WithDescription($"Fetches the {Describe(kind)} feed (when enabled) and updates the priority of the findings it names."));
                quartz.AddTrigger(trigger => trigger
                    .ForJob(key)
                    .WithIdentity($"{key.Name}-daily", key.Group)
                    .WithDescription("Every day")
                    .WithSimpleSchedule(s => s.WithInterval(TimeSpan.FromDays(1)).RepeatForever())
                    .StartAt(DateTimeOffset.UtcNow.AddMinutes(20)));
            }
        });
        return services;
    }

    public static string Describe(ThreatFeedKind kind) => kind == ThreatFeedKind.Kev ? "CISA KEV" : "EPSS";
}
