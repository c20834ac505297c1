using HarborPortal.Features.Findings;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HarborPortal.Features.Triage;

/// <summary>A person's note on a finding: plain text, rendered encoded, never edited.</summary>
public sealed class FindingComment
{
    public const int MaxTextLength = 4000;

    public long Id { get; set; }

    public long FindingId { get; set; }

    public required string Author { get; set; }

    public DateTimeOffset At { get; set; }

    public required string Text { get; set; }
}

internal sealed class FindingCommentConfiguration : IEntityTypeConfiguration<FindingComment>
{
    public void Configure(EntityTypeBuilder<FindingComment> builder)
    {
        builder.Property(c => c.Author).HasMaxLength(256);
        builder.Property(c => c.Text).HasMaxLength(FindingComment.MaxTextLength);
        builder.HasIndex(c => new { c.FindingId, c.At });
        builder.HasOne<Finding>().WithMany().HasForeignKey(c => c.FindingId).OnDelete(DeleteBehavior.Cascade);
    }
}
