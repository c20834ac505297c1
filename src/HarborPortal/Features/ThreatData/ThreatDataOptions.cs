namespace HarborPortal.Features.ThreatData;

/// <summary>The <c>ThreatData</c> section: where the feeds come from by default and how much of them is read.</summary>
public sealed class ThreatDataOptions
{
    public const string SectionName = "ThreatData";

    public string KevUrl { get; set; } = "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json";

    public string EpssUrl { get; set; } = "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz";

    /// <summary>The most a download or upload may hold, compressed and again uncompressed (EPSS is ~15 MB as CSV).</summary>
    public long MaxBytes { get; set; } = 64L * 1024 * 1024;

    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(2);

    public string DefaultUrl(ThreatFeedKind kind) => kind == ThreatFeedKind.Kev ? KevUrl : EpssUrl;
}
