using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using HarborPortal.Data;
using HarborPortal.Features.Findings;

namespace HarborPortal.Features.Triage;

/// <summary>Triage's set-based SQL for writers that bypass EF (the sync, the imports), on SQLite and PostgreSQL.</summary>
public static class TriageSql
{
    // The most specific live decision for finding f: digest before repository before project, then the newest.
    internal static readonly string BestDecisionFor = $"""
        SELECT d."Id" FROM "TriageDecisions" d
        WHERE d."VulnerabilityId" = f."VulnerabilityId" AND d."PackageName" = f."PackageName" AND d."ConnectionId" = f."ConnectionId"
          AND d."EndedAt" IS NULL AND (d."ExpiresAt" IS NULL OR d."ExpiresAt" > @now)
          AND ((d."Scope" = {(int)TriageScope.Digest} AND d."RepositoryName" = f."RepositoryName" AND d."Digest" = f."Digest")
            OR (d."Scope" = {(int)TriageScope.Repository} AND d."RepositoryName" = f."RepositoryName")
            OR (d."Scope" = {(int)TriageScope.Project} AND d."ProjectName" = f."ProjectName"))
        ORDER BY d."Scope", d."Id" DESC LIMIT 1
        """;

    /// <summary>
    /// Applies the live triage decisions to findings a writer has just inserted (every id above <paramref name="insertedAfterId"/>,
    /// and <paramref name="insertedIds"/>) or reopened (<paramref name="reopenedIds"/>), inside the writer's transaction: each Open
    /// one that a decision covers takes the decision's status (the most specific decision wins), its id and expiry, priority
    /// None when the risk is accepted, and a "Triaged" event naming the decision. A reopened finding no decision covers
    /// forgets its old one. Set-based (a few statements per batch, an index seek per new finding) and free when no decision
    /// is live. Call it once per batch, after the batch's rows and their "Opened"/"Reopened" events are written.
    /// "Above an id" is for SQLite, whose write lock makes every id above the batch's start the batch's own; PostgreSQL's
    /// sequence is shared with concurrent writers, so there the writer names its ids (pass <see cref="long.MaxValue"/>).
    /// </summary>
    /// <returns>How many findings it triaged.</returns>
    public static int ApplyLiveDecisions(
        DbConnection connection, DbTransaction? transaction, SqlDialect dialect, long insertedAfterId, IReadOnlyCollection<long> insertedIds,
        IReadOnlyCollection<long> reopenedIds, DateTimeOffset now, long? syncRunId)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(dialect);
        ArgumentNullException.ThrowIfNull(insertedIds);
        ArgumentNullException.ThrowIfNull(reopenedIds);
        var stamp = dialect.Stored(now);
        // A list of ids as one parameter: a JSON array read by json_each on SQLite, a bigint[] on PostgreSQL.
        object Ids(IReadOnlyCollection<long> ids) => dialect.IsPostgres ? ids.ToArray() : JsonSerializer.Serialize(ids);
        var inIds = dialect.IsPostgres ? "= ANY(@ids)" : "IN (SELECT value FROM json_each(@ids))";

        if (reopenedIds.Count > 0)
        {
            // A finding resolved while triaged comes back Open: its old decision no longer speaks for it unless re-applied below.
            Execute(connection, transaction,
                $"""UPDATE "Findings" SET "TriageDecisionId" = NULL, "RiskAcceptedUntil" = NULL WHERE "Id" {inIds} AND "TriageDecisionId" IS NOT NULL""",
                ("@ids", Ids(reopenedIds)));
        }

        if (!Exists(connection, transaction, stamp))
        {
            return 0;
        }

        var (integer, temp) = dialect.IsPostgres ? ("bigint", "pg_temp") : ("INTEGER", "temp");
        Execute(connection, transaction, $"""CREATE TEMP TABLE IF NOT EXISTS "TriageMatches" ("FindingId" {integer} PRIMARY KEY, "DecisionId" {integer} NOT NULL)""");
        Execute(connection, transaction, $"""DELETE FROM {temp}."TriageMatches" """);
        var matched = Execute(connection, transaction, $"""
            INSERT INTO {temp}."TriageMatches" ("FindingId", "DecisionId")
            SELECT m."FindingId", m."DecisionId" FROM (
                SELECT f."Id" AS "FindingId", ({BestDecisionFor}) AS "DecisionId"
                FROM "Findings" f
                WHERE (f."Id" > @after OR f."Id" {inIds}) AND f."Status" = {(int)FindingStatus.Open}
            ) m WHERE m."DecisionId" IS NOT NULL
            """, ("@now", stamp), ("@after", insertedAfterId), ("@ids", Ids([.. insertedIds, .. reopenedIds])));
        if (matched == 0)
        {
            return 0;
        }

        Execute(connection, transaction, $"""
            INSERT INTO "FindingEvents" ("FindingId", "At", "Kind", "Reason", "SyncRunId")
            SELECT "FindingId", @now, '{TriageEventKind.Triaged}', 'Triaged by decision #' || "DecisionId", @run FROM {temp}."TriageMatches"
            """, ("@now", stamp), ("@run", syncRunId));
        Execute(connection, transaction, $"""
            UPDATE "Findings" SET "Status" = d."Status", "TriageDecisionId" = d."Id", "RiskAcceptedUntil" = d."ExpiresAt",
                "Priority" = CASE WHEN d."Status" = {(int)FindingStatus.RiskAccepted} THEN {(int)Severity.None} ELSE "Findings"."Priority" END
            FROM {temp}."TriageMatches" m JOIN "TriageDecisions" d ON d."Id" = m."DecisionId"
            WHERE "Findings"."Id" = m."FindingId"
            """);
        Execute(connection, transaction, $"""DELETE FROM {temp}."TriageMatches" """);
        return matched;
    }

    private static bool Exists(DbConnection connection, DbTransaction? transaction, object now)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """SELECT EXISTS (SELECT 1 FROM "TriageDecisions" WHERE "EndedAt" IS NULL AND ("ExpiresAt" IS NULL OR "ExpiresAt" > @now))""";
        AddParameter(command, "@now", now);
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture) != 0;
    }

    private static int Execute(DbConnection connection, DbTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            AddParameter(command, name, value);
        }

        return command.ExecuteNonQuery();
    }

    private static void AddParameter(DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        if (value is null)
        {
            // An untyped NULL (the run of an import) still needs a type for PostgreSQL's column.
            parameter.DbType = System.Data.DbType.Int64;
        }

        command.Parameters.Add(parameter);
    }
}
