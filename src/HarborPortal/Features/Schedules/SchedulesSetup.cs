namespace HarborPortal.Features.Schedules;

public static class SchedulesSetup
{
    /// <summary>Per-connection sync schedules as Quartz cron triggers, checked against the table at every start.</summary>
    public static IServiceCollection AddSchedules(this IServiceCollection services)
    {
        services.AddOptions<SchedulesOptions>()
            .BindConfiguration(SchedulesOptions.SectionName)
            .Validate(o => o.IsValid(), "Schedules:TimeZone is not a time zone this machine knows (use an IANA id such as Europe/Berlin, or UTC).")
            .ValidateOnStart();
        services.AddScoped<ConnectionSchedules>();
        services.AddHostedService<ScheduleReconciler>();
        return services;
    }
}

/// <summary>
/// At start, makes Quartz's persistent triggers agree with the <see cref="SyncSchedule"/> table (a restored backup, a
/// crash between the two writes, a changed time zone). The database is migrated before hosted services start.
/// </summary>
internal sealed class ScheduleReconciler(IServiceScopeFactory scopes) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<ConnectionSchedules>().ReconcileAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
