using System.Data;
using System.Data.Common;
using HarborPortal.Data;
using HarborPortal.Features.Findings;
using HarborPortal.Features.Triage;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace HarborPortal.Features.Scanning;

/// <summary>
/// The sync's one writer: applies batches of <see cref="ArtifactOutcome"/>s to the database through prepared statements, one
/// transaction per batch, so that a stored artifact's report time always matches its stored findings (a run stopped
/// anywhere leaves a consistent database, and the next run redoes only what did not commit). DESIGN.md's ingestion
/// figure rules out EF's change tracker here. Not thread-safe: one writer per run.
/// On SQLite every row is one prepared statement (in-process calls are cheap); on PostgreSQL each round trip costs a
/// network exchange, so the batch's new findings go in as one set-based INSERT over arrays, with their "opened" events.
/// </summary>
public sealed class SyncWriter : IDisposable
{
    // SQLite has no date type: the portal stores DateTimeOffset as EF's binary long (see SqlitePortalDbContext); so must we.
    private static readonly Func<DateTimeOffset, long> ToBinary = new DateTimeOffsetToBinaryConverter().ConvertToProviderTyped;

    private const string FindingColumns =
        "\"Identity\", \"ConnectionId\", \"ProjectName\", \"RepositoryName\", \"Digest\", \"Tags\", \"VulnerabilityId\", \"PackageName\", \"InstalledVersion\", " +
        "\"FixedVersion\", \"Severity\", \"CvssScore\", \"CvssVector\", \"Title\", \"Description\", \"Links\", \"ArtifactDigests\", \"SourceTool\", \"ScannerName\", " +
        "\"ScannerVersion\", \"Status\", \"FirstSeenAt\", \"LastSeenAt\", \"ReopenCount\", \"Priority\", \"ProjectIsPublic\", \"ImagePushedAt\"";

    // The queue's priority and its inputs (PriorityRules) change with the evidence, so they are read and written with it.
    private const string EvidenceColumns =
        "\"Tags\", \"FixedVersion\", \"Severity\", \"CvssScore\", \"CvssVector\", \"Title\", \"Description\", \"Links\", \"ArtifactDigests\", \"ScannerName\", " +
        "\"ScannerVersion\", \"Priority\", \"ProjectIsPublic\", \"ImagePushedAt\"";

    private readonly DbConnection _connection;
    private readonly SqlDialect _dialect;
    private readonly DbType _dateType;
    private readonly long _connectionId;
    private readonly long? _runId;
    private readonly TimeProvider _time;
    private readonly List<DbCommand> _commands = [];
    private readonly List<long> _reopened = [];
    private readonly PendingInserts? _pending;
    private readonly BatchedReads? _batched;
    private (long CacheSize, long Synchronous)? _restore;
    private readonly HashSet<DbCommand> _prepared = [];

    private readonly DbCommand _maxFindingId, _upsertArtifact, _deleteArtifact, _existing, _insert, _updateEvidence, _reopen, _resolve, _touch,
        _event, _openedEvents, _resolveArtifactEvents, _resolveArtifact, _retag;

