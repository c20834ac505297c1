using System.Data;
using HarborPortal.Features.Findings;
using HarborPortal.Features.Triage;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace HarborPortal.Features.Scanning;

/// <summary>
/// The sync's one writer: applies batches of <see cref="ArtifactOutcome"/>s to SQLite through prepared statements, one
/// transaction per batch, so that a stored artifact's report time always matches its stored findings (a run stopped
/// anywhere leaves a consistent database, and the next run redoes only what did not commit). DESIGN.md's ingestion
/// figure rules out EF's change tracker here. Not thread-safe: one writer per run.
/// </summary>
public sealed class SyncWriter : IDisposable
{
    // SQLite has no date type: the portal stores DateTimeOffset as EF's binary long (see SqlitePortalDbContext); so must we.
    private static readonly Func<DateTimeOffset, long> ToBinary = new DateTimeOffsetToBinaryConverter().ConvertToProviderTyped;

    private static long? Stamp(DateTimeOffset? value) => value is { } at ? ToBinary(at) : null;

    private static int? Flag(bool? value) => value is { } flag ? (flag ? 1 : 0) : null;

    private const string FindingColumns =
        "Identity, ConnectionId, ProjectName, RepositoryName, Digest, Tags, VulnerabilityId, PackageName, InstalledVersion, FixedVersion, Severity, " +
        "CvssScore, CvssVector, Title, Description, Links, ArtifactDigests, SourceTool, ScannerName, ScannerVersion, Status, FirstSeenAt, LastSeenAt, ReopenCount, " +
        "Priority, ProjectIsPublic, ImagePushedAt";

    // The queue's priority and its inputs (PriorityRules) change with the evidence, so they are read and written with it.
    private const string EvidenceColumns =
        "Tags, FixedVersion, Severity, CvssScore, CvssVector, Title, Description, Links, ArtifactDigests, ScannerName, ScannerVersion, Priority, ProjectIsPublic, ImagePushedAt";

    private readonly SqliteConnection _connection;
    private readonly long _connectionId;
    private readonly long? _runId;
    private readonly TimeProvider _time;
    private readonly List<SqliteCommand> _commands = [];
    private readonly List<long> _reopened = [];
    private (long CacheSize, long Synchronous)? _restore;

    private readonly SqliteCommand _maxFindingId, _upsertArtifact, _deleteArtifact, _existing, _insert, _updateEvidence, _reopen, _resolve, _touch,
        _event, _openedEvents, _resolveArtifactEvents, _resolveArtifact, _retag;

