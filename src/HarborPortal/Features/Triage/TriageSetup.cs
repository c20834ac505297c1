using Quartz;

namespace HarborPortal.Features.Triage;

public static class TriageSetup
{
    /// <summary>Triage's commands (pages, bulk actions, API) and the hourly expiry of risk acceptances.</summary>
    public static IServiceCollection AddTriage(this IServiceCollection services)
    {
        services.AddScoped<TriageCommands>();
        services.AddScoped<FindingTimelineLoader>();
        services.AddQuartz(quartz =>
        {
            quartz.AddJob<RiskAcceptanceExpiryJob>(job => job
                .WithIdentity(RiskAcceptanceExpiryJob.Key)
                .WithDescription("Reopens the findings of risk acceptances whose expiry date has passed."));
            quartz.AddTrigger(trigger => trigger
                .ForJob(RiskAcceptanceExpiryJob.Key)
                .WithIdentity("risk-acceptance-expiry-hourly", "triage")
                .WithDescription("Every hour")
                .WithSimpleSchedule(s => s.WithInterval(TimeSpan.FromHours(1)).RepeatForever())
                .StartAt(DateTimeOffset.UtcNow.AddMinutes(5)));
        });
        return services;
    }
}
