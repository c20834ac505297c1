using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HarborPortal.Features.ThreatData;

/// <summary>The public threat data the priority reads.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ThreatFeedKind>))]
public enum ThreatFeedKind
{
    /// <summary>CISA's Known Exploited Vulnerabilities catalog (JSON).</summary>
    Kev,

    /// <summary>FIRST's Exploit Prediction Scoring System scores (CSV, usually gzip).</summary>
    Epss,
}

/// <summary>
/// One feed's settings and the state of its data: whether the priority reads it, where it comes from, the data's own date
/// and the outcome of the last attempt. The entries themselves are in <see cref="KevEntry"/> and <see cref="EpssScore"/>.
/// </summary>
public sealed class ThreatFeed
{
    public const int MaxUrlLength = 2048;

    public ThreatFeedKind Kind { get; set; }

    /// <summary>Off until an admin turns it on: the priority ignores stored data of a disabled feed.</summary>
    public bool Enabled { get; set; }

    /// <summary>Null: the configured default (<see cref="ThreatDataOptions"/>).</summary>
    public string? Url { get; set; }

    /// <summary>Where the stored data came from: the URL, or "upload: file name".</summary>
    public string? Source { get; set; }

    /// <summary>The data's own date: KEV's <c>dateReleased</c>, EPSS's <c>score_date</c>.</summary>
    public DateTimeOffset? DataDate { get; set; }

    /// <summary>KEV's <c>catalogVersion</c>, EPSS's <c>model_version</c>.</summary>
    public string? DataVersion { get; set; }

    /// <summary>When the stored data was fetched or uploaded.</summary>
    public DateTimeOffset? FetchedAt { get; set; }

    public int EntryCount { get; set; }

    public DateTimeOffset? LastAttemptAt { get; set; }

    /// <summary>Why the last attempt failed (the stored data was kept); null after a success.</summary>
    public string? LastError { get; set; }

    /// <summary>"Fetch now" was pressed: the page shows progress until an attempt is newer than this.</summary>
    public DateTimeOffset? FetchRequestedAt { get; set; }

    public DateTimeOffset? UpdatedAt { get; set; }

    public string? UpdatedBy { get; set; }

    public bool FetchPending => FetchRequestedAt is { } requested && (LastAttemptAt is null || LastAttemptAt < requested);
}

/// <summary>One entry of CISA's KEV catalog.</summary>
public sealed class KevEntry
{
    public required string CveId { get; set; }

    public string VendorProject { get; set; } = "";

    public string Product { get; set; } = "";

    public string Name { get; set; } = "";

    public DateOnly DateAdded { get; set; }

    public string ShortDescription { get; set; } = "";

    public string RequiredAction { get; set; } = "";

    public DateOnly? DueDate { get; set; }

    /// <summary>"Known" or "Unknown", as CISA writes it.</summary>
    public string RansomwareUse { get; set; } = "";
}

/// <summary>One CVE's EPSS score.</summary>
public sealed class EpssScore
{
    public required string CveId { get; set; }

    /// <summary>The probability (0–1) of exploitation in the next 30 days.</summary>
    public double Probability { get; set; }

    public double Percentile { get; set; }
}

internal sealed class ThreatFeedConfiguration : IEntityTypeConfiguration<ThreatFeed>
{
    public void Configure(EntityTypeBuilder<ThreatFeed> builder)
    {
        builder.ToTable("ThreatFeeds");
        builder.HasKey(f => f.Kind);
        // As text, so that a reordered enum cannot silently change what rows mean.
        builder.Property(f => f.Kind).HasConversion<string>().HasMaxLength(16).ValueGeneratedNever();
        builder.Property(f => f.Url).HasMaxLength(ThreatFeed.MaxUrlLength);
        builder.Property(f => f.Source).HasMaxLength(ThreatFeed.MaxUrlLength);
        builder.Property(f => f.DataVersion).HasMaxLength(64);
        builder.Property(f => f.LastError).HasMaxLength(1024);
        builder.Property(f => f.UpdatedBy).HasMaxLength(256);
        builder.Ignore(f => f.FetchPending);
    }
}

internal sealed class KevEntryConfiguration : IEntityTypeConfiguration<KevEntry>
{
    public void Configure(EntityTypeBuilder<KevEntry> builder)
    {
        builder.ToTable("KevEntries");
        builder.HasKey(e => e.CveId);
        builder.Property(e => e.CveId).HasMaxLength(32);
        builder.Property(e => e.VendorProject).HasMaxLength(256);
        builder.Property(e => e.Product).HasMaxLength(256);
        builder.Property(e => e.Name).HasMaxLength(512);
        builder.Property(e => e.ShortDescription).HasMaxLength(4096);
        builder.Property(e => e.RequiredAction).HasMaxLength(2048);
        builder.Property(e => e.RansomwareUse).HasMaxLength(32);
    }
}

internal sealed class EpssScoreConfiguration : IEntityTypeConfiguration<EpssScore>
{
    public void Configure(EntityTypeBuilder<EpssScore> builder)
    {
        builder.ToTable("EpssScores");
        builder.HasKey(e => e.CveId);
        builder.Property(e => e.CveId).HasMaxLength(32);
    }
}