    public SyncWriter(SqliteConnection connection, long connectionId, long? runId, TimeProvider time)
    {
        _connection = connection;
        _connectionId = connectionId;
        _runId = runId;
        _time = time;

        const string artifact = "ConnectionId = $connection AND RepositoryName = $repository AND Digest = $digest";
        _maxFindingId = Command("SELECT COALESCE(MAX(Id), 0) FROM Findings");
        _upsertArtifact = Command(
            "INSERT INTO ScannedArtifacts (ConnectionId, ProjectName, RepositoryName, Digest, Tags, ScanStatus, ScanCompletedAt, LastSeenAt) " +
            "VALUES ($connection, $project, $repository, $digest, $tags, $status, $completed, $now) " +
            "ON CONFLICT (ConnectionId, RepositoryName, Digest) DO UPDATE SET ProjectName = excluded.ProjectName, Tags = excluded.Tags, " +
            "ScanStatus = excluded.ScanStatus, ScanCompletedAt = COALESCE(excluded.ScanCompletedAt, ScannedArtifacts.ScanCompletedAt), LastSeenAt = excluded.LastSeenAt",
            ("$connection", SqliteType.Integer), ("$project", SqliteType.Text), ("$repository", SqliteType.Text), ("$digest", SqliteType.Text),
            ("$tags", SqliteType.Text), ("$status", SqliteType.Text), ("$completed", SqliteType.Integer), ("$now", SqliteType.Integer));
        _deleteArtifact = Command($"DELETE FROM ScannedArtifacts WHERE {artifact}",
            ("$connection", SqliteType.Integer), ("$repository", SqliteType.Text), ("$digest", SqliteType.Text));
        // Harbor's report speaks only for Harbor's findings: imported reports of the same image (Features/Imports) keep theirs.
        const string harborOnly = $"SourceTool = '{Finding.HarborSource}'";
        _existing = Command($"SELECT Id, Identity, Status, {EvidenceColumns} FROM Findings WHERE {artifact} AND {harborOnly}",
            ("$connection", SqliteType.Integer), ("$repository", SqliteType.Text), ("$digest", SqliteType.Text));
        _insert = Command(
            $"INSERT INTO Findings ({FindingColumns}) VALUES ($identity, $connection, $project, $repository, $digest, $tags, $vulnerability, $package, " +
            "$installed, $fixed, $severity, $cvss, $vector, $title, $description, $links, $digests, $source, $scanner, $scannerVersion, $status, $now, $now, 0, " +
            "$priority, $public, $pushed)",
            ("$identity", SqliteType.Text), ("$connection", SqliteType.Integer), ("$project", SqliteType.Text), ("$repository", SqliteType.Text),
            ("$digest", SqliteType.Text), ("$tags", SqliteType.Text), ("$vulnerability", SqliteType.Text), ("$package", SqliteType.Text),
            ("$installed", SqliteType.Text), ("$fixed", SqliteType.Text), ("$severity", SqliteType.Integer), ("$cvss", SqliteType.Real),
            ("$vector", SqliteType.Text), ("$title", SqliteType.Text), ("$description", SqliteType.Text), ("$links", SqliteType.Text),
            ("$digests", SqliteType.Text), ("$source", SqliteType.Text), ("$scanner", SqliteType.Text), ("$scannerVersion", SqliteType.Text),
            ("$status", SqliteType.Integer), ("$now", SqliteType.Integer), ("$priority", SqliteType.Integer), ("$public", SqliteType.Integer),
            ("$pushed", SqliteType.Integer));
        // An accepted risk keeps priority None (PriorityRules) whatever the new evidence says.
        _updateEvidence = Command(
            "UPDATE Findings SET Tags = $tags, FixedVersion = $fixed, Severity = $severity, CvssScore = $cvss, CvssVector = $vector, Title = $title, " +
            "Description = $description, Links = $links, ArtifactDigests = $digests, ScannerName = $scanner, ScannerVersion = $scannerVersion, " +
            $"Priority = CASE WHEN Status = {(int)FindingStatus.RiskAccepted} THEN {(int)Severity.None} ELSE $priority END, ProjectIsPublic = $public, ImagePushedAt = $pushed, LastSeenAt = $now WHERE Id = $id",
            ("$tags", SqliteType.Text), ("$fixed", SqliteType.Text), ("$severity", SqliteType.Integer), ("$cvss", SqliteType.Real), ("$vector", SqliteType.Text),
            ("$title", SqliteType.Text), ("$description", SqliteType.Text), ("$links", SqliteType.Text), ("$digests", SqliteType.Text),
            ("$scanner", SqliteType.Text), ("$scannerVersion", SqliteType.Text), ("$priority", SqliteType.Integer), ("$public", SqliteType.Integer),
            ("$pushed", SqliteType.Integer), ("$now", SqliteType.Integer), ("$id", SqliteType.Integer));
        _reopen = Command(
            $"UPDATE Findings SET Status = {(int)FindingStatus.Open}, ResolvedReason = NULL, ResolvedAt = NULL, ReopenCount = ReopenCount + 1, LastSeenAt = $now WHERE Id = $id",
            ("$now", SqliteType.Integer), ("$id", SqliteType.Integer));
        _resolve = Command(
            $"UPDATE Findings SET Status = {(int)FindingStatus.Resolved}, ResolvedReason = $reason, ResolvedAt = $now WHERE Id = $id",
            ("$reason", SqliteType.Text), ("$now", SqliteType.Integer), ("$id", SqliteType.Integer));
        _touch = Command(
            $"UPDATE Findings SET LastSeenAt = $now WHERE {artifact} AND {harborOnly} AND Status <> {(int)FindingStatus.Resolved} AND LastSeenAt <> $now",
            ("$now", SqliteType.Integer), ("$connection", SqliteType.Integer), ("$repository", SqliteType.Text), ("$digest", SqliteType.Text));
        _event = Command(
            "INSERT INTO FindingEvents (FindingId, At, Kind, Reason, SyncRunId) VALUES ($finding, $now, $kind, $reason, $run)",
            ("$finding", SqliteType.Integer), ("$now", SqliteType.Integer), ("$kind", SqliteType.Text), ("$reason", SqliteType.Text), ("$run", SqliteType.Integer));
        // New findings are the rows above the largest id before the batch: the batch's transaction holds the write lock.
        _openedEvents = Command(
            $"INSERT INTO FindingEvents (FindingId, At, Kind, SyncRunId) SELECT Id, FirstSeenAt, '{FindingEventKind.Opened}', $run FROM Findings WHERE Id > $after",
            ("$run", SqliteType.Integer), ("$after", SqliteType.Integer));
        _resolveArtifactEvents = Command(
            $"INSERT INTO FindingEvents (FindingId, At, Kind, Reason, SyncRunId) SELECT Id, $now, '{FindingEventKind.Resolved}', $reason, $run FROM Findings " +
            $"WHERE {artifact} AND Status <> {(int)FindingStatus.Resolved}",
            ("$now", SqliteType.Integer), ("$reason", SqliteType.Text), ("$run", SqliteType.Integer),
            ("$connection", SqliteType.Integer), ("$repository", SqliteType.Text), ("$digest", SqliteType.Text));
        _resolveArtifact = Command(
            $"UPDATE Findings SET Status = {(int)FindingStatus.Resolved}, ResolvedReason = $reason, ResolvedAt = $now WHERE {artifact} AND Status <> {(int)FindingStatus.Resolved}",
            ("$reason", SqliteType.Text), ("$now", SqliteType.Integer),
            ("$connection", SqliteType.Integer), ("$repository", SqliteType.Text), ("$digest", SqliteType.Text));
        _retag = Command($"UPDATE Findings SET Tags = $tags WHERE {artifact} AND Tags <> $tags",
            ("$tags", SqliteType.Text), ("$connection", SqliteType.Integer), ("$repository", SqliteType.Text), ("$digest", SqliteType.Text));
    }

