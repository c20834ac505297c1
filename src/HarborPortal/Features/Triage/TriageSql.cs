using System.Globalization;
using System.Text.Json;
using HarborPortal.Features.Findings;
using Microsoft.Data.Sqlite;

namespace HarborPortal.Features.Triage;

/// <summary>Triage's set-based SQL for writers that bypass EF (the sync, the imports).</summary>
public static class TriageSql
{
    // The most specific live decision for finding f: digest before repository before project, then the newest.
    internal static readonly string BestDecisionFor = $"""
        SELECT d.Id FROM TriageDecisions d
        WHERE d.VulnerabilityId = f.VulnerabilityId AND d.PackageName = f.PackageName AND d.ConnectionId = f.ConnectionId
          AND d.EndedAt IS NULL AND (d.ExpiresAt IS NULL OR d.ExpiresAt > $now)
          AND ((d.Scope = {(int)TriageScope.Digest} AND d.RepositoryName = f.RepositoryName AND d.Digest = f.Digest)
            OR (d.Scope = {(int)TriageScope.Repository} AND d.RepositoryName = f.RepositoryName)
            OR (d.Scope = {(int)TriageScope.Project} AND d.ProjectName = f.ProjectName))
        ORDER BY d.Scope, d.Id DESC LIMIT 1
        """;

    /// <summary>
    /// Applies the live triage decisions to findings a writer has just inserted (every id above <paramref name="insertedAfterId"/>)
    /// or reopened (<paramref name="reopenedIds"/>), inside the writer's transaction: each Open one that a decision covers
    /// takes the decision's status (the most specific decision wins), its id and expiry, priority None when the risk is
    /// accepted, and a "Triaged" event naming the decision. A reopened finding no decision covers forgets its old one.
    /// Set-based (a few statements per batch, an index seek per new finding) and free when no decision is live.
    /// Call it once per batch, after the batch's rows and their "Opened"/"Reopened" events are written.
    /// </summary>
    /// <returns>How many findings it triaged.</returns>
    public static int ApplyLiveDecisions(
        SqliteConnection connection, SqliteTransaction? transaction, long insertedAfterId, IReadOnlyCollection<long> reopenedIds, DateTimeOffset now, long? syncRunId)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(reopenedIds);
        var stamp = StoredDates.ToStored(now);
        var reopened = JsonSerializer.Serialize(reopenedIds);

        if (reopenedIds.Count > 0)
        {
            // A finding resolved while triaged comes back Open: its old decision no longer speaks for it unless re-applied below.
            Execute(connection, transaction,
                "UPDATE Findings SET TriageDecisionId = NULL, RiskAcceptedUntil = NULL WHERE Id IN (SELECT value FROM json_each($reopened)) AND TriageDecisionId IS NOT NULL",
                ("$reopened", reopened));
        }

        if (!Exists(connection, transaction, stamp))
        {
            return 0;
        }

        Execute(connection, transaction, "CREATE TEMP TABLE IF NOT EXISTS TriageMatches (FindingId INTEGER PRIMARY KEY, DecisionId INTEGER NOT NULL)");
        Execute(connection, transaction, "DELETE FROM temp.TriageMatches");
        var matched = Execute(connection, transaction, $"""
            INSERT INTO temp.TriageMatches (FindingId, DecisionId)
            SELECT m.FindingId, m.DecisionId FROM (
                SELECT f.Id AS FindingId, ({BestDecisionFor}) AS DecisionId
                FROM Findings f
                WHERE (f.Id > $after OR f.Id IN (SELECT value FROM json_each($reopened))) AND f.Status = {(int)FindingStatus.Open}
            ) m WHERE m.DecisionId IS NOT NULL
            """, ("$now", stamp), ("$after", insertedAfterId), ("$reopened", reopened));
        if (matched == 0)
        {
            return 0;
        }

        Execute(connection, transaction, $"""
            INSERT INTO FindingEvents (FindingId, At, Kind, Reason, SyncRunId)
            SELECT FindingId, $now, '{TriageEventKind.Triaged}', 'Triaged by decision #' || DecisionId, $run FROM temp.TriageMatches
            """, ("$now", stamp), ("$run", syncRunId));
        Execute(connection, transaction, $"""
            UPDATE Findings SET Status = d.Status, TriageDecisionId = d.Id, RiskAcceptedUntil = d.ExpiresAt,
                Priority = CASE WHEN d.Status = {(int)FindingStatus.RiskAccepted} THEN {(int)Severity.None} ELSE Findings.Priority END
            FROM temp.TriageMatches m JOIN TriageDecisions d ON d.Id = m.DecisionId
            WHERE Findings.Id = m.FindingId
            """);
        Execute(connection, transaction, "DELETE FROM temp.TriageMatches");
        return matched;
    }

    private static bool Exists(SqliteConnection connection, SqliteTransaction? transaction, long now)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT EXISTS (SELECT 1 FROM TriageDecisions WHERE EndedAt IS NULL AND (ExpiresAt IS NULL OR ExpiresAt > $now))";
        command.Parameters.AddWithValue("$now", now);
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture) != 0;
    }

    private static int Execute(SqliteConnection connection, SqliteTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command.ExecuteNonQuery();
    }
}
