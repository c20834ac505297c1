using System.Globalization;
using HarborPortal.Features.Connections;
using Quartz;

namespace HarborPortal.Features.Schedules;

/// <summary>
/// A schedule as the admin chose it. Every kind but <see cref="ScheduleKind.Manual"/> becomes one Quartz cron
/// expression, so hourly, daily, weekly and typed cron schedules share one trigger type and one code path.
/// </summary>
public sealed record ScheduleDefinition(ScheduleKind Kind, int? Minute, TimeOnly? TimeOfDay, DayOfWeek? Day, string? Cron)
{
    public static readonly ScheduleDefinition Manual = new(ScheduleKind.Manual, null, null, null, null);

    /// <summary>The Quartz cron expression the trigger runs on; null for <see cref="ScheduleKind.Manual"/>.</summary>
    public string? CronExpression => Kind switch
    {
        ScheduleKind.Hourly => $"0 {Minute ?? 0} * * * ?",
        ScheduleKind.Daily => $"0 {TimeOfDay!.Value.Minute} {TimeOfDay.Value.Hour} * * ?",
        ScheduleKind.Weekly => $"0 {TimeOfDay!.Value.Minute} {TimeOfDay.Value.Hour} ? * {QuartzDay(Day!.Value)}",
        ScheduleKind.Cron => Cron,
        _ => null,
    };

    /// <summary>One line for people: "Daily at 02:30".</summary>
    public string Describe() => Kind switch
    {
        ScheduleKind.Hourly => Minute is null or 0 ? "Every hour, on the hour" : $"Every hour at {Minute.Value.ToString("00", CultureInfo.InvariantCulture)} minutes past",
        ScheduleKind.Daily => $"Daily at {Time(TimeOfDay!.Value)}",
        ScheduleKind.Weekly => $"Weekly on {Day}s at {Time(TimeOfDay!.Value)}",
        ScheduleKind.Cron => $"Cron {Cron}",
        _ => "Manual only",
    };

    private static string Time(TimeOnly time) => time.ToString("HH:mm", CultureInfo.InvariantCulture);

    private static string QuartzDay(DayOfWeek day) => day.ToString()[..3].ToUpperInvariant();
}

/// <summary>The schedule rules, without a host: validation with messages an admin can act on, and the next fire times.</summary>
public static class ScheduleRules
{
    public const int MaxCronLength = 200;

    /// <summary>Syncs closer together than this would only queue behind each other (one run at a time per connection).</summary>
    public static readonly TimeSpan MinimumInterval = TimeSpan.FromMinutes(5);

    public static class Fields
    {
        public const string Kind = nameof(ScheduleForm.Kind);
        public const string Minute = nameof(ScheduleForm.Minute);
        public const string Time = nameof(ScheduleForm.Time);
        public const string Day = nameof(ScheduleForm.Day);
        public const string Cron = nameof(ScheduleForm.Cron);
    }

    /// <summary>The definition the form describes, or null with the reasons in <paramref name="errors"/>.</summary>
    public static ScheduleDefinition? Validate(ScheduleForm form, TimeZoneInfo timeZone, DateTimeOffset now, ValidationErrors errors)
    {
        if (form.Kind is not { } kind || !Enum.IsDefined(kind))
        {
            errors.Add(Fields.Kind, "Choose how often this connection syncs: manual only, hourly, daily, weekly or a cron expression.");
            return null;
        }

        switch (kind)
        {
            case ScheduleKind.Manual:
                return ScheduleDefinition.Manual;

            case ScheduleKind.Hourly:
                var minute = 0;
                if (!string.IsNullOrWhiteSpace(form.Minute)
                    && !(int.TryParse(form.Minute.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out minute) && minute is >= 0 and <= 59))
                {
                    errors.Add(Fields.Minute, $"\"{form.Minute.Trim()}\" is not a minute past the hour: give a number from 0 to 59.");
                    return null;
                }

                return new ScheduleDefinition(ScheduleKind.Hourly, minute, null, null, null);

            case ScheduleKind.Daily:
                return ParseTime(form.Time, errors) is { } daily ? new ScheduleDefinition(ScheduleKind.Daily, null, daily, null, null) : null;

            case ScheduleKind.Weekly:
                var time = ParseTime(form.Time, errors);
                if (form.Day is not { } day || !Enum.IsDefined(day))
                {
                    errors.Add(Fields.Day, "Choose the day of the week.");
                    return null;
                }

                return time is null ? null : new ScheduleDefinition(ScheduleKind.Weekly, null, time, day, null);

            default:
                return ValidateCron(form.Cron, timeZone, now, errors) is { } cron ? new ScheduleDefinition(ScheduleKind.Cron, null, null, null, cron) : null;
        }
    }

