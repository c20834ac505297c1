using HarborPortal.Data;
using HarborPortal.Features.Connections;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HarborPortal.Features.Locations;

/// <summary>The saved <see cref="ScanLocations"/> of one connection. No row means <see cref="ScanLocations.Everything"/>.</summary>
public sealed class ConnectionLocations
{
    public long ConnectionId { get; set; }

    /// <summary><see cref="ScanLocations.ToJson"/>.</summary>
    public required string SelectionJson { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public string? UpdatedBy { get; set; }

    public ScanLocations Selection => ScanLocations.FromJson(SelectionJson);

    /// <summary>The connection's scanned locations, <see cref="ScanLocations.Everything"/> until an admin saved some.</summary>
    public static async Task<ScanLocations> ForAsync(PortalDbContext db, long connectionId, CancellationToken cancellationToken)
    {
        var json = await db.ConnectionLocations.AsNoTracking()
            .Where(l => l.ConnectionId == connectionId)
            .Select(l => l.SelectionJson)
            .SingleOrDefaultAsync(cancellationToken);
        return ScanLocations.FromJson(json);
    }
}

internal sealed class ConnectionLocationsConfiguration : IEntityTypeConfiguration<ConnectionLocations>
{
    public void Configure(EntityTypeBuilder<ConnectionLocations> builder)
    {
        builder.HasKey(l => l.ConnectionId);
        builder.Property(l => l.ConnectionId).ValueGeneratedNever();
        builder.Property(l => l.UpdatedBy).HasMaxLength(256);
        builder.Ignore(l => l.Selection);
        builder.HasOne<HarborConnection>().WithOne().HasForeignKey<ConnectionLocations>(l => l.ConnectionId).OnDelete(DeleteBehavior.Cascade);
    }
}
