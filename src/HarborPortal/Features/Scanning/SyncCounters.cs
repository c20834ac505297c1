namespace HarborPortal.Features.Scanning;

/// <summary>
/// A run's counts while it runs, shared by the enumeration, the Harbor requests and the writer (each adds under one
/// lock), and copied into <see cref="SyncRun"/> when the writer persists progress. Findings counts are added only
/// after their batch has committed, so what a page reads is what the database holds.
/// </summary>
public sealed class SyncCounters
{
    private readonly Lock _gate = new();
    private readonly List<string> _errors = [];
    private int _projects, _repositories, _total, _seen, _changed, _skipped, _notScanned, _removed, _reports, _scanRequested, _scanFailed;
    private int _new, _updated, _resolved, _reopened, _errorCount;

    public int ErrorCount
    {
        get { lock (_gate) { return _errorCount; } }
    }

    public void AddError(string error)
    {
        lock (_gate)
        {
            _errorCount++;
            if (_errors.Count < SyncRun.MaxErrors)
            {
                _errors.Add(error.Length > 1000 ? error[..999] + "…" : error);
            }
        }
    }

    public void AddListed(int projects, int repositories)
    {
        lock (_gate)
        {
            _projects += projects;
            _repositories += repositories;
        }
    }

    /// <summary>How many artifacts the run will look at (the progress bar's 100 %).</summary>
    public void SetTotal(int artifacts)
    {
        lock (_gate)
        {
            _total = artifacts;
        }
    }

    /// <summary>Counts one committed batch.</summary>
    public void Add(IEnumerable<ArtifactOutcome> outcomes, FindingCounts findings)
    {
        lock (_gate)
        {
            foreach (var outcome in outcomes)
            {
                if (outcome.Seen)
                {
                    _seen++;
                }

                switch (outcome.Kind)
                {
                    case ArtifactOutcomeKind.Unchanged or ArtifactOutcomeKind.Ignored:
                        _skipped++;
                        break;
                    case ArtifactOutcomeKind.Report:
                        _reports++;
                        _changed++;
                        break;
                    case ArtifactOutcomeKind.NoReport or ArtifactOutcomeKind.NotScanned:
                        _notScanned++;
                        break;
                    case ArtifactOutcomeKind.ScanRequested:
                        _scanRequested++;
                        break;
                    case ArtifactOutcomeKind.ScanFailed:
                        _scanFailed++;
                        break;
                    case ArtifactOutcomeKind.Removed or ArtifactOutcomeKind.LeftScannedLocations:
                        _removed++;
                        break;
                    case ArtifactOutcomeKind.Error:
                        _errorCount++;
                        if (_errors.Count < SyncRun.MaxErrors)
                        {
                            _errors.Add($"{outcome.RepositoryName}@{outcome.Digest}: {outcome.Error}");
                        }

                        break;
                }
            }

            _new += findings.New;
            _updated += findings.Updated;
            _resolved += findings.Resolved;
            _reopened += findings.Reopened;
        }
    }

    public void CopyTo(SyncRun run)
    {
        lock (_gate)
        {
            run.Projects = _projects;
            run.Repositories = _repositories;
            run.ArtifactsTotal = _total;
            run.ArtifactsSeen = _seen;
            run.ArtifactsChanged = _changed;
            run.ArtifactsSkipped = _skipped;
            run.ArtifactsNotScanned = _notScanned;
            run.ArtifactsRemoved = _removed;
            run.ArtifactsScanRequested = _scanRequested;
            run.ArtifactsScanFailed = _scanFailed;
            run.ReportsFetched = _reports;
            run.FindingsNew = _new;
            run.FindingsUpdated = _updated;
            run.FindingsResolved = _resolved;
            run.FindingsReopened = _reopened;
            run.ErrorCount = _errorCount;
            run.ErrorList = [.. _errors];
        }
    }
}

/// <summary>Findings written by one batch.</summary>
public readonly record struct FindingCounts(int New, int Updated, int Resolved, int Reopened)
{
    public static FindingCounts operator +(FindingCounts a, FindingCounts b) =>
        new(a.New + b.New, a.Updated + b.Updated, a.Resolved + b.Resolved, a.Reopened + b.Reopened);
}