    /// <summary>Applies one batch in one transaction and returns what it did to findings. Nothing is written if it throws.</summary>
    public FindingCounts Write(IReadOnlyList<ArtifactOutcome> batch)
    {
        if (_connection.State != ConnectionState.Open)
        {
            _connection.Open();
        }

        if (_restore is null)
        {
            // For the run: a page cache that holds the findings' indexes (inserts land at random places in the identity index),
            // and commits that do not wait for the disk (safe in WAL mode: a crash may lose the last batches, never consistency).
            _restore = (Pragma("cache_size"), Pragma("synchronous"));
            Pragma("cache_size", -65536);
            Pragma("synchronous", 1);
        }

        var at = _time.GetUtcNow();
        var now = ToBinary(at);
        var counts = default(FindingCounts);
        using var transaction = _connection.BeginTransaction();
        foreach (var command in _commands)
        {
            command.Transaction = transaction;
        }

        _reopened.Clear();
        var lastIdBefore = (long)_maxFindingId.ExecuteScalar()!;
        foreach (var outcome in batch)
        {
            switch (outcome.Kind)
            {
                case ArtifactOutcomeKind.Ignored:
                    break;
                case ArtifactOutcomeKind.Removed or ArtifactOutcomeKind.LeftScannedLocations:
                    var reason = outcome.Kind == ArtifactOutcomeKind.Removed ? Finding.ArtifactRemoved : Finding.LeftScannedLocations;
                    counts += new FindingCounts(0, 0, ResolveArtifact(outcome, reason, now), 0);
                    Execute(_deleteArtifact, _connectionId, outcome.RepositoryName, outcome.Digest);
                    break;
                default:
                    Execute(_upsertArtifact, _connectionId, outcome.ProjectName, outcome.RepositoryName, outcome.Digest, outcome.Tags,
                        outcome.ScanStatus, outcome.Kind == ArtifactOutcomeKind.Report && outcome.ScanCompletedAt is { } completed ? ToBinary(completed) : null, now);
                    if (outcome.Kind == ArtifactOutcomeKind.Report)
                    {
                        counts += ApplyReport(outcome, now);
                    }
                    else if (outcome.TagsChanged)
                    {
                        Execute(_retag, outcome.Tags, _connectionId, outcome.RepositoryName, outcome.Digest);
                    }

                    break;
            }
        }

        if (counts.New > 0)
        {
            Execute(_openedEvents, _runId, lastIdBefore);
        }

        // New and reopened findings that a live decision covers arrive already triaged.
        if (counts.New > 0 || _reopened.Count > 0)
        {
            TriageSql.ApplyLiveDecisions(_connection, transaction, lastIdBefore, _reopened, at, _runId);
            _reopened.Clear();
        }

        transaction.Commit();
        return counts;
    }

