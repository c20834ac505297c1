namespace HarborPortal;

/// <summary>The <c>Portal</c> section: what the portal keeps on disk and where.</summary>
public sealed class PortalOptions
{
    public const string SectionName = "Portal";

    /// <summary>The SQLite file, the Data Protection keys and anything else kept on disk; relative to the content root.</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>The absolute data directory for a given content root.</summary>
    public string ResolveDataDirectory(string contentRoot) => Path.GetFullPath(DataDirectory, contentRoot);
}
