using HarborPortal.Features.Audit;
using HarborPortal.Features.Auth;
using Microsoft.AspNetCore.Mvc;
using Quartz;

namespace HarborPortal.Features.Jobs;

public static class JobsEndpoints
{
    public static RouteGroupBuilder MapJobsEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/admin/jobs").RequireAuthorization(PortalPolicies.Admin);

        // "Run now": a one-off trigger for a stored job (antiforgery is validated for every form post).
        group.MapPost("/run", async ([FromForm] string group, [FromForm] string name, ISchedulerFactory schedulers, AuditLog audit, HttpContext context) =>
        {
            var scheduler = await schedulers.GetScheduler();
            var key = new JobKey(name, group);
            if (!await scheduler.Exists(key))
            {
                return Results.NotFound();
            }

            await scheduler.TriggerJob(key);
            await audit.WriteAsync("job.run", true, context.User.Identity?.Name, "web", key.ToString());
            return Results.Redirect($"/admin/jobs?triggered={Uri.EscapeDataString(key.ToString())}");
        });

        return group;
    }
}