    /// <summary>The next <paramref name="count"/> fire times after <paramref name="after"/>, in <paramref name="timeZone"/>; empty for manual.</summary>
    public static IReadOnlyList<DateTimeOffset> NextFireTimes(ScheduleDefinition definition, TimeZoneInfo timeZone, DateTimeOffset after, int count = 3)
    {
        if (definition.CronExpression is not { } expression || !CronExpression.TryParse(expression, out var parsed) || parsed is null)
        {
            return [];
        }

        var cron = parsed.WithTimeZone(timeZone);
        var times = new List<DateTimeOffset>(count);
        var from = after;
        while (times.Count < count && cron.GetNextValidTimeAfter(from) is { } next)
        {
            var local = TimeZoneInfo.ConvertTime(next, timeZone);
            times.Add(local);
            from = next;
        }

        return times;
    }

    private static TimeOnly? ParseTime(string? value, ValidationErrors errors)
    {
        if (TimeOnly.TryParseExact(value?.Trim(), ["HH:mm", "H:mm", "HH:mm:ss"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var time))
        {
            // Quartz fires on whole minutes here: seconds would only surprise.
            return new TimeOnly(time.Hour, time.Minute);
        }

        errors.Add(Fields.Time, string.IsNullOrWhiteSpace(value)
            ? "Give the time of day to sync at, as HH:mm (24-hour), e.g. 02:30."
            : $"\"{value.Trim()}\" is not a time of day: use HH:mm (24-hour), e.g. 02:30.");
        return null;
    }

    private static string? ValidateCron(string? value, TimeZoneInfo timeZone, DateTimeOffset now, ValidationErrors errors)
    {
        var cron = string.Join(' ', (value ?? "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        if (cron.Length == 0)
        {
            errors.Add(Fields.Cron, "Enter a Quartz cron expression: seconds minutes hours day-of-month month day-of-week [year], e.g. 0 30 2 ? * MON-FRI.");
            return null;
        }

        if (cron.Length > MaxCronLength)
        {
            errors.Add(Fields.Cron, $"A cron expression has at most {MaxCronLength} characters.");
            return null;
        }

        if (cron.Split(' ').Length == 5)
        {
            // The crontab habit: Quartz would read the minutes as seconds, so say what was meant instead of Quartz's API advice.
            var suggestion = CronExpression.TryParse(cron, CronFormat.Unix, out var unix) && unix is not null ? unix.CronExpressionString : null;
            errors.Add(Fields.Cron, "This is a 5-field Unix crontab expression; Quartz cron has seconds first (6 or 7 fields: seconds minutes hours day-of-month month day-of-week [year])."
                + (suggestion is null ? "" : $" The same schedule in Quartz form: {suggestion}"));
            return null;
        }

        CronExpression expression;
        try
        {
            expression = new CronExpression(cron, timeZone);
        }
        catch (FormatException e)
        {
            errors.Add(Fields.Cron, $"Not a valid Quartz cron expression: {e.Message.TrimEnd('.')}. Quartz cron has 6 or 7 fields: seconds minutes hours day-of-month month day-of-week [year], e.g. 0 30 2 ? * MON-FRI.");
            return null;
        }

        // Ten fires are enough to catch "every few seconds" and "never again" without walking a whole year.
        var fires = new List<DateTimeOffset>();
        var from = now;
        while (fires.Count < 10 && expression.GetNextValidTimeAfter(from) is { } next)
        {
            fires.Add(next);
            from = next;
        }

        if (fires.Count == 0)
        {
            errors.Add(Fields.Cron, "This expression never fires again (look at its year field).");
            return null;
        }

        if (fires.Zip(fires.Skip(1), (a, b) => b - a).Any(gap => gap < MinimumInterval))
        {
            errors.Add(Fields.Cron, $"This expression fires more often than every {MinimumInterval.TotalMinutes:0} minutes; a sync waits for the previous one, so fires that close together would only be skipped. "
                + "Check the seconds and minutes fields (e.g. 0 0/15 * * * ? is every 15 minutes).");
            return null;
        }

        return cron;
    }
}

/// <summary>The schedule form (page and API): which fields count depends on <see cref="Kind"/>.</summary>
public sealed class ScheduleForm
{
    /// <summary>Null when nothing (or something unknown) was chosen: an error, never "manual" by default.</summary>
    public ScheduleKind? Kind { get; set; }

    /// <summary>Hourly: minutes past the hour (0-59; empty means 0). Text, so that whatever was typed comes back with its error.</summary>
    public string? Minute { get; set; }

    /// <summary>Daily and weekly: HH:mm.</summary>
    public string? Time { get; set; }

    /// <summary>Weekly.</summary>
    public DayOfWeek? Day { get; set; }

    /// <summary>Cron: a Quartz cron expression.</summary>
    public string? Cron { get; set; }

    public static ScheduleForm From(ScheduleDefinition definition) => new()
    {
        Kind = definition.Kind,
        Minute = definition.Minute?.ToString(CultureInfo.InvariantCulture),
        Time = definition.TimeOfDay?.ToString("HH:mm", CultureInfo.InvariantCulture),
        Day = definition.Day,
        Cron = definition.Cron,
    };
}