    public SyncWriter(DbConnection connection, SqlDialect dialect, long connectionId, long? runId, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(dialect);
        _connection = connection;
        _dialect = dialect;
        _dateType = dialect.IsPostgres ? DbType.DateTimeOffset : DbType.Int64;
        _connectionId = connectionId;
        _runId = runId;
        _time = time;

        const DbType integer = DbType.Int64, number = DbType.Int32, text = DbType.String, real = DbType.Double, flag = DbType.Boolean;
        var date = _dateType;
        const string artifact = "\"ConnectionId\" = @connection AND \"RepositoryName\" = @repository AND \"Digest\" = @digest";
        _maxFindingId = Command("SELECT COALESCE(MAX(\"Id\"), 0) FROM \"Findings\"");
        _upsertArtifact = Command(
            "INSERT INTO \"ScannedArtifacts\" (\"ConnectionId\", \"ProjectName\", \"RepositoryName\", \"Digest\", \"Tags\", \"ScanStatus\", \"ScanCompletedAt\", \"LastSeenAt\") " +
            "VALUES (@connection, @project, @repository, @digest, @tags, @status, @completed, @now) " +
            "ON CONFLICT (\"ConnectionId\", \"RepositoryName\", \"Digest\") DO UPDATE SET \"ProjectName\" = excluded.\"ProjectName\", \"Tags\" = excluded.\"Tags\", " +
            "\"ScanStatus\" = excluded.\"ScanStatus\", \"ScanCompletedAt\" = COALESCE(excluded.\"ScanCompletedAt\", \"ScannedArtifacts\".\"ScanCompletedAt\"), " +
            "\"LastSeenAt\" = excluded.\"LastSeenAt\"",
            ("@connection", integer), ("@project", text), ("@repository", text), ("@digest", text),
            ("@tags", text), ("@status", text), ("@completed", date), ("@now", date));
        _deleteArtifact = Command($"DELETE FROM \"ScannedArtifacts\" WHERE {artifact}",
            ("@connection", integer), ("@repository", text), ("@digest", text));
        // Harbor's report speaks only for Harbor's findings: imported reports of the same image (Features/Imports) keep theirs.
        const string harborOnly = $"\"SourceTool\" = '{Finding.HarborSource}'";
        _existing = Command($"SELECT \"Id\", \"Identity\", \"Status\", {EvidenceColumns} FROM \"Findings\" WHERE {artifact} AND {harborOnly}",
            ("@connection", integer), ("@repository", text), ("@digest", text));
        _insert = Command(
            $"INSERT INTO \"Findings\" ({FindingColumns}) VALUES (@identity, @connection, @project, @repository, @digest, @tags, @vulnerability, @package, " +
            "@installed, @fixed, @severity, @cvss, @vector, @title, @description, @links, @digests, @source, @scanner, @scannerVersion, @status, @now, @now, 0, " +
            "@priority, @public, @pushed)",
            ("@identity", text), ("@connection", integer), ("@project", text), ("@repository", text),
            ("@digest", text), ("@tags", text), ("@vulnerability", text), ("@package", text),
            ("@installed", text), ("@fixed", text), ("@severity", number), ("@cvss", real),
            ("@vector", text), ("@title", text), ("@description", text), ("@links", text),
            ("@digests", text), ("@source", text), ("@scanner", text), ("@scannerVersion", text),
            ("@status", number), ("@now", date), ("@priority", number), ("@public", flag), ("@pushed", date));
        // An accepted risk keeps priority None (PriorityRules) whatever the new evidence says.
        _updateEvidence = Command(
            "UPDATE \"Findings\" SET \"Tags\" = @tags, \"FixedVersion\" = @fixed, \"Severity\" = @severity, \"CvssScore\" = @cvss, \"CvssVector\" = @vector, " +
            "\"Title\" = @title, \"Description\" = @description, \"Links\" = @links, \"ArtifactDigests\" = @digests, \"ScannerName\" = @scanner, " +
            $"\"ScannerVersion\" = @scannerVersion, \"Priority\" = CASE WHEN \"Status\" = {(int)FindingStatus.RiskAccepted} THEN {(int)Severity.None} ELSE @priority END, " +
            "\"ProjectIsPublic\" = @public, \"ImagePushedAt\" = @pushed, \"LastSeenAt\" = @now WHERE \"Id\" = @id",
            ("@tags", text), ("@fixed", text), ("@severity", number), ("@cvss", real), ("@vector", text),
            ("@title", text), ("@description", text), ("@links", text), ("@digests", text),
            ("@scanner", text), ("@scannerVersion", text), ("@priority", number), ("@public", flag),
            ("@pushed", date), ("@now", date), ("@id", integer));
        _reopen = Command(
            $"UPDATE \"Findings\" SET \"Status\" = {(int)FindingStatus.Open}, \"ResolvedReason\" = NULL, \"ResolvedAt\" = NULL, \"ReopenCount\" = \"ReopenCount\" + 1, " +
            "\"LastSeenAt\" = @now WHERE \"Id\" = @id",
            ("@now", date), ("@id", integer));
        _resolve = Command(
            $"UPDATE \"Findings\" SET \"Status\" = {(int)FindingStatus.Resolved}, \"ResolvedReason\" = @reason, \"ResolvedAt\" = @now WHERE \"Id\" = @id",
            ("@reason", text), ("@now", date), ("@id", integer));
        _touch = Command(
            $"UPDATE \"Findings\" SET \"LastSeenAt\" = @now WHERE {artifact} AND {harborOnly} AND \"Status\" <> {(int)FindingStatus.Resolved} AND \"LastSeenAt\" <> @now",
            ("@now", date), ("@connection", integer), ("@repository", text), ("@digest", text));
        _event = Command(
            "INSERT INTO \"FindingEvents\" (\"FindingId\", \"At\", \"Kind\", \"Reason\", \"SyncRunId\") VALUES (@finding, @now, @kind, @reason, @run)",
            ("@finding", integer), ("@now", date), ("@kind", text), ("@reason", text), ("@run", integer));
        // New findings are the rows above the largest id before the batch: the batch's transaction holds SQLite's write lock.
        _openedEvents = Command(
            "INSERT INTO \"FindingEvents\" (\"FindingId\", \"At\", \"Kind\", \"SyncRunId\") " +
            $"SELECT \"Id\", \"FirstSeenAt\", '{FindingEventKind.Opened}', @run FROM \"Findings\" WHERE \"Id\" > @after",
            ("@run", integer), ("@after", integer));
        _resolveArtifactEvents = Command(
            "INSERT INTO \"FindingEvents\" (\"FindingId\", \"At\", \"Kind\", \"Reason\", \"SyncRunId\") " +
            $"SELECT \"Id\", @now, '{FindingEventKind.Resolved}', @reason, @run FROM \"Findings\" WHERE {artifact} AND \"Status\" <> {(int)FindingStatus.Resolved}",
            ("@now", date), ("@reason", text), ("@run", integer),
            ("@connection", integer), ("@repository", text), ("@digest", text));
        _resolveArtifact = Command(
            $"UPDATE \"Findings\" SET \"Status\" = {(int)FindingStatus.Resolved}, \"ResolvedReason\" = @reason, \"ResolvedAt\" = @now " +
            $"WHERE {artifact} AND \"Status\" <> {(int)FindingStatus.Resolved}",
            ("@reason", text), ("@now", date),
            ("@connection", integer), ("@repository", text), ("@digest", text));
        _retag = Command($"UPDATE \"Findings\" SET \"Tags\" = @tags WHERE {artifact} AND \"Tags\" <> @tags",
            ("@tags", text), ("@connection", integer), ("@repository", text), ("@digest", text));

        if (dialect.IsPostgres)
        {
            // PostgreSQL's ids come from a sequence that other transactions draw from too: "above the largest id" is not
            // "ours" there, so the new rows' ids come back from the INSERT itself.
            _pending = new PendingInserts(Command(PendingInserts.Sql, [.. PendingInserts.Parameters, ("@connection", integer), ("@status", number), ("@now", date), ("@run", integer)]));
            // …and the batch's stored findings come in one read, and "last seen" moves in one UPDATE for the batch: an unchanged
            // re-sync was three round trips per artifact, and each UPDATE statement also runs the counting trigger once.
            _batched = new BatchedReads(
                // LATERAL with OFFSET 0 (which keeps the planner from flattening it into a join): one index seek per artifact
                // whatever the statistics say. During a first sync the table grows faster than ANALYZE follows, and a hash
                // join planned on stale estimates scanned all the connection's findings for every batch.
                Command($"SELECT f.*, a.repository, a.digest FROM unnest(@repositories, @digests) AS a(repository, digest) CROSS JOIN LATERAL (" +
                    $"SELECT \"Id\", \"Identity\", \"Status\", {EvidenceColumns} FROM \"Findings\" " +
                    $"WHERE \"ConnectionId\" = @connection AND \"RepositoryName\" = a.repository AND \"Digest\" = a.digest AND {harborOnly} OFFSET 0) AS f",
                    ("@repositories", PendingInserts.ArrayType), ("@digests", PendingInserts.ArrayType), ("@connection", integer)),
                // The unchanged findings' ids were read with the batch: a seek by primary key each.
                Command($"UPDATE \"Findings\" SET \"LastSeenAt\" = @now WHERE \"Id\" = ANY(@ids) AND \"Status\" <> {(int)FindingStatus.Resolved} AND \"LastSeenAt\" <> @now",
                    ("@now", date), ("@ids", PendingInserts.ArrayType)));
        }
    }

