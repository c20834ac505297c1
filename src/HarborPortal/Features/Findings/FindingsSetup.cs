using HarborPortal.Features.Teams;
using Quartz;

namespace HarborPortal.Features.Findings;

public static class FindingsSetup
{
    /// <summary>The findings queue's reads (pages, facets, groups, type-ahead), per request.</summary>
    public static IServiceCollection AddFindings(this IServiceCollection services)
    {
        services.AddScoped<FindingQueue>();
        services.AddScoped<FindingsViewLoader>();
        services.AddScoped<TeamCommands>();

        // The age rules of the priority move with the calendar: a daily pass keeps the stored column true.
        services.AddQuartz(quartz =>
        {
            quartz.AddJob<PriorityRefreshJob>(job => job
                .WithIdentity(PriorityRefreshJob.Key)
                .WithDescription("Recomputes the explained priority of open findings (image age changes with the calendar)."));
            quartz.AddTrigger(trigger => trigger
                .ForJob(PriorityRefreshJob.Key)
                .WithIdentity("priority-refresh-daily", "findings")
                .WithDescription("Every day")
                .WithSimpleSchedule(s => s.WithInterval(TimeSpan.FromDays(1)).RepeatForever())
                .StartAt(DateTimeOffset.UtcNow.AddMinutes(15)));
        });
        return services;
    }
}
