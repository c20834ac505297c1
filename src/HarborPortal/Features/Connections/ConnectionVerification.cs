using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HarborPortal.Features.Connections;

/// <summary>Where a verification run is.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<VerificationStatus>))]
public enum VerificationStatus
{
    Pending,
    Running,
    Finished,
}

/// <summary>
/// One run of connectivity verification for a connection: requested (on save, by the button, by the API, daily), then
/// run by <see cref="VerifyConnectionJob"/>, which writes the steps as they finish so the page can show them live.
/// </summary>
public sealed class ConnectionVerification
{
    public const int MaxSummaryLength = 1024;

    private static readonly JsonSerializerOptions StepsJsonOptions = new(JsonSerializerDefaults.Web);

    public long Id { get; set; }

    public long ConnectionId { get; set; }

    /// <summary>save, button, api or daily.</summary>
    public required string Trigger { get; set; }

    /// <summary>Who asked (the portal user), or null for the daily schedule.</summary>
    public string? RequestedBy { get; set; }

    public VerificationStatus Status { get; set; }

    public DateTimeOffset RequestedAt { get; set; }

    public DateTimeOffset? StartedAt { get; set; }

    public DateTimeOffset? FinishedAt { get; set; }

    /// <summary>True when every step passed; null until the run has finished.</summary>
    public bool? Ok { get; set; }

    /// <summary>One line: the first failing step and its hint, or the identity proven.</summary>
    public string? Summary { get; set; }

    /// <summary>The steps as JSON (<see cref="Steps"/>): a run is read and written whole, never queried by step.</summary>
    public string StepsJson { get; set; } = "[]";

    public bool IsDone => Status == VerificationStatus.Finished;

    public IReadOnlyList<CheckStep> Steps
    {
        get => JsonSerializer.Deserialize<List<CheckStep>>(StepsJson, StepsJsonOptions) ?? [];
        set => StepsJson = JsonSerializer.Serialize(value, StepsJsonOptions);
    }
}

internal sealed class ConnectionVerificationConfiguration : IEntityTypeConfiguration<ConnectionVerification>
{
    public void Configure(EntityTypeBuilder<ConnectionVerification> builder)
    {
        builder.Property(v => v.Trigger).HasMaxLength(16);
        builder.Property(v => v.RequestedBy).HasMaxLength(256);
        builder.Property(v => v.Status).HasConversion<string>().HasMaxLength(16);
        builder.Property(v => v.Summary).HasMaxLength(ConnectionVerification.MaxSummaryLength);
        builder.Ignore(v => v.Steps);
        builder.Ignore(v => v.IsDone);
        // A deleted connection takes its verification history with it.
        builder.HasOne<HarborConnection>().WithMany().HasForeignKey(v => v.ConnectionId).OnDelete(DeleteBehavior.Cascade);
    }
}