    /// <summary>Applies one batch in one transaction and returns what it did to findings. Nothing is written if it throws.</summary>
    public FindingCounts Write(IReadOnlyList<ArtifactOutcome> batch)
    {
        if (_connection.State != ConnectionState.Open)
        {
            _connection.Open();
        }

        if (!_dialect.IsPostgres && _restore is null)
        {
            // For the run: a page cache that holds the findings' indexes (inserts land at random places in the identity index),
            // and commits that do not wait for the disk (safe in WAL mode: a crash may lose the last batches, never consistency).
            _restore = (Pragma("cache_size"), Pragma("synchronous"));
            Pragma("cache_size", -65536);
            Pragma("synchronous", 1);
        }

        var at = _time.GetUtcNow();
        if (_dialect.IsPostgres)
        {
            // timestamptz keeps microseconds: the clock's ticks would make "last seen <> now" true for a value just written.
            at = Microseconds(at);
        }

        var now = StoredDate(at);
        var counts = default(FindingCounts);
        using var transaction = _connection.BeginTransaction();
        foreach (var command in _commands)
        {
            command.Transaction = transaction;
        }

        _reopened.Clear();
        var lastIdBefore = _pending is null ? Convert.ToInt64(_maxFindingId.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) : long.MaxValue;
        var inserted = new List<long>();
        _batched?.Read(batch, _connectionId, ReadStored);
        foreach (var outcome in batch)
        {
            switch (outcome.Kind)
            {
                case ArtifactOutcomeKind.Ignored:
                    break;
                case ArtifactOutcomeKind.Removed or ArtifactOutcomeKind.LeftScannedLocations:
                    FlushIfPending(outcome, now, inserted);
                    var reason = outcome.Kind == ArtifactOutcomeKind.Removed ? Finding.ArtifactRemoved : Finding.LeftScannedLocations;
                    counts += new FindingCounts(0, 0, ResolveArtifact(outcome, reason, now), 0);
                    Execute(_deleteArtifact, _connectionId, outcome.RepositoryName, outcome.Digest);
                    break;
                default:
                    Execute(_upsertArtifact, _connectionId, outcome.ProjectName, outcome.RepositoryName, outcome.Digest, outcome.Tags,
                        outcome.ScanStatus, outcome.Kind == ArtifactOutcomeKind.Report && outcome.ScanCompletedAt is { } completed ? StoredDate(completed) : null, now);
                    if (outcome.Kind == ArtifactOutcomeKind.Report)
                    {
                        FlushIfPending(outcome, now, inserted);
                        counts += ApplyReport(outcome, now);
                    }
                    else if (outcome.TagsChanged)
                    {
                        FlushIfPending(outcome, now, inserted);
                        Execute(_retag, outcome.Tags, _connectionId, outcome.RepositoryName, outcome.Digest);
                    }

                    break;
            }
        }

        _batched?.TouchAll(now);
        if (_pending is not null)
        {
            _pending.Flush(_connectionId, now, _runId, inserted);
        }
        else if (counts.New > 0)
        {
            Execute(_openedEvents, _runId, lastIdBefore);
        }

        // New and reopened findings that a live decision covers arrive already triaged.
        if (counts.New > 0 || _reopened.Count > 0)
        {
            TriageSql.ApplyLiveDecisions(_connection, transaction, _dialect, lastIdBefore, inserted, _reopened, at, _runId);
            _reopened.Clear();
        }

        transaction.Commit();
        return counts;
    }

