using HarborPortal.Data;
using HarborPortal.Features.Connections;
using HarborPortal.Features.Operations;
using Microsoft.Data.Sqlite;
using Quartz;

namespace HarborPortal.Features.Jobs;

public static class JobsSetup
{
    /// <summary>
    /// Quartz with its persistent store in the portal's own database (schema created at start), so schedules
    /// and one-off triggers survive a restart. Jobs are resolved from DI per run (scoped DbContext is fine).
    /// </summary>
    public static WebApplicationBuilder AddPortalJobs(this WebApplicationBuilder builder)
    {
        var connectionString = DataServiceCollectionExtensions.SqliteConnectionString(builder.Configuration, builder.Environment.ContentRootPath);

        builder.Services.AddQuartz(quartz =>
        {
            // On shutdown, running jobs see their token cancelled and are waited for: a sync ends Cancelled, consistent, not cut off.
            quartz.ConfigureScheduler(scheduler => scheduler.ShutdownJobInterruption = ShutdownJobInterruption.WhenWaitingForJobs);
            // Each job run's log entries carry the run's id, as a request's carry its correlation id.
            quartz.UseJobFactory<JobRunLogScopeFactory>();
            quartz.UsePersistentStore(store =>
            {
                store.UseSqlite(SqliteFactory.Instance, connectionString);
                store.UseSystemTextJsonSerializer();
                store.ProvisionSchema();

                // Each job's last run (when, result, duration) in the same database, for the Jobs page and every node.
                store.UseExecutionHistory();
            });

            quartz.AddJob<HousekeepingJob>(job => job
                .WithIdentity(HousekeepingJob.Key)
                .WithDescription("Deletes sessions that ended or expired more than 30 days ago."));
            quartz.AddTrigger(trigger => trigger
                .ForJob(HousekeepingJob.Key)
                .WithIdentity("housekeeping-hourly", "system")
                .WithDescription("Every hour")
                .WithSimpleSchedule(s => s.WithInterval(TimeSpan.FromHours(1)).RepeatForever())
                .StartAt(DateTimeOffset.UtcNow.AddMinutes(5)));

            quartz.AddJob<DailyVerificationJob>(job => job
                .WithIdentity(DailyVerificationJob.Key)
                .WithDescription("Verifies connectivity of every enabled Harbor connection (robots and certificates expire)."));
            quartz.AddTrigger(trigger => trigger
                .ForJob(DailyVerificationJob.Key)
                .WithIdentity("verify-connections-daily", "connections")
                .WithDescription("Every day")
                .WithSimpleSchedule(s => s.WithInterval(TimeSpan.FromDays(1)).RepeatForever())
                .StartAt(DateTimeOffset.UtcNow.AddMinutes(10)));
        });
        builder.Services.AddQuartzHostedService(options => options.WaitForJobsToComplete = true);
        return builder;
    }
}
