using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HarborPortal.Features.Findings;

// The findings queue's columns: kept apart from Finding.cs so that the sync engine's file and this one change independently.
public sealed partial class Finding
{
    /// <summary>
    /// The explained priority (<see cref="PriorityRules"/>) on the severity scale, stored so that the queue can filter
    /// and sort on it with an index. Whoever changes an input (the sync, the daily refresh) recomputes it.
    /// </summary>
    public Severity Priority { get; set; }

    /// <summary>Whether the scanner named a fixed version. Computed by the database from <see cref="FixedVersion"/>, so no writer can forget it.</summary>
    public bool FixAvailable { get; private set; }

    /// <summary>The CVSS score with "none" as -1: a non-null sort key, so that keyset pages need no NULL special cases.</summary>
    public double CvssRank { get; private set; }

    /// <summary>Whether the Harbor project is public (anyone may pull), as the sync last saw it; null when unknown.</summary>
    public bool? ProjectIsPublic { get; set; }

    /// <summary>When the image was pushed to Harbor, as the sync last saw it; null when unknown.</summary>
    public DateTimeOffset? ImagePushedAt { get; set; }
}

/// <summary>
/// The queue's columns and indexes. Every index here costs each insert of a sync, so each one is here for a named
/// query of <see cref="FindingQueue"/>; SQLite appends the rowid (= Id, the tie-break) to every index, so an index on
/// (X) already serves "ORDER BY X, Id" and keyset seeks on (X, Id).
/// </summary>
internal sealed class FindingQueueConfiguration : IEntityTypeConfiguration<Finding>
{
    public void Configure(EntityTypeBuilder<Finding> builder)
    {
        builder.Property(f => f.FixAvailable).HasComputedColumnSql("\"FixedVersion\" <> ''", stored: false);
        builder.Property(f => f.CvssRank).HasComputedColumnSql("coalesce(\"CvssScore\", -1)", stored: false);

        // Sort orders for pages with no filter, or with a filter that matches so many rows that walking the sort order
        // finds 50 of them sooner than sorting them all (FindingQueue picks the plan). Severity's is IX_Findings_Severity;
        // "last seen" is (Status, LastSeenAt) read as one run per status.
        builder.HasIndex(f => f.Priority);
        builder.HasIndex(f => f.CvssRank);
        builder.HasIndex(f => f.FirstSeenAt);

        // Severity, priority and CVSS move together: walking one order for a value of another would cross most of the
        // table before reaching, say, the low-severity rows. These seek straight to the filtered value; (Priority,
        // Severity) serves both "severity X by priority" and "priority X by severity", read as one run per value.
        builder.HasIndex(f => new { f.Priority, f.Severity });
        builder.HasIndex(f => new { f.Severity, f.CvssRank });
        builder.HasIndex(f => new { f.Priority, f.CvssRank });

        // Resolved findings are the old ones: walking "last seen" from the newest would cross every open one first.
        builder.HasIndex(f => new { f.Status, f.LastSeenAt });

        // Equality filters that can be selective (one project or a developer's projects, one CVE, the package names a
        // text search found, a rare source tool): seek the values, the default order (priority) already in place.
        // A repository uses the sync's (ConnectionId, RepositoryName, Digest).
        builder.HasIndex(f => new { f.ProjectName, f.Priority });
        builder.HasIndex(f => new { f.VulnerabilityId, f.Priority });
        builder.HasIndex(f => new { f.PackageName, f.Priority });
        builder.HasIndex(f => new { f.SourceTool, f.Priority });
    }
}