    private FindingCounts ApplyReport(ArtifactOutcome outcome, object now)
    {
        var existing = _batched?.Take(outcome) ?? ReadExisting(outcome);
        int @new = 0, updated = 0, resolved = 0, reopened = 0, unchanged = 0;
        var reported = new HashSet<string>(StringComparer.Ordinal);
        foreach (var finding in outcome.Findings)
        {
            reported.Add(finding.Identity);
            if (!existing.TryGetValue(finding.Identity, out var stored))
            {
                if (_pending is not null)
                {
                    _pending.Add(finding, Stamp(finding.ImagePushedAt));
                }
                else
                {
                    Execute(_insert, finding.Identity, _connectionId, finding.ProjectName, finding.RepositoryName, finding.Digest, finding.Tags, finding.VulnerabilityId,
                        finding.PackageName, finding.InstalledVersion, finding.FixedVersion, (int)finding.Severity, finding.CvssScore, finding.CvssVector, finding.Title,
                        finding.Description, finding.Links, finding.ArtifactDigests, finding.SourceTool, finding.ScannerName, finding.ScannerVersion,
                        (int)FindingStatus.Open, now, (int)finding.Priority, finding.ProjectIsPublic, Stamp(finding.ImagePushedAt));
                }

                @new++;
                continue;
            }

            var changed = !stored.SameEvidenceAs(finding, Stamp(finding.ImagePushedAt));
            if (changed)
            {
                Execute(_updateEvidence, finding.Tags, finding.FixedVersion, (int)finding.Severity, finding.CvssScore, finding.CvssVector, finding.Title,
                    finding.Description, finding.Links, finding.ArtifactDigests, finding.ScannerName, finding.ScannerVersion,
                    (int)finding.Priority, finding.ProjectIsPublic, Stamp(finding.ImagePushedAt), now, stored.Id);
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
                _batched?.Touch(stored.Id);
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

        if (unchanged > 0 && _batched is null)
        {
            // Reported again as they were: only "last seen" moves, in one statement for the artifact (PostgreSQL: for the batch).
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
            var stored = ReadStored(reader);
            existing[stored.Identity] = stored;
        }

        return existing;
    }

    // The columns of _existing, in its order (BatchedReads' read adds the artifact after them).
    private StoredFinding ReadStored(DbDataReader reader) => new(
        reader.GetInt64(0), reader.GetString(1), reader.GetInt32(2), reader.GetString(3), reader.GetString(4), reader.GetInt32(5),
        reader.IsDBNull(6) ? null : reader.GetDouble(6), reader.IsDBNull(7) ? null : reader.GetString(7), reader.GetString(8), reader.GetString(9),
        reader.GetString(10), reader.GetString(11), reader.IsDBNull(12) ? null : reader.GetString(12), reader.IsDBNull(13) ? null : reader.GetString(13),
        reader.GetInt32(14), reader.IsDBNull(15) ? null : reader.GetBoolean(15), reader.IsDBNull(16) ? null : StoredDate(_dialect.ReadDate(reader, 16), reader, 16));

    // The date as Stamp writes it, so that "same evidence" compares like with like (SQLite: the stored long as it is).
    private object StoredDate(DateTimeOffset read, DbDataReader reader, int ordinal) => _dialect.IsPostgres ? read : reader.GetInt64(ordinal);

    private int ResolveArtifact(ArtifactOutcome outcome, string reason, object now)
    {
        Execute(_resolveArtifactEvents, now, reason, _runId, _connectionId, outcome.RepositoryName, outcome.Digest);
        return Execute(_resolveArtifact, reason, now, _connectionId, outcome.RepositoryName, outcome.Digest);
    }

    // A batch rarely names one artifact twice; when it does, its earlier new findings must be in the table before it is read again.
    private void FlushIfPending(ArtifactOutcome outcome, object now, List<long> inserted)
    {
        if (_pending is not null && _pending.Holds(outcome.RepositoryName, outcome.Digest))
        {
            _pending.Flush(_connectionId, now, _runId, inserted);
        }
    }

    private object StoredDate(DateTimeOffset value) => _dialect.IsPostgres ? Microseconds(value) : ToBinary(value);

    private object? Stamp(DateTimeOffset? value) => value is { } at ? StoredDate(at) : null;

    private static DateTimeOffset Microseconds(DateTimeOffset value)
    {
        var ticks = value.UtcTicks;
        return new DateTimeOffset(ticks - (ticks % (TimeSpan.TicksPerMillisecond / 1000)), TimeSpan.Zero);
    }

    private DbCommand Command(string sql, params (string Name, DbType Type)[] parameters)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, type) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            if (type != PendingInserts.ArrayType)
            {
                parameter.DbType = type;
            }

            command.Parameters.Add(parameter);
        }

