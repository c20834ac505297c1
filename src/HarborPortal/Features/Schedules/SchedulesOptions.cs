namespace HarborPortal.Features.Schedules;

/// <summary>The <c>Schedules</c> section.</summary>
public sealed class SchedulesOptions
{
    public const string SectionName = "Schedules";

    /// <summary>
    /// The time zone daily, weekly and cron schedules are read in: an IANA (or Windows) id such as <c>Europe/Berlin</c>.
    /// UTC unless configured, so that a schedule means the same thing on every node and across daylight-saving changes.
    /// </summary>
    public string TimeZone { get; set; } = "UTC";

    public TimeZoneInfo ResolveTimeZone() =>
        TimeZoneInfo.TryFindSystemTimeZoneById(TimeZone, out var zone) ? zone : throw new InvalidOperationException($"Schedules:TimeZone '{TimeZone}' is not a known time zone.");

    public bool IsValid() => TimeZoneInfo.TryFindSystemTimeZoneById(TimeZone, out _);
}
