using Microsoft.Extensions.Options;
using Quartz;
using Quartz.Extensibility;
using Quartz.Impl;

namespace HarborPortal.Features.Operations;

/// <summary>
/// Puts every job run's log entries in a scope naming the job and the run (Quartz's fire instance id, the same id its
/// execution history keeps), the background counterpart of a request's correlation id. A job listener cannot do this:
/// a logging scope lives in the async flow, and the listener's flow ends before the job's starts. So the job factory
/// wraps each job it makes.
/// </summary>
public sealed class JobRunLogScopeFactory(IServiceProvider services, IOptions<JobFactoryOptions> options, ILoggerFactory loggers) : IJobFactory
{
    public const string ScopeKey = CorrelationIdMiddleware.ScopeKey;

    private readonly MicrosoftDependencyInjectionJobFactory _inner = new(services, options, loggers);
    private readonly ILogger _logger = loggers.CreateLogger("HarborPortal.Jobs");

    public async ValueTask<JobScope> CreateJob(TriggerFiredBundle bundle, IScheduler scheduler, CancellationToken cancellationToken = default)
    {
        var made = await _inner.CreateJob(bundle, scheduler, cancellationToken);
        return new JobScope(new ScopedJob(made.Job, _logger), made);
    }

    public ValueTask ReturnJob(JobScope job, CancellationToken cancellationToken = default) =>
        _inner.ReturnJob((JobScope)job.State!, cancellationToken);

    private sealed class ScopedJob(IJob inner, ILogger logger) : IJob
    {
        public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default)
        {
            using (logger.BeginScope(new Dictionary<string, object>
            {
                [ScopeKey] = $"job-{context.FireInstanceId}",
                ["Job"] = context.JobDetail.Key.ToString(),
            }))
            {
                await inner.Execute(context, cancellationToken);
            }
        }
    }
}
