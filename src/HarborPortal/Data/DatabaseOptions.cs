namespace HarborPortal.Data;

/// <summary>The <c>Database</c> section.</summary>
public sealed class DatabaseOptions
{
    public const string SectionName = "Database";

    /// <summary><c>Sqlite</c> (default, embedded) or <c>Postgres</c>.</summary>
    public string Provider { get; set; } = "Sqlite";
}
