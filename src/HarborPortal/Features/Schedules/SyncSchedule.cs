using System.Text.Json.Serialization;
using HarborPortal.Features.Connections;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HarborPortal.Features.Schedules;

/// <summary>How often a connection syncs on its own.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ScheduleKind>))]
public enum ScheduleKind
{
    /// <summary>Only "Scan now", the API and webhooks: no Quartz trigger.</summary>
    Manual,
    Hourly,
    Daily,
    Weekly,

    /// <summary>A Quartz cron expression typed by the admin.</summary>
    Cron,
}

/// <summary>What the schedule's last fire did.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ScheduleFireOutcome>))]
public enum ScheduleFireOutcome
{
    Started,

    /// <summary>A run of the connection was pending or running: one run at a time, so this fire was skipped.</summary>
    SkippedRunUnderWay,

    /// <summary>The connection is switched off.</summary>
    SkippedDisabled,
}

/// <summary>
/// A connection's sync schedule. The row is the truth; its Quartz trigger (<see cref="ScheduledSyncJob"/>) is derived
/// from it on every save and reconciled at start. No row means <see cref="ScheduleKind.Manual"/>.
/// </summary>
public sealed class SyncSchedule
{
    public long ConnectionId { get; set; }

    public ScheduleKind Kind { get; set; }

    /// <summary><see cref="ScheduleKind.Hourly"/>: minutes past the hour.</summary>
    public int? Minute { get; set; }

    /// <summary><see cref="ScheduleKind.Daily"/> and <see cref="ScheduleKind.Weekly"/>: the time of day, in the schedules' time zone.</summary>
    public TimeOnly? TimeOfDay { get; set; }

    /// <summary><see cref="ScheduleKind.Weekly"/>.</summary>
    public DayOfWeek? Day { get; set; }

    /// <summary><see cref="ScheduleKind.Cron"/>: the expression as the admin typed it (trimmed).</summary>
    public string? Cron { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public string? UpdatedBy { get; set; }

    public DateTimeOffset? LastFiredAt { get; set; }

    public ScheduleFireOutcome? LastFireOutcome { get; set; }

    /// <summary>The run the last fire started, or the one under way that made it skip.</summary>
    public long? LastFireRunId { get; set; }

    /// <summary>Fires skipped since the schedule was last saved.</summary>
    public int SkippedFires { get; set; }

    public ScheduleDefinition Definition => new(Kind, Minute, TimeOfDay, Day, Cron);
}

internal sealed class SyncScheduleConfiguration : IEntityTypeConfiguration<SyncSchedule>
{
    public void Configure(EntityTypeBuilder<SyncSchedule> builder)
    {
        builder.HasKey(s => s.ConnectionId);
        builder.Property(s => s.ConnectionId).ValueGeneratedNever();
        // As text, so that a reordered enum cannot silently change what rows mean.
        builder.Property(s => s.Kind).HasConversion<string>().HasMaxLength(16);
        builder.Property(s => s.Day).HasConversion<string>().HasMaxLength(16);
        builder.Property(s => s.Cron).HasMaxLength(ScheduleRules.MaxCronLength);
        builder.Property(s => s.UpdatedBy).HasMaxLength(256);
        builder.Property(s => s.LastFireOutcome).HasConversion<string>().HasMaxLength(32);
        builder.Ignore(s => s.Definition);
        builder.HasOne<HarborConnection>().WithOne().HasForeignKey<SyncSchedule>(s => s.ConnectionId).OnDelete(DeleteBehavior.Cascade);
    }
}
