using System.Collections.Concurrent;
using HarborPortal.Features.Findings;

namespace HarborPortal.Features.Dashboard;

/// <summary>The dashboard figures that read every open finding: unique vulnerabilities, the two top-10 lists, MTTR.</summary>
public sealed record HeavyFigures(long UniqueVulnerabilities, IReadOnlyList<TopVulnerability> TopVulnerabilities, IReadOnlyList<TopImage> TopImages, IReadOnlyList<ResolveTime> MeanTimeToResolve);

/// <summary>
/// Keeps <see cref="HeavyFigures"/> per scope for <see cref="MaxAge"/>: at a million findings they take seconds, and
/// everyone opening <c>/</c> in the same minutes would otherwise pay for them again. Counts, trend, weeks, SLA breaches,
/// syncs and coverage are always live.
/// </summary>
public sealed class DashboardCache(TimeProvider time)
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(5);

    private readonly ConcurrentDictionary<string, (DateTimeOffset At, HeavyFigures Figures)> _entries = new(StringComparer.Ordinal);

    public async Task<HeavyFigures> GetOrAddAsync(FindingScope scope, Func<Task<HeavyFigures>> compute)
    {
        var key = scope.ProjectNames is { } projects ? "projects:" + string.Join('\n', projects.Order(StringComparer.Ordinal)) : "*";
        var now = time.GetUtcNow();
        if (_entries.TryGetValue(key, out var entry) && now - entry.At < MaxAge)
        {
            return entry.Figures;
        }

        var figures = await compute();
        _entries[key] = (now, figures);
        return figures;
    }
}
