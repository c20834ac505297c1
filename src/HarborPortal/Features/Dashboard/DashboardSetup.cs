using Quartz;

namespace HarborPortal.Features.Dashboard;

public static class DashboardSetup
{
    /// <summary>The dashboard's figures, its options and the daily snapshot job.</summary>
    public static IServiceCollection AddDashboard(this IServiceCollection services)
    {
        services.AddOptions<DashboardOptions>().BindConfiguration(DashboardOptions.SectionName);
        services.AddScoped<DashboardQuery>();
        services.AddSingleton<DashboardCache>();
        services.AddScoped<ArtifactCoverage>();

        services.AddQuartz(quartz =>
        {
            quartz.AddJob<FindingSnapshotJob>(job => job
                .WithIdentity(FindingSnapshotJob.Key)
                .WithDescription("Writes today's finding snapshot (the dashboard's trend) when it is missing."));
            quartz.AddTrigger(trigger => trigger
                .ForJob(FindingSnapshotJob.Key)
                .WithIdentity("finding-snapshot-start", "dashboard")
                .WithDescription("At start, if today's snapshot is missing")
                .StartNow());
            quartz.AddTrigger(trigger => trigger
                .ForJob(FindingSnapshotJob.Key)
                .WithIdentity("finding-snapshot-daily", "dashboard")
                .WithDescription("Every day at 00:05 UTC")
                .WithCronSchedule("0 5 0 * * ?", cron => cron.InTimeZone(TimeZoneInfo.Utc)));
        });
        return services;
    }
}
