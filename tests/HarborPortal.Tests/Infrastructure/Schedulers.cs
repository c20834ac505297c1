using Microsoft.Extensions.DependencyInjection;
using Quartz;

namespace HarborPortal.Tests.Infrastructure;

/// <summary>Holding a portal's Quartz scheduler still, so that runs a test starts stay Pending for it to look at.</summary>
internal static class Schedulers
{
    /// <summary>
    /// Puts the portal's scheduler on standby once it has started. Quartz's hosted service starts it after the application
    /// has started, on its own task: a Standby() that came first was undone by that Start(), and a run the test thought
    /// paused ran (a flaky two-instance webhook test).
    /// </summary>
    public static async Task StandbyAsync(IServiceProvider services)
    {
        var scheduler = await services.GetRequiredService<ISchedulerFactory>().GetScheduler();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (scheduler.Status != SchedulerStatus.Running && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.Equal(SchedulerStatus.Running, scheduler.Status);
        await scheduler.Standby();
    }
}
