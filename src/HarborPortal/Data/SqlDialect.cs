using System.Data.Common;
using HarborPortal.Features.Findings;

namespace HarborPortal.Data;

/// <summary>
/// What the hand-written SQL (the queue, the sync's writer, the dashboard) must say differently per database. Most of
/// that SQL is common: quoted names, <c>ON CONFLICT</c>, <c>RETURNING</c>, <c>TRUE</c>/<c>FALSE</c> (SQLite reads them
/// as 1/0). The differences are few and all here: how a date is stored, index hints, and text search.
/// </summary>
public abstract class SqlDialect
{
    public static readonly SqlDialect Sqlite = new SqliteDialect();

    public static readonly SqlDialect Postgres = new PostgresDialect();

    public static SqlDialect For(DatabaseProvider provider) => provider == DatabaseProvider.Postgres ? Postgres : Sqlite;

    /// <summary>The dialect of a context's provider: for code handed a context (jobs, tests) rather than the service.</summary>
    public static SqlDialect For(Microsoft.EntityFrameworkCore.DbContext db) => db is PostgresPortalDbContext ? Postgres : Sqlite;

    public abstract DatabaseProvider Provider { get; }

    public bool IsPostgres => Provider == DatabaseProvider.Postgres;

    /// <summary>A date as a parameter or a comparison value: SQLite keeps EF's binary long, PostgreSQL a UTC timestamptz.</summary>
    public abstract object Stored(DateTimeOffset value);

    /// <summary><see cref="Stored(DateTimeOffset)"/> for a nullable date (null stays <see cref="DBNull"/>).</summary>
    public object Stored(DateTimeOffset? value) => value is { } at ? Stored(at) : DBNull.Value;

    /// <summary>Reads a date column written as <see cref="Stored(DateTimeOffset)"/>.</summary>
    public abstract DateTimeOffset ReadDate(DbDataReader reader, int ordinal);

    /// <summary>
    /// SQLite's <c>INDEXED BY</c> (its planner cannot see that an index would serve a sort better); PostgreSQL has no
    /// hints and its planner uses statistics, so there the hint is dropped.
    /// </summary>
    public abstract string IndexedBy(string index);

    private sealed class SqliteDialect : SqlDialect
    {
        public override DatabaseProvider Provider => DatabaseProvider.Sqlite;

        public override object Stored(DateTimeOffset value) => StoredDates.ToStored(value);

        public override DateTimeOffset ReadDate(DbDataReader reader, int ordinal) => StoredDates.FromStored(reader.GetInt64(ordinal));

        public override string IndexedBy(string index) => $"INDEXED BY {index}";
    }

    private sealed class PostgresDialect : SqlDialect
    {
        public override DatabaseProvider Provider => DatabaseProvider.Postgres;

        public override object Stored(DateTimeOffset value) => value.ToUniversalTime();

        public override DateTimeOffset ReadDate(DbDataReader reader, int ordinal) => reader.GetFieldValue<DateTimeOffset>(ordinal);

        public override string IndexedBy(string index) => "";
    }
}