        _commands.Add(command);
        return command;
    }

    private int Execute(DbCommand command, params object?[] values)
    {
        Bind(command, values);
        return command.ExecuteNonQuery();
    }

    private void Bind(DbCommand command, params object?[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters[i].Value = values[i] ?? DBNull.Value;
        }

        // PostgreSQL: a server-side prepared statement, parsed and planned once per run instead of once per row. (SQLite's
        // commands keep their compiled statement anyway.)
        if (_dialect.IsPostgres && _prepared.Add(command))
        {
            command.Prepare();
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
        object? ImagePushedAt)
    {
        public bool SameEvidenceAs(Finding f, object? imagePushedAt) =>
            Tags == f.Tags && FixedVersion == f.FixedVersion && Severity == (int)f.Severity && CvssScore == f.CvssScore && CvssVector == f.CvssVector
            && Title == f.Title && Description == f.Description && Links == f.Links && ArtifactDigests == f.ArtifactDigests
            && ScannerName == f.ScannerName && ScannerVersion == f.ScannerVersion
            && (Priority == (int)f.Priority || Status == (int)FindingStatus.RiskAccepted) && ProjectIsPublic == f.ProjectIsPublic && Equals(ImagePushedAt, imagePushedAt);
    }

    /// <summary>
    /// PostgreSQL only: the stored findings of the batch's reported artifacts, read in one query before the batch is applied,
    /// and the findings reported again unchanged, whose "last seen" moves in one UPDATE after it. An artifact named more than
    /// once in a batch (rare) is read when it comes, since an earlier outcome of the batch may have changed its findings.
    /// </summary>
    private sealed class BatchedReads(DbCommand read, DbCommand touch)
    {
        private readonly Dictionary<(string Repository, string Digest), Dictionary<string, StoredFinding>> _stored = [];
        private readonly List<long> _touch = [];

        public void Read(IReadOnlyList<ArtifactOutcome> batch, long connectionId, Func<DbDataReader, StoredFinding> readStored)
        {
            _stored.Clear();
            _touch.Clear();
            var once = batch.CountBy(o => (o.RepositoryName, o.Digest)).Where(c => c.Value == 1).Select(c => c.Key).ToHashSet();
            var reports = batch.Where(o => o.Kind == ArtifactOutcomeKind.Report && once.Contains((o.RepositoryName, o.Digest))).ToList();
            if (reports.Count == 0)
            {
                return;
            }

            foreach (var outcome in reports)
            {
                _stored[(outcome.RepositoryName, outcome.Digest)] = new(StringComparer.Ordinal);
            }

            read.Parameters[0].Value = reports.Select(o => o.RepositoryName).ToArray();
            read.Parameters[1].Value = reports.Select(o => o.Digest).ToArray();
            read.Parameters[2].Value = connectionId;
            using var reader = read.ExecuteReader();
            while (reader.Read())
            {
                var stored = readStored(reader);
                _stored[(reader.GetString(17), reader.GetString(18))][stored.Identity] = stored;
            }
        }

        /// <summary>The artifact's stored findings if they were read with the batch (each only once), else null.</summary>
        public Dictionary<string, StoredFinding>? Take(ArtifactOutcome outcome) =>
            _stored.Remove((outcome.RepositoryName, outcome.Digest), out var stored) ? stored : null;

        /// <summary>A stored finding reported again as it was: only its "last seen" moves, with the batch's others.</summary>
        public void Touch(long findingId) => _touch.Add(findingId);

        public void TouchAll(object now)
        {
            if (_touch.Count == 0)
            {
                return;
            }

            touch.Parameters[0].Value = now;
            touch.Parameters[1].Value = _touch.ToArray();
            touch.ExecuteNonQuery();
            _touch.Clear();
        }
    }

    /// <summary>
    /// PostgreSQL only: the batch's new findings, column by column, written by one INSERT … SELECT FROM unnest(arrays) that
    /// also writes their "opened" events and returns their ids (one round trip for the batch instead of one per row).
    /// </summary>
    private sealed class PendingInserts(DbCommand command)
    {
        // Array parameters carry no DbType: Npgsql takes the array type from the CLR element type.
        public const DbType ArrayType = DbType.Object;

        public static readonly (string Name, DbType Type)[] Parameters =
        [
            ("@identity", ArrayType), ("@project", ArrayType), ("@repository", ArrayType), ("@digest", ArrayType), ("@tags", ArrayType),
            ("@vulnerability", ArrayType), ("@package", ArrayType), ("@installed", ArrayType), ("@fixed", ArrayType), ("@severity", ArrayType),
            ("@cvss", ArrayType), ("@vector", ArrayType), ("@title", ArrayType), ("@description", ArrayType), ("@links", ArrayType),
            ("@digests", ArrayType), ("@source", ArrayType), ("@scanner", ArrayType), ("@scannerVersion", ArrayType), ("@priority", ArrayType),
            ("@public", ArrayType), ("@pushed", ArrayType),
        ];

        public static readonly string Sql =
            $"WITH inserted AS (INSERT INTO \"Findings\" ({FindingColumns}) " +
            "SELECT u.finding_identity, @connection, u.project, u.repository, u.digest, u.tags, u.vulnerability, u.package, u.installed, u.fixed, " +
            "u.severity, u.cvss, u.vector, u.title, u.description, u.links, u.digests, u.source, u.scanner, u.scanner_version, @status, @now, @now, 0, " +
            "u.priority, u.is_public, u.pushed " +
            "FROM unnest(@identity, @project, @repository, @digest, @tags, @vulnerability, @package, @installed, @fixed, @severity, @cvss, @vector, @title, " +
            "@description, @links, @digests, @source, @scanner, @scannerVersion, @priority, @public, @pushed) " +
            "AS u(finding_identity, project, repository, digest, tags, vulnerability, package, installed, fixed, severity, cvss, vector, title, description, " +
            "links, digests, source, scanner, scanner_version, priority, is_public, pushed) " +
            "RETURNING \"Id\"), " +
            "opened AS (INSERT INTO \"FindingEvents\" (\"FindingId\", \"At\", \"Kind\", \"SyncRunId\") " +
            $"SELECT \"Id\", @now, '{FindingEventKind.Opened}', @run FROM inserted) " +
            "SELECT \"Id\" FROM inserted";

        private readonly List<Finding> _findings = [];
        private readonly List<DateTimeOffset?> _pushed = [];
        private readonly HashSet<(string Repository, string Digest)> _artifacts = [];

        public void Add(Finding finding, object? pushed)
        {
            _findings.Add(finding);
            _pushed.Add((DateTimeOffset?)pushed);
            _artifacts.Add((finding.RepositoryName, finding.Digest));
        }

        public bool Holds(string repository, string digest) => _artifacts.Contains((repository, digest));

        public void Flush(long connectionId, object now, long? runId, List<long> inserted)
        {
            if (_findings.Count == 0)
            {
                return;
            }

            object[] columns =
            [
                Column(f => f.Identity), Column(f => f.ProjectName), Column(f => f.RepositoryName), Column(f => f.Digest), Column(f => f.Tags),
                Column(f => f.VulnerabilityId), Column(f => f.PackageName), Column(f => f.InstalledVersion), Column(f => f.FixedVersion),
                _findings.Select(f => (int)f.Severity).ToArray(), _findings.Select(f => f.CvssScore).ToArray(), Column(f => f.CvssVector),
                Column(f => f.Title), Column(f => f.Description), Column(f => f.Links), Column(f => f.ArtifactDigests), Column(f => f.SourceTool),
                Column(f => f.ScannerName), Column(f => f.ScannerVersion), _findings.Select(f => (int)f.Priority).ToArray(),
                _findings.Select(f => f.ProjectIsPublic).ToArray(), _pushed.ToArray(),
                connectionId, (int)FindingStatus.Open, now, (object?)runId ?? DBNull.Value,
            ];
            for (var i = 0; i < columns.Length; i++)
            {
                command.Parameters[i].Value = columns[i];
            }

            using (var reader = command.ExecuteReader())
            {
                while (reader.Read())
                {
                    inserted.Add(reader.GetInt64(0));
                }
            }

            _findings.Clear();
            _pushed.Clear();
            _artifacts.Clear();
        }

        private string?[] Column(Func<Finding, string?> value) => _findings.Select(value).ToArray();
    }
}
