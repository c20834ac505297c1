using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HarborPortal.Features.Teams;

/// <summary>
/// A development team: the members of one authentik group, and the Harbor projects whose findings they own.
/// A Developer sees the findings of the projects of every team whose group they are in.
/// </summary>
public sealed class Team
{
    public const int MaxNameLength = 128;
    public const int MaxGroupLength = 256;

    public long Id { get; set; }

    public required string Name { get; set; }

    /// <summary>The authentik group (as the <c>groups</c> claim spells it) whose members are the team.</summary>
    public required string AuthentikGroup { get; set; }

    public List<TeamProject> Projects { get; set; } = [];

    public DateTimeOffset UpdatedAt { get; set; }

    public string? UpdatedBy { get; set; }
}

/// <summary>A Harbor project a team owns, by name, in whichever connection it appears.</summary>
public sealed class TeamProject
{
    public long TeamId { get; set; }

    public required string ProjectName { get; set; }
}

internal sealed class TeamConfiguration : IEntityTypeConfiguration<Team>
{
    public void Configure(EntityTypeBuilder<Team> builder)
    {
        builder.Property(t => t.Name).HasMaxLength(Team.MaxNameLength);
        builder.Property(t => t.AuthentikGroup).HasMaxLength(Team.MaxGroupLength);
        builder.Property(t => t.UpdatedBy).HasMaxLength(256);
        builder.HasIndex(t => t.Name).IsUnique();
        builder.HasIndex(t => t.AuthentikGroup);
        builder.HasMany(t => t.Projects).WithOne().HasForeignKey(p => p.TeamId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class TeamProjectConfiguration : IEntityTypeConfiguration<TeamProject>
{
    public void Configure(EntityTypeBuilder<TeamProject> builder)
    {
        builder.HasKey(p => new { p.TeamId, p.ProjectName });
        builder.Property(p => p.ProjectName).HasMaxLength(256);
        builder.HasIndex(p => p.ProjectName);
    }
}
