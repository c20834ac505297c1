using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HarborPortal.Features.Findings;

/// <summary>The many-valued columns whose distinct values the queue searches and suggests.</summary>
public enum FindingTermKind
{
    Project = 1,
    Repository = 2,
    Vulnerability = 3,
    Package = 4,
}

/// <summary>
/// One distinct project, repository, vulnerability id or package name that some finding has (or had). Triggers on
/// Findings add new values; the full-text index <c>FindingTermsSearch</c> (FTS5, trigram) is built over this small
/// table rather than over a million findings that repeat the same few thousand names, so text search and type-ahead
/// read a few thousand entries and a sync's inserts stay cheap.
/// </summary>
public sealed class FindingTerm
{
    /// <summary>The FTS index's rowid.</summary>
    public long Id { get; set; }

    public FindingTermKind Kind { get; set; }

    public required string Value { get; set; }
}

internal sealed class FindingTermConfiguration : IEntityTypeConfiguration<FindingTerm>
{
    public void Configure(EntityTypeBuilder<FindingTerm> builder)
    {
        builder.Property(t => t.Value).HasMaxLength(512);
        builder.HasIndex(t => new { t.Kind, t.Value }).IsUnique();
    }
}
