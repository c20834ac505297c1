using System.Globalization;
using Microsoft.EntityFrameworkCore;

namespace HarborPortal.Features.Audit;

/// <summary>
/// The audit log's filters, shared by the page and <c>GET /api/v1/audit</c>: newest first, keyset paging on the id
/// (<see cref="Before"/> = the last id of the previous page), dates as whole UTC days, <see cref="To"/> included.
/// </summary>
public sealed record AuditQuery(string? Action, string? Actor, bool? Succeeded, DateOnly? From, DateOnly? To, long? Before, int Limit = AuditQuery.PageSize)
{
    public const int PageSize = 50;
    public const int MaxLimit = 200;

    public async Task<AuditResultPage> RunAsync(IQueryable<AuditEvent> events, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrWhiteSpace(Action))
        {
            var action = Action.Trim();
            events = events.Where(e => e.Action == action);
        }

        if (!string.IsNullOrWhiteSpace(Actor))
        {
            var actor = Actor.Trim();
            events = events.Where(e => e.Actor == actor);
        }

        if (Succeeded is { } succeeded)
        {
            events = events.Where(e => e.Succeeded == succeeded);
        }

        if (From is { } from)
        {
            var start = new DateTimeOffset(from.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            events = events.Where(e => e.At >= start);
        }

        if (To is { } to)
        {
            var end = new DateTimeOffset(to.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            events = events.Where(e => e.At < end);
        }

        if (Before is { } before)
        {
            events = events.Where(e => e.Id < before);
        }

        // Ids grow with every append, so the id order is the order things happened in, and a cheap keyset.
        var limit = Math.Clamp(Limit, 1, MaxLimit);
        var rows = await events.AsNoTracking().OrderByDescending(e => e.Id).Take(limit + 1).ToListAsync(cancellationToken);
        return rows.Count > limit
            ? new AuditResultPage(rows.GetRange(0, limit), rows[limit - 1].Id)
            : new AuditResultPage(rows, null);
    }

    /// <summary>Parses a <c>yyyy-MM-dd</c> date as the page's date inputs send it; null when empty or not a date.</summary>
    public static DateOnly? ParseDate(string? value) =>
        DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date) ? date : null;

    /// <summary><c>true</c>/<c>false</c> (any case); anything else is "either".</summary>
    public static bool? ParseSucceeded(string? value) => bool.TryParse(value, out var succeeded) ? succeeded : null;
}

/// <param name="NextBefore">The <c>before</c> value for the next (older) page, or null on the last page.</param>
public sealed record AuditResultPage(IReadOnlyList<AuditEvent> Events, long? NextBefore);
