using System.Globalization;

namespace HarborPortal.Features.Scanning;

/// <summary>
/// How far a run has got, for the progress bar, the Jobs page and the API: the share of artifacts looked at (unknown until
/// enumeration has counted them) and one line saying what the run is doing.
/// </summary>
public sealed record SyncRunProgress(int ArtifactsSeen, int ArtifactsTotal, int? Percent, string Activity)
{
    public static SyncRunProgress For(SyncRun run)
    {
        int? percent = run switch
        {
            { Status: SyncRunStatus.Succeeded } => 100,
            { ArtifactsTotal: > 0 } => Math.Clamp((int)(100L * run.ArtifactsSeen / run.ArtifactsTotal), 0, 100),
            _ => null,
        };
        return new SyncRunProgress(run.ArtifactsSeen, run.ArtifactsTotal, percent, Describe(run));
    }

    /// <summary>"Reading artifacts: 120 of 500"; for a finished run, how it ended.</summary>
    public static string Describe(SyncRun run) => run switch
    {
        { IsActive: true, CancelRequestedAt: not null } => "Cancelling…",
        { Status: SyncRunStatus.Pending } => "Waiting to start…",
        { Status: SyncRunStatus.Running, ArtifactsTotal: 0 } =>
            $"Listing projects and repositories ({Count(run.Projects, "project")}, {Count(run.Repositories, "repository", "repositories")} so far)…",
        { Status: SyncRunStatus.Running } =>
            $"Reading artifacts: {N(run.ArtifactsSeen)} of {N(run.ArtifactsTotal)} ({Count(run.ReportsFetched, "report")} fetched)…",
        { Status: SyncRunStatus.Succeeded } => "Finished.",
        { Status: SyncRunStatus.Partial } => $"Finished with {Count(run.ErrorCount, "error")}.",
        { Status: SyncRunStatus.Cancelled } => "Cancelled.",
        _ => "Failed.",
    };

    /// <summary>From start to end, or to <paramref name="now"/> while running; null before it started.</summary>
    public static TimeSpan? Duration(SyncRun run, DateTimeOffset now) =>
        run.StartedAt is { } started ? (run.FinishedAt ?? now) - started : null;

    public static string FormatDuration(TimeSpan? duration) => duration switch
    {
        null => "—",
        { TotalSeconds: < 60 } d => d.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + " s",
        { TotalHours: < 1 } d => $"{(int)d.TotalMinutes} min {d.Seconds} s",
        { } d => $"{(int)d.TotalHours} h {d.Minutes} min",
    };

    private static string N(int value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Count(int value, string one, string? many = null) => $"{N(value)} {(value == 1 ? one : many ?? one + "s")}";
}