    private FindingCounts ApplyReport(ArtifactOutcome outcome, long now)
    {
        var existing = ReadExisting(outcome);
        int @new = 0, updated = 0, resolved = 0, reopened = 0, unchanged = 0;
        var reported = new HashSet<string>(StringComparer.Ordinal);
        foreach (var finding in outcome.Findings)
        {
            reported.Add(finding.Identity);
            if (!existing.TryGetValue(finding.Identity, out var stored))
            {
                Execute(_insert, finding.Identity, _connectionId, finding.ProjectName, finding.RepositoryName, finding.Digest, finding.Tags, finding.VulnerabilityId,
                    finding.PackageName, finding.InstalledVersion, finding.FixedVersion, (int)finding.Severity, finding.CvssScore, finding.CvssVector, finding.Title,
                    finding.Description, finding.Links, finding.ArtifactDigests, finding.SourceTool, finding.ScannerName, finding.ScannerVersion,
                    (int)FindingStatus.Open, now, (int)finding.Priority, Flag(finding.ProjectIsPublic), Stamp(finding.ImagePushedAt));
                @new++;
                continue;
            }

            var changed = !stored.SameEvidenceAs(finding);
            if (changed)
            {
                Execute(_updateEvidence, finding.Tags, finding.FixedVersion, (int)finding.Severity, finding.CvssScore, finding.CvssVector, finding.Title,
                    finding.Description, finding.Links, finding.ArtifactDigests, finding.ScannerName, finding.ScannerVersion,
                    (int)finding.Priority, Flag(finding.ProjectIsPublic), Stamp(finding.ImagePushedAt), now, stored.Id);
            }

            if (stored.Status == (int)FindingStatus.Resolved)
            {
                Execute(_reopen, now, stored.Id);
                Execute(_event, stored.Id, now, FindingEventKind.Reopened, null, _runId);
                _reopened.Add(stored.Id);
                reopened++;
            }
            else if (changed)
            {
                updated++;
            }
            else
            {
                unchanged++;
            }
        }

        foreach (var stored in existing.Values)
        {
            if (stored.Status != (int)FindingStatus.Resolved && !reported.Contains(stored.Identity))
            {
                Execute(_resolve, Finding.NoLongerReported, now, stored.Id);
                Execute(_event, stored.Id, now, FindingEventKind.Resolved, Finding.NoLongerReported, _runId);
                resolved++;
            }
        }

        if (unchanged > 0)
        {
            // Reported again as they were: only "last seen" moves, in one statement for the artifact.
            Execute(_touch, now, _connectionId, outcome.RepositoryName, outcome.Digest);
        }

        return new FindingCounts(@new, updated, resolved, reopened);
    }

