using System.Globalization;
using HarborPortal.Features.Auth;
using HarborPortal.Features.Connections;
using Microsoft.AspNetCore.Http.HttpResults;

namespace HarborPortal.Features.Schedules;

/// <summary>
/// <c>/api/v1/connections/{id}/schedule</c>: the schedule panel's read and save for automation. Admin only; like the rest
/// of <c>/api/v1</c> the session cookie may read but a write needs an API token.
/// </summary>
public static class ScheduleEndpoints
{
    public static IEndpointRouteBuilder MapScheduleEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup(ConnectionEndpoints.ApiPath)
            .RequireAuthorization(PortalPolicies.Viewer)
            .RequireAuthorization(PortalPolicies.Admin)
            .AddEndpointFilter(ConnectionEndpoints.RefuseCookieWritesAsync)
            .WithTags("Schedules");
        api.MapGet("/{id:long}/schedule", GetAsync)
            .WithSummary("The connection's sync schedule, its time zone and next three fire times, and what its last fire did.");
        api.MapPut("/{id:long}/schedule", PutAsync)
            .WithSummary("Replaces the schedule (kind manual|hourly|daily|weekly|cron, with minute, time HH:mm, day or a Quartz cron); the trigger changes at once.");
        return endpoints;
    }

    private static async Task<Results<Ok<ScheduleResponse>, ProblemHttpResult>> GetAsync(
        long id, ConnectionSchedules schedules, Data.PortalDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        if (await db.HarborConnections.FindAsync([id], cancellationToken) is null)
        {
            return NotFound(id);
        }

        return TypedResults.Ok(ScheduleResponse.From(id, await schedules.FindAsync(id, cancellationToken), schedules, time.GetUtcNow()));
    }

    private static async Task<Results<Ok<ScheduleResponse>, ValidationProblem, ProblemHttpResult>> PutAsync(
        long id, ScheduleRequest request, ConnectionSchedules schedules, TimeProvider time, HttpContext context)
    {
        var result = await schedules.SaveAsync(id, request.ToForm(), context.User, CancellationToken.None);
        return result switch
        {
            { IsNotFound: true } => NotFound(id),
            { Schedule: { } schedule } => TypedResults.Ok(ScheduleResponse.From(id, schedule, schedules, time.GetUtcNow())),
            _ => TypedResults.ValidationProblem(result.Errors!.ToProblemErrors()),
        };
    }

    private static ProblemHttpResult NotFound(long id) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not Found", detail: $"There is no connection {id}.");
}

/// <summary>A schedule to save. Strings rather than enums, so that a wrong value gets the rules' message instead of a binding error.</summary>
public sealed record ScheduleRequest(string? Kind, int? Minute, string? Time, string? Day, string? Cron)
{
    public ScheduleForm ToForm() => new()
    {
        Kind = ParseEnum<ScheduleKind>(Kind),
        Minute = Minute?.ToString(CultureInfo.InvariantCulture),
        Time = Time,
        Day = ParseEnum<DayOfWeek>(Day),
        Cron = Cron,
    };

    // Names only: "3" is not a day anyone means.
    private static T? ParseEnum<T>(string? value)
        where T : struct, Enum =>
        value is not null && !int.TryParse(value, out _) && Enum.TryParse<T>(value.Trim(), ignoreCase: true, out var parsed) && Enum.IsDefined(parsed) ? parsed : null;
}

public sealed record ScheduleLastFire(DateTimeOffset At, ScheduleFireOutcome Outcome, long? RunId);

public sealed record ScheduleResponse(
    long ConnectionId, ScheduleKind Kind, int? Minute, string? Time, string? Day, string? Cron, string? CronExpression, string Description,
    string TimeZone, IReadOnlyList<DateTimeOffset> NextFireTimes, ScheduleLastFire? LastFire, int SkippedFires, DateTimeOffset? UpdatedAt, string? UpdatedBy)
{
    public static ScheduleResponse From(long connectionId, SyncSchedule? schedule, ConnectionSchedules schedules, DateTimeOffset now)
    {
        var definition = schedule?.Definition ?? ScheduleDefinition.Manual;
        return new ScheduleResponse(
            connectionId, definition.Kind, definition.Minute, definition.TimeOfDay?.ToString("HH:mm", CultureInfo.InvariantCulture), definition.Day?.ToString(),
            definition.Cron, definition.CronExpression, schedules.Describe(definition), schedules.TimeZone.Id,
            ScheduleRules.NextFireTimes(definition, schedules.TimeZone, now),
            schedule is { LastFiredAt: { } at, LastFireOutcome: { } outcome } ? new ScheduleLastFire(at, outcome, schedule.LastFireRunId) : null,
            schedule?.SkippedFires ?? 0, schedule?.UpdatedAt, schedule?.UpdatedBy);
    }
}
