using HarborPortal.Data;
using Microsoft.EntityFrameworkCore;

namespace HarborPortal.Features.Connections;

/// <summary>
/// Serialises the writers of one connection across every portal instance (check-then-insert of a pending sync run,
/// replacing posture results): the connection's row is locked until the current transaction ends. One statement for
/// both databases: on PostgreSQL the no-op update takes the row lock, so a second instance waits at it until the
/// first commits and then reads what it wrote; on SQLite the transaction is already the only writer.
/// </summary>
public static class ConnectionRowLock
{
    /// <summary>Locks the row inside the open transaction; false when the connection does not exist.</summary>
    public static async Task<bool> TakeAsync(PortalDbContext db, long connectionId, CancellationToken cancellationToken)
    {
        if (db.Database.CurrentTransaction is null)
        {
            throw new InvalidOperationException("A connection's row lock is held until the transaction ends: begin one first.");
        }

        var locked = await db.Database.ExecuteSqlAsync($"""UPDATE "HarborConnections" SET "Id" = "Id" WHERE "Id" = {connectionId}""", cancellationToken);
        return locked == 1;
    }
}
