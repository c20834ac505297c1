using System.Text.Json.Serialization;
using HarborPortal.Features.Findings;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HarborPortal.Features.Triage;

/// <summary>How far a decision reaches. Ordered from the most specific: when several live decisions cover a finding, the lowest value wins.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<TriageScope>))]
public enum TriageScope
{
    /// <summary>This one image (repository@digest).</summary>
    Digest = 0,

    /// <summary>Every image of the repository, today's and the ones pushed later (the default).</summary>
    Repository = 1,

    /// <summary>Every repository of the Harbor project.</summary>
    Project = 2,
}

/// <summary>
/// A person's decision that a vulnerability in a package does not need fixing (false positive) or not yet (risk accepted,
/// until a date), for one image, a repository or a whole project. Findings carry the id of the decision that set their
/// status; new and reopened findings it covers arrive already triaged (<see cref="TriageSql.ApplyLiveDecisions"/>).
/// A decision is never edited: changing it ends it (<see cref="EndedAt"/>) and records a new one.
/// </summary>
public sealed class TriageDecision
{
    public const int MaxJustificationLength = 2000;

    public long Id { get; set; }

    public TriageScope Scope { get; set; }

    public long ConnectionId { get; set; }

    public required string ProjectName { get; set; }

    /// <summary>Null for <see cref="TriageScope.Project"/>.</summary>
    public string? RepositoryName { get; set; }

    /// <summary>Only for <see cref="TriageScope.Digest"/>.</summary>
    public string? Digest { get; set; }

    public required string VulnerabilityId { get; set; }

    public required string PackageName { get; set; }

    /// <summary><see cref="FindingStatus.RiskAccepted"/> or <see cref="FindingStatus.FalsePositive"/>.</summary>
    public FindingStatus Status { get; set; }

    public required string Justification { get; set; }

    /// <summary>Required for a risk acceptance: the findings reopen by themselves when it passes.</summary>
    public DateTimeOffset? ExpiresAt { get; set; }

    public required string DecidedBy { get; set; }

    public DateTimeOffset DecidedAt { get; set; }

    /// <summary>When it stopped applying (revoked, expired or replaced); null while live.</summary>
    public DateTimeOffset? EndedAt { get; set; }

    public string? EndedBy { get; set; }

    public string? EndedWhy { get; set; }

    public bool IsLiveAt(DateTimeOffset now) => EndedAt is null && (ExpiresAt is null || ExpiresAt > now);

    /// <summary>Whether the decision reaches this finding (its status aside).</summary>
    public bool Covers(Finding finding) =>
        finding.ConnectionId == ConnectionId
        && string.Equals(finding.VulnerabilityId, VulnerabilityId, StringComparison.Ordinal)
        && string.Equals(finding.PackageName, PackageName, StringComparison.Ordinal)
        && Scope switch
        {
            TriageScope.Digest => finding.RepositoryName == RepositoryName && finding.Digest == Digest,
            TriageScope.Repository => finding.RepositoryName == RepositoryName,
            _ => finding.ProjectName == ProjectName,
        };

    /// <summary>"payments-api (all images)", "payments-api@sha256:0255…", "every repository of team-a".</summary>
    public string DescribeScope() => Scope switch
    {
        TriageScope.Digest => $"{RepositoryName}@{Digest}",
        TriageScope.Repository => $"{RepositoryName} (all images)",
        _ => $"every repository of {ProjectName}",
    };

    /// <summary>"Risk accepted by alice on 2026-11-20 for team-a/payments-api (all images): …, until 2027-01-31".</summary>
    public string Describe()
    {
        var what = Status == FindingStatus.RiskAccepted ? "Risk accepted" : "False positive";
        var until = ExpiresAt is { } expires ? $", until {expires.UtcDateTime:yyyy-MM-dd}" : "";
        return $"{what} by {DecidedBy} on {DecidedAt.UtcDateTime:yyyy-MM-dd} for {DescribeScope()}: {Justification}{until}";
    }
}

internal sealed class TriageDecisionConfiguration : IEntityTypeConfiguration<TriageDecision>
{
    public void Configure(EntityTypeBuilder<TriageDecision> builder)
    {
        builder.Property(d => d.ProjectName).HasMaxLength(256);
        builder.Property(d => d.RepositoryName).HasMaxLength(512);
        builder.Property(d => d.Digest).HasMaxLength(128);
        builder.Property(d => d.VulnerabilityId).HasMaxLength(128);
        builder.Property(d => d.PackageName).HasMaxLength(512);
        builder.Property(d => d.Justification).HasMaxLength(TriageDecision.MaxJustificationLength);
        builder.Property(d => d.DecidedBy).HasMaxLength(256);
        builder.Property(d => d.EndedBy).HasMaxLength(256);
        builder.Property(d => d.EndedWhy).HasMaxLength(256);

        // The sync's lookup for each new finding: its vulnerability and package, then the live ones among few rows.
        builder.HasIndex(d => new { d.VulnerabilityId, d.PackageName, d.ConnectionId });
        builder.HasIndex(d => d.ExpiresAt);
    }
}
