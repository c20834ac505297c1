using HarborPortal.Features.Connections;
using HarborPortal.Features.Schedules;

namespace HarborPortal.Tests.Features.Schedules;

// The schedule rules without a host: what each kind means for Quartz, and the messages an admin gets for bad input.
public sealed class ScheduleRulesTests
{
    // A Sunday, so "next Monday" and "tomorrow" differ.
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 10, 15, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(ScheduleKind.Hourly, "", null, null, null, "0 0 * * * ?", "Every hour, on the hour")]
    [InlineData(ScheduleKind.Hourly, " 20 ", null, null, null, "0 20 * * * ?", "Every hour at 20 minutes past")]
    [InlineData(ScheduleKind.Daily, null, "02:30", null, null, "0 30 2 * * ?", "Daily at 02:30")]
    [InlineData(ScheduleKind.Weekly, null, "23:05", DayOfWeek.Friday, null, "0 5 23 ? * FRI", "Weekly on Fridays at 23:05")]
    [InlineData(ScheduleKind.Cron, null, null, null, " 0 0  6 ? * MON-FRI ", "0 0 6 ? * MON-FRI", "Cron 0 0 6 ? * MON-FRI")]
    public void Each_Kind_Becomes_One_Quartz_Cron_Expression(ScheduleKind kind, string? minute, string? time, DayOfWeek? day, string? cron, string expected, string description)
    {
        var errors = new ValidationErrors();

        var definition = ScheduleRules.Validate(new ScheduleForm { Kind = kind, Minute = minute, Time = time, Day = day, Cron = cron }, TimeZoneInfo.Utc, Now, errors);

        Assert.False(errors.Any, string.Join(" ", errors.All.SelectMany(e => e.Value)));
        Assert.NotNull(definition);
        Assert.Equal(expected, definition.CronExpression);
        Assert.Equal(description, definition.Describe());
    }

    [Fact]
    public void Manual_Has_No_Cron_Expression_And_No_Fire_Times()
    {
        var definition = ScheduleRules.Validate(new ScheduleForm { Kind = ScheduleKind.Manual, Cron = "ignored" }, TimeZoneInfo.Utc, Now, new ValidationErrors());

        Assert.Equal(ScheduleDefinition.Manual, definition);
        Assert.Null(definition!.CronExpression);
        Assert.Empty(ScheduleRules.NextFireTimes(definition, TimeZoneInfo.Utc, Now));
    }

    [Fact]
    public void A_Valid_Cron_Gives_The_Next_Three_Fire_Times()
    {
        var definition = ScheduleRules.Validate(new ScheduleForm { Kind = ScheduleKind.Cron, Cron = "0 0 6 ? * MON-FRI" }, TimeZoneInfo.Utc, Now, new ValidationErrors())!;

        var times = ScheduleRules.NextFireTimes(definition, TimeZoneInfo.Utc, Now);

        Assert.Equal(
            [new DateTimeOffset(2026, 11, 23, 6, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 11, 24, 6, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 11, 25, 6, 0, 0, TimeSpan.Zero)],
            times);
    }

    [Fact]
    public void Fire_Times_Are_Read_In_The_Configured_Time_Zone()
    {
        var berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");
        var definition = ScheduleRules.Validate(new ScheduleForm { Kind = ScheduleKind.Daily, Time = "02:30" }, berlin, Now, new ValidationErrors())!;

        var first = ScheduleRules.NextFireTimes(definition, berlin, Now)[0];

        // 02:30 in Berlin in November (CET, UTC+1) is 01:30 UTC.
        Assert.Equal(new TimeSpan(2, 30, 0), first.TimeOfDay);
        Assert.Equal(TimeSpan.FromHours(1), first.Offset);
        Assert.Equal(new DateTimeOffset(2026, 11, 23, 1, 30, 0, TimeSpan.Zero), first.ToUniversalTime());
    }

    [Theory]
    [InlineData("banana", "Not a valid Quartz cron expression")]
    [InlineData("0 61 * * * ?", "Minute and Second values must be between 0 and 59")]
    [InlineData("", "Enter a Quartz cron expression")]
    [InlineData("0 0 0 1 1 ? 2000", "never fires again")]
    [InlineData("* * * * * ?", "fires more often than every 5 minutes")]
    [InlineData("0 * * * * ?", "fires more often than every 5 minutes")]
    public void An_Invalid_Cron_Gets_A_Clear_Error(string cron, string expected)
    {
        var errors = new ValidationErrors();

        var definition = ScheduleRules.Validate(new ScheduleForm { Kind = ScheduleKind.Cron, Cron = cron }, TimeZoneInfo.Utc, Now, errors);

        Assert.Null(definition);
        var message = Assert.Single(Assert.Single(errors.All, e => e.Key == ScheduleRules.Fields.Cron).Value);
        Assert.Contains(expected, message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_Unix_Crontab_Line_Is_Named_As_Such_With_Its_Quartz_Spelling()
    {
        var errors = new ValidationErrors();

        ScheduleRules.Validate(new ScheduleForm { Kind = ScheduleKind.Cron, Cron = "30 2 * * 1" }, TimeZoneInfo.Utc, Now, errors);

        var message = Assert.Single(errors.All.Single().Value);
        Assert.Contains("5-field Unix crontab", message, StringComparison.Ordinal);
        // Crontab's day 1 is Monday; Quartz would read a bare 1 as Sunday, so the suggestion names the day.
        Assert.Contains("0 30 2 ? * MON", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(ScheduleKind.Hourly, "60", null, null, ScheduleRules.Fields.Minute, "\"60\" is not a minute past the hour")]
    [InlineData(ScheduleKind.Hourly, "-5", null, null, ScheduleRules.Fields.Minute, "from 0 to 59")]
    [InlineData(ScheduleKind.Daily, null, null, null, ScheduleRules.Fields.Time, "HH:mm")]
    [InlineData(ScheduleKind.Daily, null, "25:00", null, ScheduleRules.Fields.Time, "\"25:00\" is not a time of day")]
    [InlineData(ScheduleKind.Weekly, null, "02:00", null, ScheduleRules.Fields.Day, "day of the week")]
    [InlineData(null, null, null, null, ScheduleRules.Fields.Kind, "Choose how often")]
    [InlineData((ScheduleKind)(-1), null, null, null, ScheduleRules.Fields.Kind, "Choose how often")]
    public void Missing_Or_Wrong_Fields_Are_Named(ScheduleKind? kind, string? minute, string? time, DayOfWeek? day, string field, string expected)
    {
        var errors = new ValidationErrors();

        var definition = ScheduleRules.Validate(new ScheduleForm { Kind = kind, Minute = minute, Time = time, Day = day }, TimeZoneInfo.Utc, Now, errors);

        Assert.Null(definition);
        Assert.Contains(expected, Assert.Single(errors.All, e => e.Key == field).Value.Single(), StringComparison.Ordinal);
    }
}
