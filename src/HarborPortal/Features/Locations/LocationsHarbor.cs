using System.Text.RegularExpressions;
using HarborPortal.Features.Connections;
using HarborPortal.Harbor;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace HarborPortal.Features.Locations;

/// <summary>
/// What the editor reads from Harbor while an admin chooses: a page of projects, a page of one project's repositories,
/// how many of a project's repositories some patterns match. Every call is bounded by <see cref="LocationsOptions.BrowseBudget"/>
/// and ends in a value or a message to show — never an exception, never an empty list standing in for a failure.
/// </summary>
public sealed partial class LocationsHarbor(
    HarborClient harbor, ConnectionSecrets secrets, RepositoryNameCache cache, IOptions<LocationsOptions> options, TimeProvider time)
{
    public const int MaxSearchLength = 128;

    private LocationsOptions Options => options.Value;

    /// <summary>How the editor calls this connection's Harbor; null with the reason when it cannot.</summary>
    public (HarborConnectionSettings? Settings, string? Problem) SettingsFor(HarborConnection connection) =>
        secrets.SettingsFor(connection, Options.RequestTimeout) is { } settings
            ? (settings, null)
            : (null, "The stored secret cannot be decrypted (the data protection keys changed): rotate the secret on the connection's page.");

    /// <summary>
    /// A search as Harbor can take it in <c>q=name=~…</c>: trimmed and lower-cased (Harbor's names are), or the reason it
    /// cannot match any name (commas, spaces and the like would also break Harbor's query syntax).
    /// </summary>
    public static (string Text, string? Problem) CleanSearch(string? search)
    {
        var text = (search ?? "").Trim().ToLowerInvariant();
        if (text.Length > MaxSearchLength)
        {
            return (text[..MaxSearchLength], $"Search for at most {MaxSearchLength} characters.");
        }

        return NameCharacters().IsMatch(text)
            ? (text, null)
            : (text, "Harbor's names hold only lower-case letters, digits and . _ - / : no project or repository can match this search.");
    }

    /// <summary>Could be a Harbor project's name (lower case, at most 255 characters): what a fragment accepts in <c>?project=</c>.</summary>
    public static bool IsName(string? name) => name is { Length: > 0 and <= 255 } && !name.Contains('/', StringComparison.Ordinal) && NameCharacters().IsMatch(name);

    public Task<HarborAnswer<HarborPage<HarborProject>>> ProjectsAsync(HarborConnectionSettings settings, string search, int page, CancellationToken cancellationToken) =>
        WithinBudgetAsync(token => harbor.ListProjectsPageAsync(settings, page, Options.ProjectsPerPage, NullIfEmpty(search), token), cancellationToken);

    public Task<HarborAnswer<HarborPage<HarborRepository>>> RepositoriesAsync(HarborConnectionSettings settings, string project, string search, int page, CancellationToken cancellationToken) =>
        WithinBudgetAsync(token => harbor.ListRepositoriesPageAsync(settings, project, page, Options.RepositoriesPerPage, NullIfEmpty(search), token), cancellationToken);

    /// <summary>How many of the project's repositories <paramref name="rules"/> keep ("matches N of M").</summary>
    public async Task<HarborAnswer<RepositoryMatch>> MatchAsync(long connectionId, HarborConnectionSettings settings, ProjectLocation rules, CancellationToken cancellationToken)
    {
        var names = await WithinBudgetAsync(token => RepositoryNamesAsync(connectionId, settings, rules.Name, token), cancellationToken);
        if (names.Value is not { } known)
        {
            return new HarborAnswer<RepositoryMatch>(null, names.Failure, names.Elapsed, names.Slow);
        }

        var selection = new ScanLocations { AllProjects = false, Projects = [rules] };
        var matched = known.Names.Where(n => selection.IncludesRepository(rules.Name, n)).ToList();
        return new HarborAnswer<RepositoryMatch>(new RepositoryMatch(matched.Count, known.Total, known.Names.Count, [.. matched.Take(5)]), null, names.Elapsed, names.Slow);
    }

    // Typing a pattern asks again every few hundred milliseconds: the names are read once a minute, not per keystroke.
    private async Task<HarborResult<RepositoryNames>> RepositoryNamesAsync(long connectionId, HarborConnectionSettings settings, string project, CancellationToken cancellationToken)
    {
        if (cache.Get(connectionId, project) is { } cached)
        {
            return HarborResult<RepositoryNames>.Success(cached);
        }

        var names = new List<string>();
        long total = 0;
        const int pageSize = 100;
        for (var page = 1; names.Count < Options.MaxRepositoriesPerHint; page++)
        {
            var result = await harbor.ListRepositoriesPageAsync(settings, project, page, pageSize, null, cancellationToken);
            if (!result.IsSuccess)
            {
                return result.Failure!;
            }

            names.AddRange(result.Value!.Items.Select(r => r.Name));
            total = result.Value.Total;
            if (!result.Value.HasNext || result.Value.Items.Count == 0)
            {
                break;
            }
        }

        var read = new RepositoryNames([.. names.Take(Options.MaxRepositoriesPerHint)], Math.Max(total, names.Count));
        cache.Set(connectionId, project, read);
        return HarborResult<RepositoryNames>.Success(read);
    }

    private async Task<HarborAnswer<T>> WithinBudgetAsync<T>(Func<CancellationToken, Task<HarborResult<T>>> call, CancellationToken cancellationToken)
    {
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(Options.BrowseBudget);
        var started = time.GetTimestamp();
        try
        {
            var result = await call(budget.Token);
            var elapsed = time.GetElapsedTime(started);
            return new HarborAnswer<T>(result.IsSuccess ? result.Value : default, result.Failure?.Message, elapsed, elapsed >= Options.SlowAnswer);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            var elapsed = time.GetElapsedTime(started);
            return new HarborAnswer<T>(default, $"Harbor did not answer within {Options.BrowseBudget.TotalSeconds:0.#} s. Try again, or narrow the search.", elapsed, Slow: true);
        }
    }

    private static string? NullIfEmpty(string text) => text.Length == 0 ? null : text;

    [GeneratedRegex("^[a-z0-9._/-]*$")]
    private static partial Regex NameCharacters();
}

/// <summary>What Harbor answered (or the message saying why it did not), and how long it took.</summary>
public sealed record HarborAnswer<T>(T? Value, string? Failure, TimeSpan Elapsed, bool Slow);

/// <summary>
/// <paramref name="Matched"/> of the <paramref name="Read"/> repositories read match; <paramref name="Total"/> is how many
/// the project has (more than <paramref name="Read"/> only for a project bigger than the hint reads).
/// </summary>
public sealed record RepositoryMatch(int Matched, long Total, int Read, IReadOnlyList<string> Examples)
{
    public bool Partial => Read < Total;
}

public sealed record RepositoryNames(IReadOnlyList<string> Names, long Total);

/// <summary>A minute's memory of each project's repository names, for the "matches N of M" hints.</summary>
public sealed class RepositoryNameCache : IDisposable
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(1);

    // Its own cache with its own size limit: counted in names, so a few huge projects cannot grow it without bound.
    private readonly MemoryCache _cache = new(new MemoryCacheOptions { SizeLimit = 500_000 });

    public RepositoryNames? Get(long connectionId, string project) => _cache.Get<RepositoryNames>((connectionId, project));

    public void Set(long connectionId, string project, RepositoryNames names) =>
        _cache.Set((connectionId, project), names, new MemoryCacheEntryOptions { Size = Math.Max(1, names.Names.Count), AbsoluteExpirationRelativeToNow = Lifetime });

    public void Dispose() => _cache.Dispose();
}
