using System.Collections.Concurrent;
using System.Data;
using System.Net;
using System.Text.Json;
using System.Threading.Channels;
using HarborPortal.Data;
using HarborPortal.Features.Connections;
using HarborPortal.Features.Findings;
using HarborPortal.Features.Locations;
using HarborPortal.Features.Operations;
using HarborPortal.Features.ThreatData;
using HarborPortal.Harbor;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace HarborPortal.Features.Scanning;

/// <summary>
/// Runs one sync of a connection as a pipeline: the scanned locations are enumerated (projects → repositories →
/// artifacts with their scan overview; for a targeted run only the named artifacts are re-read), reports are fetched
/// only for artifacts scanned since the stored report, with at most the connection's in-flight limit of concurrent
/// Harbor requests, and one writer applies the results in batches (<see cref="SyncWriter"/>). An error on one item goes
/// into the run's error list and the run goes on. Progress is persisted about once a second, which is also when a
/// Cancel is noticed; between batches the run stops cleanly and what was written stays consistent.
/// </summary>
public sealed partial class SyncRunner(
    PortalDbContext db, SqlDialect dialect, HarborClient harbor, ConnectionSecrets secrets, TimeProvider time,
    IOptions<ConnectionsOptions> options, PortalMetrics metrics, ILogger<SyncRunner> logger, SyncRunLiveness liveness)
{
    /// <summary>A batch is written when it holds this many findings…</summary>
    private const int MaxBatchFindings = 5000;

    /// <summary>…or this many artifacts…</summary>
    private const int MaxBatchArtifacts = 500;

    /// <summary>…or when its oldest outcome has waited this long (few, larger transactions; each commit costs a sync to disk).</summary>
    private static readonly TimeSpan MaxBatchDelay = TimeSpan.FromMilliseconds(250);

    private static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(1);

    // Set when another instance took this run over (this one was taken for dead): its end is the taker's to write.
    private bool _handedOver;

    /// <param name="recovering">Quartz re-fired the job of an instance that died (the run is taken over whatever its heartbeat says).</param>
    public async Task RunAsync(long connectionId, long runId, CancellationToken cancellationToken, bool recovering = false)
    {
        var run = await db.SyncRuns.SingleOrDefaultAsync(r => r.Id == runId && r.ConnectionId == connectionId, cancellationToken);
        var connection = await db.HarborConnections.FindAsync([connectionId], cancellationToken);
        if (run is null || connection is null || !run.IsActive)
        {
            // Deleted meanwhile, or already finished (a trigger replayed after a restart).
            return;
        }

        if (!await ClaimAsync(run, recovering, cancellationToken))
        {
            return;
        }
        // Webhook targets merged into the run while it was Pending are only in the database; once it is Running,
        // SyncRequests no longer merges into it (its update is conditional on Pending), so this read is complete.
        await db.Entry(run).ReloadAsync(cancellationToken);

        var progress = new SyncCounters();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var status = SyncRunStatus.Cancelled;
        try
        {
            if (run.CancelRequestedAt is null)
            {
                status = await SyncAsync(connection, run, progress, stop);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Cancel, or the portal shutting down: the batches written so far are complete and consistent.
        }
        catch (Exception exception)
        {
            progress.AddError($"The sync stopped on an unexpected error ({exception.GetType().Name}): {exception.Message}");
            await FinishAsync(connection, run, progress, SyncRunStatus.Failed);
            throw;
        }

        if (_handedOver)
        {
            Log.HandedOver(logger, run.Id, liveness.InstanceId);
            return;
        }

        await FinishAsync(connection, run, progress, status);
    }

    // A run found Running was interrupted (its instance died): it is taken over and starts over, which is safe because
    // every batch is idempotent. One found Running on a live instance is left to it. The claim is conditional on what was
    // read, so two instances cannot both take a run.
    private async Task<bool> ClaimAsync(SyncRun run, bool recovering, CancellationToken cancellationToken)
    {
        string? resumedFrom = null;
        if (run.Status == SyncRunStatus.Running)
        {
            if (!recovering && !liveness.IsOrphaned(run))
            {
                Log.RunningElsewhere(logger, run.Id, run.RunningOn);
                return false;
            }

            resumedFrom = run.RunningOn ?? "an unknown instance";
            Log.Resuming(logger, run.Id, resumedFrom, liveness.InstanceId, recovering);
        }

        var now = time.GetUtcNow();
        var (seenStatus, seenOn) = (run.Status, run.RunningOn);
        var claimed = await db.SyncRuns
            .Where(r => r.Id == run.Id && r.Status == seenStatus && r.RunningOn == seenOn)
            .ExecuteUpdateAsync(set => set.SetProperty(r => r.Status, SyncRunStatus.Running).SetProperty(r => r.RunningOn, liveness.InstanceId)
                .SetProperty(r => r.HeartbeatAt, now), cancellationToken);
        if (claimed == 0)
        {
            return false;
        }

        run.Restart();
        run.Status = SyncRunStatus.Running;
        run.StartedAt = now;
        run.RunningOn = liveness.InstanceId;
        run.HeartbeatAt = now;
        run.ResumedFrom = resumedFrom ?? run.ResumedFrom;
        await db.SaveChangesAsync(cancellationToken);
        return true;
    }

    private async Task FinishAsync(HarborConnection connection, SyncRun run, SyncCounters progress, SyncRunStatus status)
    {
        progress.CopyTo(run);
        run.Status = status;
        run.FinishedAt = time.GetUtcNow();
        if (status is SyncRunStatus.Succeeded or SyncRunStatus.Partial && run.Targets is null)
        {
            connection.LastSyncAt = run.FinishedAt;
        }

        // The run's row is written whatever happened to the job's token: a stopped run must not stay "Running".
        await db.SaveChangesAsync(CancellationToken.None);
        Log.Finished(logger, connection.Name, run.Id, run.Status, run.ArtifactsSeen, run.ReportsFetched, run.FindingsNew, run.FindingsResolved, run.ErrorCount);
        metrics.SyncFinished(connection.Name, run.Status.ToString(), run.FinishedAt.Value - (run.StartedAt ?? run.FinishedAt.Value), run.FindingsNew, run.FindingsReopened, run.FindingsResolved);
    }

    private async Task<SyncRunStatus> SyncAsync(HarborConnection connection, SyncRun run, SyncCounters progress, CancellationTokenSource stop)
    {
        if (secrets.SettingsFor(connection, options.Value.RequestTimeout) is not { } settings)
        {
            progress.AddError("The stored secret cannot be decrypted (the data protection keys changed); rotate the secret.");
            return SyncRunStatus.Failed;
        }

        var context = new SyncContext(
            connection, settings, run.TargetList, await ConnectionLocations.ForAsync(db, connection.Id, stop.Token),
            await db.ScannedArtifacts.AsNoTracking().Where(a => a.ConnectionId == connection.Id)
                .ToDictionaryAsync(a => new ArtifactKey(a.RepositoryName, a.Digest), stop.Token),
            progress) { Threats = await ThreatIntel.LoadAsync(db, stop.Token) };

        await db.Database.OpenConnectionAsync(stop.Token);
        try
        {
            using var writer = new SyncWriter(db.Database.GetDbConnection(), dialect, connection.Id, run.Id, time);
            var parallelism = Math.Max(1, settings.MaxConcurrency);
            var fetches = Channel.CreateBounded<ArtifactWork>(new BoundedChannelOptions(parallelism * 4) { SingleWriter = false, SingleReader = false });
            var outcomes = Channel.CreateBounded<ArtifactOutcome>(new BoundedChannelOptions(256) { SingleReader = true });

            var harborSide = Task.Run(() => ReadHarborAsync(context, fetches, outcomes, parallelism, stop.Token));
            try
            {
                await WriteAsync(run, writer, outcomes.Reader, progress, stop);
            }
            catch
            {
                // The Harbor side may be waiting for room in the channel: stop it before leaving.
                await stop.CancelAsync();
                await Task.WhenAny(harborSide);
                throw;
            }

            var result = await harborSide;
            stop.Token.ThrowIfCancellationRequested();
            if (result.Failed)
            {
                return SyncRunStatus.Failed;
            }

            if (context.Targets is null)
            {
                // Only a complete enumeration proves absence: removals are found after it, and written like any other outcome.
                var removals = Removals(context, result).ToList();
                for (var i = 0; i < removals.Count; i += MaxBatchArtifacts)
                {
                    stop.Token.ThrowIfCancellationRequested();
                    var batch = removals.GetRange(i, Math.Min(MaxBatchArtifacts, removals.Count - i));
                    progress.Add(batch, writer.Write(batch));
                }
            }

            return progress.ErrorCount > 0 ? SyncRunStatus.Partial : SyncRunStatus.Succeeded;
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    // Everything that talks to Harbor: the enumeration feeding the fetch workers; when it ends, the writer's channel is closed.
    private async Task<Enumeration> ReadHarborAsync(
        SyncContext context, Channel<ArtifactWork> fetches, Channel<ArtifactOutcome> outcomes, int parallelism, CancellationToken cancellationToken)
    {
        try
        {
            var workers = Enumerable.Range(0, parallelism).Select(_ => FetchAsync(context, fetches.Reader, outcomes.Writer, cancellationToken)).ToList();
            try
            {
                return context.Targets is null
                    ? await EnumerateLocationsAsync(context, fetches.Writer, outcomes.Writer, parallelism, cancellationToken)
                    : await EnumerateTargetsAsync(context, fetches.Writer, outcomes.Writer, parallelism, cancellationToken);
            }
            finally
            {
                fetches.Writer.TryComplete();
                await Task.WhenAll(workers);
            }
        }
        finally
        {
            outcomes.Writer.TryComplete();
        }
    }

    // The one writer: batches outcomes, commits each batch, persists progress about once a second and notices Cancel there.
    private async Task WriteAsync(SyncRun run, SyncWriter writer, ChannelReader<ArtifactOutcome> outcomes, SyncCounters progress, CancellationTokenSource stop)
    {
        var batch = new List<ArtifactOutcome>();
        var findings = 0;
        var batchStarted = 0L;
        var progressWritten = time.GetTimestamp();
        var heartbeatWritten = time.GetTimestamp();
        Task<bool>? waiting = null;
        while (true)
        {
            if (outcomes.TryRead(out var outcome))
            {
                if (batch.Count == 0)
                {
                    batchStarted = time.GetTimestamp();
                }

                batch.Add(outcome);
                findings += outcome.Findings.Count;
                if (findings >= MaxBatchFindings || batch.Count >= MaxBatchArtifacts)
                {
                    Commit();
                }
            }
            else
            {
                var untilBatch = batch.Count == 0 ? ProgressInterval : MaxBatchDelay - time.GetElapsedTime(batchStarted);
                var untilProgress = ProgressInterval - time.GetElapsedTime(progressWritten);
                var wait = TimeSpan.FromTicks(Math.Max(0, Math.Min(untilBatch.Ticks, untilProgress.Ticks)));
                waiting ??= outcomes.WaitToReadAsync(stop.Token).AsTask();
                if (wait > TimeSpan.Zero)
                {
                    await Task.WhenAny(waiting, Task.Delay(wait, time, stop.Token));
                }

                stop.Token.ThrowIfCancellationRequested();
                if (waiting.IsCompleted)
                {
                    var more = await waiting;
                    waiting = null;
                    if (!more)
                    {
                        break;
                    }
                }
                else if (batch.Count > 0 && time.GetElapsedTime(batchStarted) >= MaxBatchDelay)
                {
                    Commit();
                }
            }

            if (time.GetElapsedTime(progressWritten) >= ProgressInterval)
            {
                await WriteProgressAsync(run, progress, stop);
                progressWritten = time.GetTimestamp();
            }

            if (time.GetElapsedTime(heartbeatWritten) >= liveness.HeartbeatInterval)
            {
                _handedOver = !await liveness.BeatAsync(db.Database.GetDbConnection(), run.Id);
                if (_handedOver)
                {
                    await stop.CancelAsync();
                }

                heartbeatWritten = time.GetTimestamp();
            }
        }

        Commit();

        void Commit()
        {
            // A safe point: a Cancel noticed since the last batch stops the run here, before more is written.
            stop.Token.ThrowIfCancellationRequested();
            if (batch.Count > 0)
            {
                progress.Add(batch, writer.Write(batch));
                batch.Clear();
                findings = 0;
            }
        }
    }

    // One small UPDATE that pages poll; it also reads back whether someone asked to cancel.
    private async Task WriteProgressAsync(SyncRun run, SyncCounters progress, CancellationTokenSource stop)
    {
        progress.CopyTo(run);
        await using var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText =
            "UPDATE \"SyncRuns\" SET \"Projects\" = @projects, \"Repositories\" = @repositories, \"ArtifactsTotal\" = @total, \"ArtifactsSeen\" = @seen, " +
            "\"ArtifactsChanged\" = @changed, \"ArtifactsSkipped\" = @skipped, \"ArtifactsNotScanned\" = @notScanned, \"ArtifactsRemoved\" = @removed, " +
            "\"ArtifactsScanRequested\" = @scanRequested, \"ArtifactsScanFailed\" = @scanFailed, \"ReportsFetched\" = @reports, \"FindingsNew\" = @new, " +
            "\"FindingsUpdated\" = @updated, \"FindingsResolved\" = @resolved, \"FindingsReopened\" = @reopened, \"ErrorCount\" = @errorCount, " +
            "\"Errors\" = @errors WHERE \"Id\" = @id RETURNING \"CancelRequestedAt\"";
        void Add(string name, object? value, DbType type)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.DbType = type;
            parameter.Value = value ?? DBNull.Value;
            command.Parameters.Add(parameter);
        }

        Add("@projects", run.Projects, DbType.Int32);
        Add("@repositories", run.Repositories, DbType.Int32);
        Add("@total", run.ArtifactsTotal, DbType.Int32);
        Add("@seen", run.ArtifactsSeen, DbType.Int32);
        Add("@changed", run.ArtifactsChanged, DbType.Int32);
        Add("@skipped", run.ArtifactsSkipped, DbType.Int32);
        Add("@notScanned", run.ArtifactsNotScanned, DbType.Int32);
        Add("@removed", run.ArtifactsRemoved, DbType.Int32);
        Add("@scanRequested", run.ArtifactsScanRequested, DbType.Int32);
        Add("@scanFailed", run.ArtifactsScanFailed, DbType.Int32);
        Add("@reports", run.ReportsFetched, DbType.Int32);
        Add("@new", run.FindingsNew, DbType.Int32);
        Add("@updated", run.FindingsUpdated, DbType.Int32);
        Add("@resolved", run.FindingsResolved, DbType.Int32);
        Add("@reopened", run.FindingsReopened, DbType.Int32);
        Add("@errorCount", run.ErrorCount, DbType.Int32);
        Add("@errors", run.Errors, DbType.String);
        Add("@id", run.Id, DbType.Int64);
        var cancelRequested = await command.ExecuteScalarAsync(CancellationToken.None);
        if (cancelRequested is not null and not DBNull)
        {
            Log.CancelNoticed(logger, run.Id);
            await stop.CancelAsync();
        }
    }

    private async Task<Enumeration> EnumerateLocationsAsync(
        SyncContext context, ChannelWriter<ArtifactWork> fetches, ChannelWriter<ArtifactOutcome> outcomes, int parallelism, CancellationToken cancellationToken)
    {
        var enumeration = new Enumeration();
        var projects = await harbor.ListProjectsAsync(context.Settings, cancellationToken: cancellationToken);
        if (!projects.IsSuccess)
        {
            context.Progress.AddError($"Listing projects: {projects.Failure!.Message}");
            return enumeration with { Failed = true };
        }

        foreach (var project in projects.Value!)
        {
            enumeration.Projects.Add(project.Name);
        }

        // Projects and repositories outside the scanned locations are not listed further.
        foreach (var listed in projects.Value!)
        {
            context.PublicProjects[listed.Name] = listed.IsPublic;
        }

        var included = projects.Value!.Where(p => context.Locations.IncludesProject(p.Name)).ToList();
        var repositories = new ConcurrentBag<(string Project, HarborRepository Repository)>();
        await Parallel.ForEachAsync(included, new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken }, async (project, token) =>
        {
            var listed = await harbor.ListRepositoriesAsync(context.Settings, project.Name, token);
            if (!listed.IsSuccess)
            {
                context.Progress.AddError($"Listing repositories of {project.Name}: {listed.Failure!.Message}");
                enumeration.UnlistedProjects.TryAdd(project.Name, 0);
                return;
            }

            foreach (var repository in listed.Value!)
            {
                enumeration.Repositories.TryAdd(repository.Name, 0);
                if (context.Locations.IncludesRepository(project.Name, repository.Name))
                {
                    repositories.Add((project.Name, repository));
                }
            }
        });
        context.Progress.AddListed(included.Count, repositories.Count);

        var selected = 0;
        await Parallel.ForEachAsync(repositories, new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken }, async (item, token) =>
        {
            var (project, repository) = item;
            var artifacts = await harbor.ListArtifactsAsync(context.Settings, project, repository.NameInProject, withScanOverview: true, token);
            if (!artifacts.IsSuccess)
            {
                context.Progress.AddError($"Listing artifacts of {repository.Name}: {artifacts.Failure!.Message}");
                enumeration.UnlistedRepositories.TryAdd(repository.Name, 0);
                return;
            }

            foreach (var artifact in artifacts.Value!)
            {
                enumeration.Listed.TryAdd(new ArtifactKey(repository.Name, artifact.Digest), 0);
            }

            foreach (var artifact in context.Locations.SelectArtifacts(artifacts.Value!))
            {
                Interlocked.Increment(ref selected);
                enumeration.Selected.TryAdd(new ArtifactKey(repository.Name, artifact.Digest), 0);
                await RouteAsync(context, project, repository.Name, artifact, fetches, outcomes, token);
            }
        });
        context.Progress.SetTotal(selected);
        return enumeration;
    }

    // A targeted run re-reads only the named artifacts from Harbor (a webhook's payload is a hint, never data).
    private async Task<Enumeration> EnumerateTargetsAsync(
        SyncContext context, ChannelWriter<ArtifactWork> fetches, ChannelWriter<ArtifactOutcome> outcomes, int parallelism, CancellationToken cancellationToken)
    {
        var targets = context.Targets!
            .Select(t => (Project: t.ProjectName, Repository: FullRepositoryName(t.ProjectName, t.RepositoryName), Reference: t.Digest))
            .Distinct()
            .ToList();
        context.Progress.SetTotal(targets.Count);
        // "Latest N" cannot be judged from one artifact: such a run lists the target's repository (once), never projects or repositories.
        var listings = new ConcurrentDictionary<string, Lazy<Task<HarborResult<IReadOnlyList<HarborArtifact>>>>>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(targets, new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken }, async (target, token) =>
        {
            var (project, repository, reference) = target;
            var inProject = repository[(project.Length + 1)..];
            if (!context.Locations.IncludesRepository(project, repository))
            {
                await outcomes.WriteAsync(Outside(context, project, repository, reference), token);
                return;
            }

            if (!context.PublicProjects.ContainsKey(project)
                && await harbor.GetProjectAsync(context.Settings, project, token) is { IsSuccess: true } projectRead)
            {
                context.PublicProjects[project] = projectRead.Value!.IsPublic;
            }

            var read = await harbor.GetArtifactAsync(context.Settings, project, inProject, reference, withScanOverview: true, token);
            if (read.Failure is HarborNotFound)
            {
                var known = context.Known.ContainsKey(new ArtifactKey(repository, reference));
                await outcomes.WriteAsync(new ArtifactOutcome(known ? ArtifactOutcomeKind.Removed : ArtifactOutcomeKind.Ignored, project, repository, reference), token);
                return;
            }

            if (!read.IsSuccess)
            {
                await outcomes.WriteAsync(new ArtifactOutcome(ArtifactOutcomeKind.Error, project, repository, reference) { Error = read.Failure!.Message }, token);
                return;
            }

            var artifact = read.Value!;
            bool selected;
            if (context.Locations.Artifacts.Kind == ArtifactPolicyKind.LatestPerRepository)
            {
                var listing = await listings.GetOrAdd(repository, _ => new Lazy<Task<HarborResult<IReadOnlyList<HarborArtifact>>>>(
                    () => harbor.ListArtifactsAsync(context.Settings, project, inProject, withScanOverview: false, token))).Value;
                if (!listing.IsSuccess)
                {
                    await outcomes.WriteAsync(new ArtifactOutcome(ArtifactOutcomeKind.Error, project, repository, artifact.Digest) { Error = listing.Failure!.Message }, token);
                    return;
                }

                selected = context.Locations.SelectArtifacts(listing.Value!).Any(a => a.Digest == artifact.Digest);
            }
            else
            {
                selected = context.Locations.SelectArtifacts([artifact]).Count == 1;
            }

            if (!selected)
            {
                await outcomes.WriteAsync(Outside(context, project, repository, artifact.Digest), token);
                return;
            }

            await RouteAsync(context, project, repository, artifact, fetches, outcomes, token);
        });
        return new Enumeration();
    }

    // A target outside the scanned locations: ignored, unless it was synced before (then it has left them).
    private static ArtifactOutcome Outside(SyncContext context, string project, string repository, string reference) =>
        new(context.Known.ContainsKey(new ArtifactKey(repository, reference)) ? ArtifactOutcomeKind.LeftScannedLocations : ArtifactOutcomeKind.Ignored,
            project, repository, reference);

    // Decides from the overview alone what an artifact needs: nothing (straight to the writer), its report, or a scan.
    private static ValueTask RouteAsync(
        SyncContext context, string project, string repository, HarborArtifact artifact, ChannelWriter<ArtifactWork> fetches, ChannelWriter<ArtifactOutcome> outcomes,
        CancellationToken cancellationToken)
    {
        context.Known.TryGetValue(new ArtifactKey(repository, artifact.Digest), out var stored);
        var tags = string.Join(',', artifact.Tags?.Select(t => t.Name) ?? []);
        var overview = artifact.Overview;
        var outcome = new ArtifactOutcome(ArtifactOutcomeKind.NotScanned, project, repository, artifact.Digest)
        {
            Tags = tags,
            TagsChanged = stored is not null && stored.Tags != tags,
            ScanStatus = overview?.ScanStatus,
        };
        switch (overview?.ScanStatus)
        {
            case "Success":
                var completed = overview.EndTime ?? overview.StartTime;
                if (stored?.ScanCompletedAt is { } last && completed is { } current && current <= last)
                {
                    return outcomes.WriteAsync(outcome with { Kind = ArtifactOutcomeKind.Unchanged }, cancellationToken);
                }

                return fetches.WriteAsync(new ArtifactWork(WorkKind.Report, outcome, overview, completed, artifact.PushTime), cancellationToken);
            case "Error":
                return outcomes.WriteAsync(outcome with { Kind = ArtifactOutcomeKind.ScanFailed }, cancellationToken);
            case null when context.Connection.ScanUnscanned && !context.ScanRequestsRefused:
                return fetches.WriteAsync(new ArtifactWork(WorkKind.Scan, outcome, null, null, artifact.PushTime), cancellationToken);
            default:
                // Pending, Running, Stopped, or never scanned: there is no report to read yet.
                return outcomes.WriteAsync(outcome, cancellationToken);
        }
    }

    private async Task FetchAsync(SyncContext context, ChannelReader<ArtifactWork> work, ChannelWriter<ArtifactOutcome> outcomes, CancellationToken cancellationToken)
    {
        await foreach (var item in work.ReadAllAsync(cancellationToken))
        {
            var outcome = item.Kind == WorkKind.Report ? await ReadReportAsync(context, item, cancellationToken) : await RequestScanAsync(context, item.Outcome, cancellationToken);
            await outcomes.WriteAsync(outcome, cancellationToken);
        }
    }

    private async Task<ArtifactOutcome> ReadReportAsync(SyncContext context, ArtifactWork item, CancellationToken cancellationToken)
    {
        var outcome = item.Outcome;
        HarborResult<HarborVulnerabilityReport?> report;
        try
        {
            report = await harbor.GetVulnerabilityReportAsync(context.Settings, outcome.ProjectName, InProject(outcome), outcome.Digest, cancellationToken);
        }
        catch (JsonException exception)
        {
            return outcome with { Kind = ArtifactOutcomeKind.Error, Error = $"Harbor's report is not valid JSON ({exception.Message})" };
        }

        if (!report.IsSuccess)
        {
            return outcome with { Kind = ArtifactOutcomeKind.Error, Error = report.Failure!.Message };
        }

        if (report.Value is not { } body)
        {
            // {} means "no report" (never "clean"): keep what is stored and look again next time.
            return outcome with { Kind = ArtifactOutcomeKind.NoReport };
        }

        var now = time.GetUtcNow();
        return outcome with
        {
            Kind = ArtifactOutcomeKind.Report,
            ScanCompletedAt = item.Completed ?? now,
            Findings = ReportFindings.From(body, item.Overview, context.Connection.Id, outcome.ProjectName, outcome.RepositoryName, outcome.Digest, outcome.Tags,
                new PriorityContext(now, context.PublicProjects.TryGetValue(outcome.ProjectName, out var isPublic) ? isPublic : null, item.PushedAt), context.Threats),
        };
    }

    private async Task<ArtifactOutcome> RequestScanAsync(SyncContext context, ArtifactOutcome outcome, CancellationToken cancellationToken)
    {
        if (context.ScanRequestsAllowed)
        {
            return await SendScanRequestAsync(context, outcome, cancellationToken);
        }

        // Until Harbor has accepted one request, requests go one at a time: a missing permission then costs one refusal, not one per worker.
        await context.FirstScanRequest.WaitAsync(cancellationToken);
        try
        {
            return context.ScanRequestsRefused ? outcome : await SendScanRequestAsync(context, outcome, cancellationToken);
        }
        finally
        {
            context.FirstScanRequest.Release();
        }
    }

    private async Task<ArtifactOutcome> SendScanRequestAsync(SyncContext context, ArtifactOutcome outcome, CancellationToken cancellationToken)
    {
        var scan = await harbor.ScanArtifactAsync(context.Settings, outcome.ProjectName, InProject(outcome), outcome.Digest, cancellationToken);
        switch (scan.Failure)
        {
            case null:
                context.ScanRequestsAllowed = true;
                return outcome with { Kind = ArtifactOutcomeKind.ScanRequested };
            case HarborForbidden forbidden:
                // Missing scan:create is the account's, not the artifact's: said once, and the run stops asking.
                context.RefuseScanRequests($"Asking Harbor to scan unscanned artifacts: {forbidden.Message}. This run asks no more; grant the account \"scan: create\", or turn off \"Scan unscanned artifacts\".");
                return outcome;
            case HarborUnexpectedResponse { Status: (int)HttpStatusCode.PreconditionFailed } noScanner:
                context.RefuseScanRequests($"Asking Harbor to scan unscanned artifacts: {noScanner.Message} (no scanner is configured); this run asks no more.");
                return outcome;
            case HarborUnexpectedResponse { Status: (int)HttpStatusCode.Conflict }:
                // A scan is already under way.
                return outcome;
            default:
                return outcome with { Kind = ArtifactOutcomeKind.Error, Error = $"asking Harbor to scan it: {scan.Failure.Message}" };
        }
    }

    // Stored artifacts the complete enumeration did not select: deleted from Harbor, or no longer in the scanned locations.
    private static IEnumerable<ArtifactOutcome> Removals(SyncContext context, Enumeration enumeration)
    {
        foreach (var (key, stored) in context.Known)
        {
            if (enumeration.Selected.ContainsKey(key))
            {
                continue;
            }

            var project = stored.ProjectName;
            ArtifactOutcomeKind? kind =
                !enumeration.Projects.Contains(project) ? ArtifactOutcomeKind.Removed
                : !context.Locations.IncludesProject(project) ? ArtifactOutcomeKind.LeftScannedLocations
                // Where listing failed, absence proves nothing.
                : enumeration.UnlistedProjects.ContainsKey(project) ? null
                : !enumeration.Repositories.ContainsKey(key.Repository) ? ArtifactOutcomeKind.Removed
                : !context.Locations.IncludesRepository(project, key.Repository) ? ArtifactOutcomeKind.LeftScannedLocations
                : enumeration.UnlistedRepositories.ContainsKey(key.Repository) ? null
                : enumeration.Listed.ContainsKey(key) ? ArtifactOutcomeKind.LeftScannedLocations
                : ArtifactOutcomeKind.Removed;
            if (kind is { } removal)
            {
                yield return new ArtifactOutcome(removal, project, key.Repository, key.Digest) { Seen = false };
            }
        }
    }

    private static string FullRepositoryName(string project, string repository) =>
        repository.StartsWith(project + "/", StringComparison.Ordinal) ? repository : $"{project}/{repository}";

    private static string InProject(ArtifactOutcome outcome) => outcome.RepositoryName[(outcome.ProjectName.Length + 1)..];

    private readonly record struct ArtifactKey(string Repository, string Digest);

    private enum WorkKind
    {
        Report,
        Scan,
    }

    private sealed record ArtifactWork(WorkKind Kind, ArtifactOutcome Outcome, HarborScanOverview? Overview, DateTimeOffset? Completed, DateTimeOffset? PushedAt);

    // What a full enumeration saw, to tell removed artifacts from ones it could not list.
    private sealed record Enumeration
    {
        public bool Failed { get; init; }

        public HashSet<string> Projects { get; } = new(StringComparer.Ordinal);

        public ConcurrentDictionary<string, byte> UnlistedProjects { get; } = new(StringComparer.Ordinal);

        public ConcurrentDictionary<string, byte> Repositories { get; } = new(StringComparer.Ordinal);

        public ConcurrentDictionary<string, byte> UnlistedRepositories { get; } = new(StringComparer.Ordinal);

        public ConcurrentDictionary<ArtifactKey, byte> Listed { get; } = new();

        public ConcurrentDictionary<ArtifactKey, byte> Selected { get; } = new();
    }

    private sealed class SyncContext(
        HarborConnection connection, HarborConnectionSettings settings, IReadOnlyList<ArtifactRef>? targets, ScanLocations locations,
        Dictionary<ArtifactKey, ScannedArtifact> known, SyncCounters progress)
    {
        private int _scanRequestsRefused;

        public HarborConnection Connection { get; } = connection;

        public HarborConnectionSettings Settings { get; } = settings;

        public IReadOnlyList<ArtifactRef>? Targets { get; } = targets;

        public ScanLocations Locations { get; } = locations;

        /// <summary>What the previous runs stored; read-only while the run goes on (the writer never changes it).</summary>
        public Dictionary<ArtifactKey, ScannedArtifact> Known { get; } = known;

        public SyncCounters Progress { get; } = progress;

        /// <summary>Whether each project is public in Harbor (a priority factor): from the listing, or read once per project in a targeted run.</summary>
        public ConcurrentDictionary<string, bool> PublicProjects { get; } = new(StringComparer.Ordinal);

        /// <summary>KEV and EPSS, read once per run.</summary>
        public ThreatIntel Threats { get; init; } = ThreatIntel.None;

        public bool ScanRequestsRefused => Volatile.Read(ref _scanRequestsRefused) == 1;

        /// <summary>Harbor accepted a scan request: the others need not wait for each other.</summary>
        public bool ScanRequestsAllowed { get; set; }

        public SemaphoreSlim FirstScanRequest { get; } = new(1);

        public void RefuseScanRequests(string error)
        {
            if (Interlocked.Exchange(ref _scanRequestsRefused, 1) == 0)
            {
                Progress.AddError(error);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Sync of {Connection} (run {RunId}) ended {Status}: {Artifacts} artifacts, {Reports} reports, {New} new and {Resolved} resolved findings, {Errors} errors")]
        public static partial void Finished(ILogger logger, string connection, long runId, SyncRunStatus status, int artifacts, int reports, int @new, int resolved, int errors);

        [LoggerMessage(2, LogLevel.Information, "Sync run {RunId}: cancel requested; stopping after the current batch")]
        public static partial void CancelNoticed(ILogger logger, long runId);

        [LoggerMessage(3, LogLevel.Warning, "Sync run {RunId} was running on {Previous}, which stopped; {Instance} resumes it from the start (Quartz recovery: {Recovering})")]
        public static partial void Resuming(ILogger logger, long runId, string previous, string instance, bool recovering);

        [LoggerMessage(4, LogLevel.Information, "Sync run {RunId} is running on the live instance {Instance}; this execution leaves it")]
        public static partial void RunningElsewhere(ILogger logger, long runId, string? instance);

        [LoggerMessage(5, LogLevel.Warning, "Sync run {RunId}: another instance took it over (this one, {Instance}, was taken for dead); stopping without ending it")]
        public static partial void HandedOver(ILogger logger, long runId, string instance);
    }
}
