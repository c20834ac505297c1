using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace HarborPortal.Data;

/// <summary>The SQLite flavour of the portal's database; owns <c>Migrations/Sqlite</c>.</summary>
public sealed class SqlitePortalDbContext(DbContextOptions<SqlitePortalDbContext> options) : PortalDbContext(options)
{
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // SQLite has no date type: EF stores DateTimeOffset as text, which it cannot compare or sort in SQL.
        // As a 64-bit number (ticks with the offset folded in) it sorts, compares and indexes like a date.
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<DateTimeOffsetToBinaryConverter>();
    }
}
