using HarborPortal.Features.Findings;

namespace HarborPortal.Features.Scanning;

/// <summary>What a sync learnt about one artifact, and so what <see cref="SyncWriter"/> does with it.</summary>
public enum ArtifactOutcomeKind
{
    /// <summary>Its report completed no later than the stored one: nothing to read.</summary>
    Unchanged,

    /// <summary>A newer report was read: its findings replace the stored ones.</summary>
    Report,

    /// <summary>Harbor answered <c>{}</c> although the overview said Success: no report, never "clean"; the findings stay.</summary>
    NoReport,

    /// <summary>Never scanned, or a scan is pending or running.</summary>
    NotScanned,

    /// <summary>Never scanned, and the sync asked Harbor to scan it.</summary>
    ScanRequested,

    /// <summary>Harbor's scan of it ended in Error.</summary>
    ScanFailed,

    /// <summary>Reading it failed (<see cref="ArtifactOutcome.Error"/>); what is stored stays, and the next run tries again.</summary>
    Error,

    /// <summary>A target of a targeted run that is outside the scanned locations and was never synced: nothing to do.</summary>
    Ignored,

    /// <summary>Gone from Harbor: its findings are resolved as <see cref="Finding.ArtifactRemoved"/>.</summary>
    Removed,

    /// <summary>Still in Harbor but no longer selected: its findings are resolved as <see cref="Finding.LeftScannedLocations"/>.</summary>
    LeftScannedLocations,
}

/// <summary>One artifact's result, handed from the Harbor side of the sync to its one writer.</summary>
/// <param name="RepositoryName">The full repository name, project included.</param>
public sealed record ArtifactOutcome(ArtifactOutcomeKind Kind, string ProjectName, string RepositoryName, string Digest)
{
    /// <summary>Comma separated, as Harbor lists them now.</summary>
    public string Tags { get; init; } = "";

    /// <summary>The tags differ from the stored ones, so the findings' copy is refreshed too.</summary>
    public bool TagsChanged { get; init; }

    /// <summary>Harbor's scan status (Success, Error, Running, …), null when never scanned.</summary>
    public string? ScanStatus { get; init; }

    /// <summary>For <see cref="ArtifactOutcomeKind.Report"/>: when that report was completed (what the next run compares with).</summary>
    public DateTimeOffset? ScanCompletedAt { get; init; }

    /// <summary>For <see cref="ArtifactOutcomeKind.Report"/>: the normalised findings, one per identity.</summary>
    public IReadOnlyList<Finding> Findings { get; init; } = [];

    /// <summary>For <see cref="ArtifactOutcomeKind.Error"/>: what went wrong, for the run's error list.</summary>
    public string? Error { get; init; }

    /// <summary>False for artifacts the run did not look at in Harbor (removals found by comparing with what is stored).</summary>
    public bool Seen { get; init; } = true;
}