    private Dictionary<string, StoredFinding> ReadExisting(ArtifactOutcome outcome)
    {
        var existing = new Dictionary<string, StoredFinding>(StringComparer.Ordinal);
        Bind(_existing, _connectionId, outcome.RepositoryName, outcome.Digest);
        using var reader = _existing.ExecuteReader();
        while (reader.Read())
        {
            var stored = new StoredFinding(
                reader.GetInt64(0), reader.GetString(1), reader.GetInt32(2), reader.GetString(3), reader.GetString(4), reader.GetInt32(5),
                reader.IsDBNull(6) ? null : reader.GetDouble(6), reader.IsDBNull(7) ? null : reader.GetString(7), reader.GetString(8), reader.GetString(9),
                reader.GetString(10), reader.GetString(11), reader.IsDBNull(12) ? null : reader.GetString(12), reader.IsDBNull(13) ? null : reader.GetString(13),
                reader.GetInt32(14), reader.IsDBNull(15) ? null : reader.GetBoolean(15), reader.IsDBNull(16) ? null : reader.GetInt64(16));
            existing[stored.Identity] = stored;
        }

        return existing;
    }

    private int ResolveArtifact(ArtifactOutcome outcome, string reason, long now)
    {
        Execute(_resolveArtifactEvents, now, reason, _runId, _connectionId, outcome.RepositoryName, outcome.Digest);
        return Execute(_resolveArtifact, reason, now, _connectionId, outcome.RepositoryName, outcome.Digest);
    }

    private SqliteCommand Command(string sql, params (string Name, SqliteType Type)[] parameters)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, type) in parameters)
        {
            command.Parameters.Add(name, type);
        }

        _commands.Add(command);
        return command;
    }

    private static int Execute(SqliteCommand command, params object?[] values)
    {
        Bind(command, values);
        return command.ExecuteNonQuery();
    }

    private static void Bind(SqliteCommand command, params object?[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters[i].Value = values[i] ?? DBNull.Value;
        }
    }

    private long Pragma(string name, long? value = null)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = value is null ? $"PRAGMA {name}" : $"PRAGMA {name} = {value.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
        return value is null ? (long)command.ExecuteScalar()! : command.ExecuteNonQuery();
    }

    public void Dispose()
    {
        if (_restore is { } restore && _connection.State == ConnectionState.Open)
        {
            // The connection goes back to the pool for pages and other jobs: as it was.
            Pragma("cache_size", restore.CacheSize);
            Pragma("synchronous", restore.Synchronous);
        }

        foreach (var command in _commands)
        {
            command.Dispose();
        }

        _commands.Clear();
    }

    private sealed record StoredFinding(
        long Id, string Identity, int Status, string Tags, string FixedVersion, int Severity, double? CvssScore, string? CvssVector, string Title,
        string Description, string Links, string ArtifactDigests, string? ScannerName, string? ScannerVersion, int Priority, bool? ProjectIsPublic,
        long? ImagePushedAt)
    {
        public bool SameEvidenceAs(Finding f) =>
            Tags == f.Tags && FixedVersion == f.FixedVersion && Severity == (int)f.Severity && CvssScore == f.CvssScore && CvssVector == f.CvssVector
            && Title == f.Title && Description == f.Description && Links == f.Links && ArtifactDigests == f.ArtifactDigests
            && ScannerName == f.ScannerName && ScannerVersion == f.ScannerVersion
            && (Priority == (int)f.Priority || Status == (int)FindingStatus.RiskAccepted) && ProjectIsPublic == f.ProjectIsPublic && ImagePushedAt == Stamp(f.ImagePushedAt);
    }
}
