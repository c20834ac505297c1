using Quartz;
using Quartz.Extensibility;

namespace HarborPortal.Features.Jobs;

public sealed record JobRow(string Group, string Name, string? Description, bool IsRunning, LastRun? LastRun, IReadOnlyList<TriggerRow> Triggers)
{
    public string Key => $"{Group}.{Name}";
}

/// <summary>The job's most recent completed run, from Quartz's execution history.</summary>
public sealed record LastRun(DateTimeOffset FiredAt, string Result, TimeSpan? Duration, long RunCount, string? FailureMessage);

public sealed record TriggerRow(string Key, string? Description, string State, DateTimeOffset? PreviousFire, DateTimeOffset? NextFire);

/// <summary>Reads every job and trigger from the scheduler for the Jobs page and the API.</summary>
public static class JobsOverview
{
    public static async Task<List<JobRow>> LoadAsync(IScheduler scheduler, IExecutionHistoryStore history, CancellationToken cancellationToken)
    {
        // Running firings come from the store, so on a cluster this sees every node's runs.
        var running = (await scheduler.QueryFireInstances(new FireInstanceQuery(), cancellationToken)).Items.Select(f => f.JobKey).ToHashSet();
        var rows = new List<JobRow>();
        foreach (var jobKey in (await scheduler.GetJobKeys(GroupMatcher<JobKey>.AnyGroup(), cancellationToken)).OrderBy(k => k.Group).ThenBy(k => k.Name))
        {
            var detail = await scheduler.GetJobDetail(jobKey, cancellationToken);
            var triggers = new List<TriggerRow>();
            foreach (var trigger in await scheduler.GetTriggersOfJob(jobKey, cancellationToken))
            {
                var state = await scheduler.GetTriggerState(trigger.Key, cancellationToken);
                triggers.Add(new TriggerRow(trigger.Key.ToString(), trigger.Description, state.ToString(), trigger.PreviousFireTimeUtc, trigger.NextFireTimeUtc));
            }

            var status = await history.GetJobRunStatus(scheduler.SchedulerName, jobKey, cancellationToken);
            var lastRun = status?.LastFiredAtUtc is { } fired
                ? new LastRun(fired, status.LastResult.ToString(), status.LastDuration, status.RunCount, status.LastFailureMessage)
                : null;
            rows.Add(new JobRow(jobKey.Group, jobKey.Name, detail?.Description, running.Contains(jobKey), lastRun, triggers));
        }

        return rows;
    }
}
