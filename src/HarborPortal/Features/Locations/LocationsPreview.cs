using System.Collections.Concurrent;
using HarborPortal.Harbor;
using Microsoft.Extensions.Options;

namespace HarborPortal.Features.Locations;

/// <summary>
/// How many repositories and artifacts a selection covers right now, counted from Harbor with the same rules the sync
/// applies (<see cref="ScanLocations"/>). A few requests at a time and within a time budget: past it, or when Harbor
/// fails for some of them, the result says so and counts what it could — a failure never reads as zero.
/// </summary>
public sealed class LocationsPreview(HarborClient harbor, IOptions<LocationsOptions> options, TimeProvider time)
{
    private const int FailuresKept = 10;

    public async Task<PreviewResult> CountAsync(HarborConnectionSettings settings, ScanLocations selection, CancellationToken cancellationToken)
    {
        var budget = options.Value.PreviewBudget;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(budget);
        var started = time.GetTimestamp();
        var tally = new Tally(selection);
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Value.PreviewConcurrency), CancellationToken = deadline.Token };

        try
        {
            IReadOnlyList<string> projects;
            if (selection.AllProjects)
            {
                var listed = await harbor.ListProjectsAsync(settings, cancellationToken: deadline.Token);
                if (!listed.IsSuccess)
                {
                    return tally.Result(time.GetElapsedTime(started), budget, timedOut: false, fatal: $"Listing Harbor's projects failed: {listed.Failure!.Message}");
                }

                projects = [.. listed.Value!.Select(p => p.Name)];
                tally.HarborProjects = projects.Count;
            }
            else
            {
                projects = [.. selection.Projects.Select(p => p.Name)];
            }

            var repositories = new ConcurrentQueue<HarborRepository>();
            await Parallel.ForEachAsync(projects, parallel, async (project, token) =>
            {
                var listed = await harbor.ListRepositoriesAsync(settings, project, token);
                if (!listed.IsSuccess)
                {
                    tally.ProjectFailed(project, listed.Failure!);
                    return;
                }

                var included = listed.Value!.Where(r => selection.IncludesRepository(project, r.Name)).ToList();
                tally.ProjectListed(project, included.Count, listed.Value!.Count);
                foreach (var repository in included)
                {
                    repositories.Enqueue(repository);
                }
            });

            await Parallel.ForEachAsync(repositories, parallel, async (repository, token) =>
            {
                var listed = await harbor.ListArtifactsAsync(settings, repository.ProjectName, repository.NameInProject, withScanOverview: false, token);
                if (!listed.IsSuccess)
                {
                    tally.RepositoryFailed(repository.Name, listed.Failure!);
                    return;
                }

                tally.RepositoryCounted(repository.ProjectName, selection.SelectArtifacts(listed.Value!).Count);
            });
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return tally.Result(time.GetElapsedTime(started), budget, timedOut: true, fatal: null);
        }

        return tally.Result(time.GetElapsedTime(started), budget, timedOut: false, fatal: null);
    }

    // Written by several requests at once: one lock, held only to add numbers.
    private sealed class Tally(ScanLocations selection)
    {
        private readonly Lock _gate = new();
        private readonly List<string> _failures = [];
        private readonly Dictionary<string, ProjectCount> _listed = new(StringComparer.Ordinal);
        private int _failureCount;
        private int _projects;
        private int _repositories;
        private int _repositoriesInProjects;
        private int _repositoriesCounted;
        private long _artifacts;

        public int? HarborProjects { get; set; }

        public void ProjectFailed(string project, HarborFailure failure)
        {
            // A chosen project that is gone reads as 401/403 to a robot (Harbor hides what it does not let you see).
            var message = failure is HarborErrorResponse { Status: 401 or 403 or 404 }
                ? $"project {project}: not found in Harbor, or the connection's account may not read it ({failure.Message})"
                : $"project {project}: {failure.Message}";
            Fail(message, () => _listed[project] = new ProjectCount(project, 0, 0, 0, failure.Message));
        }

        public void ProjectListed(string project, int included, int total)
        {
            lock (_gate)
            {
                _projects++;
                _repositories += included;
                _repositoriesInProjects += total;
                _listed[project] = new ProjectCount(project, included, total, 0, null);
            }
        }

        public void RepositoryFailed(string repository, HarborFailure failure) => Fail($"repository {repository}: {failure.Message}", null);

        public void RepositoryCounted(string project, int artifacts)
        {
            lock (_gate)
            {
                _repositoriesCounted++;
                _artifacts += artifacts;
                if (_listed.TryGetValue(project, out var count))
                {
                    _listed[project] = count with { Artifacts = count.Artifacts + artifacts };
                }
            }
        }

        public PreviewResult Result(TimeSpan elapsed, TimeSpan budget, bool timedOut, string? fatal)
        {
            lock (_gate)
            {
                return new PreviewResult
                {
                    Projects = _projects,
                    HarborProjects = HarborProjects,
                    Repositories = _repositories,
                    RepositoriesInProjects = _repositoriesInProjects,
                    RepositoriesCounted = _repositoriesCounted,
                    Artifacts = _artifacts,
                    Failures = [.. _failures],
                    FailureCount = _failureCount,
                    Fatal = fatal,
                    TimedOut = timedOut,
                    Elapsed = elapsed,
                    Budget = budget,
                    PerProject = [.. selection.Projects.Select(p => _listed.GetValueOrDefault(p.Name) ?? new ProjectCount(p.Name, 0, 0, 0, timedOut || fatal is not null ? "not counted" : "not found in Harbor"))],
                };
            }
        }

        private void Fail(string message, Action? alsoUnderLock)
        {
            lock (_gate)
            {
                _failureCount++;
                if (_failures.Count < FailuresKept)
                {
                    _failures.Add(message);
                }

                alsoUnderLock?.Invoke();
            }
        }
    }
}

/// <summary>What a selection covers now. Complete only without a failure, a time-out or a fatal error.</summary>
public sealed record PreviewResult
{
    /// <summary>Included projects that Harbor listed repositories for.</summary>
    public int Projects { get; init; }

    /// <summary>Every project Harbor lists, when the selection takes all of them.</summary>
    public int? HarborProjects { get; init; }

    /// <summary>Repositories the selection keeps, of <see cref="RepositoriesInProjects"/> in its projects.</summary>
    public int Repositories { get; init; }

    public int RepositoriesInProjects { get; init; }

    /// <summary>Repositories whose artifacts were counted (fewer than <see cref="Repositories"/> after a failure or a time-out).</summary>
    public int RepositoriesCounted { get; init; }

    public long Artifacts { get; init; }

    /// <summary>The first few failures, each naming the project or repository.</summary>
    public IReadOnlyList<string> Failures { get; init; } = [];

    public int FailureCount { get; init; }

    /// <summary>Nothing could be counted (listing the projects failed).</summary>
    public string? Fatal { get; init; }

    public bool TimedOut { get; init; }

    public TimeSpan Elapsed { get; init; }

    public TimeSpan Budget { get; init; }

    /// <summary>One line per project the selection names, in its order.</summary>
    public IReadOnlyList<ProjectCount> PerProject { get; init; } = [];

    public bool Complete => Fatal is null && !TimedOut && FailureCount == 0;
}

public sealed record ProjectCount(string Name, int Matched, int Total, long Artifacts, string? Failure);
