using System.Security.Claims;
using HarborPortal.Data;
using HarborPortal.Features.Audit;
using HarborPortal.Features.Auth;
using Microsoft.EntityFrameworkCore;

namespace HarborPortal.Features.Locations;

/// <summary>Saving a connection's scanned locations: one path for the editor and the API, validated and audited the same way.</summary>
public sealed class LocationsCommands(PortalDbContext db, AuditLog audit, TimeProvider time)
{
    public const string AuditAction = "connection.locations";

    public async Task<LocationsSaveResult> SaveAsync(long connectionId, ScanLocations? requested, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var connection = await db.HarborConnections.AsNoTracking().Where(c => c.Id == connectionId).Select(c => new { c.Name }).SingleOrDefaultAsync(cancellationToken);
        if (connection is null)
        {
            return LocationsSaveResult.NotFound;
        }

        var selection = LocationsInput.Normalize(requested);
        if (selection.Validate() is { Count: > 0 } errors)
        {
            return new LocationsSaveResult(false, errors, null);
        }

        var row = await db.ConnectionLocations.SingleOrDefaultAsync(l => l.ConnectionId == connectionId, cancellationToken);
        var before = row is null ? ScanLocations.Everything : LocationsInput.Normalize(row.Selection);
        if (row is null)
        {
            row = new ConnectionLocations { ConnectionId = connectionId, SelectionJson = "" };
            db.ConnectionLocations.Add(row);
        }

        row.SelectionJson = selection.ToJson();
        row.UpdatedAt = time.GetUtcNow();
        row.UpdatedBy = user.Identity?.Name;
        await db.SaveChangesAsync(cancellationToken);
        await audit.WriteAsync(AuditAction, true, user.Identity?.Name, user.FindFirstValue(PortalClaimTypes.AuthMethod) ?? "web", connection.Name,
            LocationsText.Changes(before, selection), cancellationToken);
        return new LocationsSaveResult(false, [], selection);
    }
}

/// <summary>The outcome of a save: the saved selection, the reasons it was refused, or an unknown connection.</summary>
public sealed record LocationsSaveResult(bool IsNotFound, IReadOnlyList<string> Errors, ScanLocations? Saved)
{
    public static readonly LocationsSaveResult NotFound = new(true, [], null);
}
