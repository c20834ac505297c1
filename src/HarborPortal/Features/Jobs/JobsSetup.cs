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
        var database = DataServiceCollectionExtensions.ResolveConnectionString(builder.Configuration, builder.Environment.ContentRootPath);
        var clusterOptions = builder.Configuration.GetSection(JobsOptions.SectionName).Get<JobsOptions>() ?? new JobsOptions();

        builder.Services.AddQuartz(quartz =>
        {
            // On shutdown, running jobs see their token cancelled and are waited for: a sync ends Cancelled, consistent, not cut off.
            quartz.ConfigureScheduler(scheduler => scheduler.ShutdownJobInterruption = ShutdownJobInterruption.WhenWaitingForJobs);
            // Each job run's log entries carry the run's id, as a request's carry its correlation id.
            quartz.UseJobFactory<JobRunLogScopeFactory>();
            quartz.UsePersistentStore(store =>
            {
                if (database.Provider == DatabaseProvider.Postgres)
                {
                    store.UsePostgres(database.Value);

                    // Several instances on one database: a trigger fires on exactly one node (row locks in qrtz_locks), and
                    // a node that stops checking in has its running jobs re-fired elsewhere when they asked for recovery.
                    // Clustering gives each node a generated instance id; all share the default scheduler name.
                    store.UseClustering(cluster =>
                    {
                        cluster.CheckinInterval = clusterOptions.ClusterCheckinInterval;
                        cluster.CheckinMisfireThreshold = clusterOptions.ClusterCheckinMisfireThreshold;
                    });
                }
                else
                {
                    store.UseSqlite(SqliteFactory.Instance, database.Value);
                }

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

/// <summary>The <c>Jobs</c> section: how the instances of a cluster (PostgreSQL only) watch each other.</summary>
public sealed class JobsOptions
{
    public const string SectionName = "Jobs";

    /// <summary>How often each instance tells the others it is alive.</summary>
    public TimeSpan ClusterCheckinInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How late a check-in may be before the others take the instance for dead and recover its jobs.</summary>
    public TimeSpan ClusterCheckinMisfireThreshold { get; set; } = TimeSpan.FromSeconds(30);
}
