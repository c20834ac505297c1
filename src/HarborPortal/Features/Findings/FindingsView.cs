using HarborPortal.Data;
using HarborPortal.Features.Teams;
using Microsoft.EntityFrameworkCore;

namespace HarborPortal.Features.Findings;

/// <summary>Everything the queue's page (and its htmx fragment) shows for one URL.</summary>
public sealed record FindingsViewModel(
    FindingFilter Filter,
    IReadOnlyDictionary<string, string[]> Errors,
    FindingScope Scope,
    FindingPage? Page,
    GroupPage<VulnerabilityGroup>? Vulnerabilities,
    GroupPage<ImageGroup>? Images,
    FindingFacets Facets,
    long? UniqueVulnerabilities,
    string? After,
    IReadOnlyDictionary<long, string> ConnectionNames);

/// <summary>Loads a <see cref="FindingsViewModel"/> from a request: the filters in the query string, the caller's scope.</summary>
public sealed class FindingsViewLoader(PortalDbContext db, FindingQueue queue)
{
    /// <summary>Counting distinct vulnerabilities reads every matching row: inline up to this many, else on demand.</summary>
    public const long InlineUniqueCountLimit = 100_000;

    public async Task<FindingsViewModel> LoadAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var filter = FindingFilter.Parse(context.Request.Query, out var errors);
        var scope = await TeamScopes.ForAsync(db, context.User, cancellationToken);
        var after = context.Request.Query["after"].ToString() is { Length: > 0 } cursor ? cursor : null;
        return await LoadAsync(filter, errors, scope, after, cancellationToken);
    }

    public async Task<FindingsViewModel> LoadAsync(FindingFilter filter, Dictionary<string, string[]> errors, FindingScope scope, string? after, CancellationToken cancellationToken)
    {
        var connections = await db.HarborConnections.AsNoTracking().ToDictionaryAsync(c => c.Id, c => c.Name, cancellationToken);
        var facets = await queue.FacetsAsync(filter, scope, cancellationToken);
        if (errors.Count > 0)
        {
            return new FindingsViewModel(filter, errors, scope, null, null, null, facets, null, null, connections);
        }

        FindingPage? page = null;
        GroupPage<VulnerabilityGroup>? vulnerabilities = null;
        GroupPage<ImageGroup>? images = null;
        try
        {
            switch (filter.Group)
            {
                case FindingGrouping.Vulnerability:
                    vulnerabilities = await queue.VulnerabilitiesAsync(filter, scope, after, cancellationToken: cancellationToken);
                    break;
                case FindingGrouping.Image:
                    images = await queue.ImagesAsync(filter, scope, after, cancellationToken: cancellationToken);
                    break;
                default:
                    page = await queue.PageAsync(filter, scope, after, cancellationToken: cancellationToken);
                    break;
            }
        }
        catch (InvalidCursorException e)
        {
            errors["after"] = [e.Message];
            return new FindingsViewModel(filter, errors, scope, null, null, null, facets, null, null, connections);
        }

        long? unique = facets.Complete && facets.Occurrences <= InlineUniqueCountLimit ? await queue.CountVulnerabilitiesAsync(filter, scope, cancellationToken) : null;
        return new FindingsViewModel(filter, errors, scope, page, vulnerabilities, images, facets, unique, after, connections);
    }
}
