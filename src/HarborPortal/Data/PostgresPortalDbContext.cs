using HarborPortal.Features.Findings;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace HarborPortal.Data;

/// <summary>The PostgreSQL flavour of the portal's database (several instances on one database); owns <c>Migrations/Postgres</c>.</summary>
public sealed class PostgresPortalDbContext(DbContextOptions<PostgresPortalDbContext> options) : PortalDbContext(options)
{
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // timestamptz keeps instants, not offsets, and Npgsql refuses to write a non-UTC DateTimeOffset. Harbor's and the
        // feeds' dates arrive with offsets, so every value is turned to UTC on its way in (the instant is unchanged).
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<UtcDateTimeOffsetConverter>();
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);

        // PostgreSQL 15 generates only stored columns; SQLite's are virtual (computed on read).
        modelBuilder.Entity<Finding>().Property(f => f.FixAvailable).HasComputedColumnSql("\"FixedVersion\" <> ''", stored: true);
        modelBuilder.Entity<Finding>().Property(f => f.CvssRank).HasComputedColumnSql("coalesce(\"CvssScore\", -1)", stored: true);
    }

    private sealed class UtcDateTimeOffsetConverter() : ValueConverter<DateTimeOffset, DateTimeOffset>(
        value => value.ToUniversalTime(),
        value => value);
}
