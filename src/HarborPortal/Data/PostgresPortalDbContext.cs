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

        EndIndexesWithId(modelBuilder);
    }

    /// <summary>
    /// SQLite ends every index entry with the rowid, so its (Priority) index is (Priority, Id) and the queue's keyset seek
    /// "(Priority, Id) &lt; (p, id)" is one range of it. PostgreSQL's entries end with the indexed columns: the same seek
    /// would read and sort every row of priority p. Appending "Id" to the findings' indexes (under their SQLite names,
    /// which the queue's plans use) gives PostgreSQL the same ordered ranges. Unique indexes are looked up, never walked.
    /// </summary>
    private static void EndIndexesWithId(ModelBuilder modelBuilder)
    {
        var findings = modelBuilder.Entity<Finding>();
        foreach (var index in findings.Metadata.GetIndexes().Where(i => !i.IsUnique).ToList())
        {
            var name = index.GetDatabaseName();
            var filter = index.GetFilter();
            string[] columns = [.. index.Properties.Select(p => p.Name), nameof(Finding.Id)];
            findings.Metadata.RemoveIndex(index);
            var withId = findings.HasIndex(columns).HasDatabaseName(name);
            if (filter is not null)
            {
                withId.HasFilter(filter);
            }
        }
    }

    private sealed class UtcDateTimeOffsetConverter() : ValueConverter<DateTimeOffset, DateTimeOffset>(
        value => value.ToUniversalTime(),
        value => value);
}
