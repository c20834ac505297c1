namespace HarborPortal.Features.Imports;

/// <summary>Limits of report uploads (section <c>Imports</c>).</summary>
public sealed class ImportOptions
{
    public const string SectionName = "Imports";

    /// <summary>The largest report accepted; a Trivy report of a big image with every reference is a few MB.</summary>
    public long MaxFileBytes { get; set; } = 50L * 1024 * 1024;
}
