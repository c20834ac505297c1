namespace HarborPortal.Features.Auth;

/// <summary>The portal roles a set of provider groups earns, and what did not match (for the debug log).</summary>
public sealed record RoleMappingResult(IReadOnlyList<string> Roles, IReadOnlyList<string> UnmatchedGroups, bool IsRefused);

/// <summary>
/// authentik group names → portal roles, in one place. Groups are flat and can be renamed in authentik, so the
/// mapping is configuration (<c>Oidc:RoleMappings</c>) and matching ignores case.
/// </summary>
public static class RoleMapping
{
    public static RoleMappingResult Map(IEnumerable<string> groups, IReadOnlyDictionary<string, string> mappings, bool requireMappedGroup)
    {
        // Our own case-insensitive view: configuration binding does not promise to keep the options' comparer.
        var byGroup = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (group, role) in mappings)
        {
            if (PortalRoles.Normalize(role) is { } known)
            {
                byGroup[group.Trim()] = known;
            }
        }

        var roles = new HashSet<string>(StringComparer.Ordinal);
        var unmatched = new List<string>();
        foreach (var group in groups.Select(g => g.Trim()).Where(g => g.Length > 0).Distinct(StringComparer.OrdinalIgnoreCase))
        {
            if (byGroup.TryGetValue(group, out var role))
            {
                roles.Add(role);
            }
            else
            {
                unmatched.Add(group);
            }
        }

        if (roles.Count == 0)
        {
            return requireMappedGroup
                ? new RoleMappingResult([], unmatched, IsRefused: true)
                : new RoleMappingResult([PortalRoles.Viewer], unmatched, IsRefused: false);
        }

        // Most powerful first, the order PortalRoles.All lists them in.
        return new RoleMappingResult(PortalRoles.All.Where(roles.Contains).ToList(), unmatched, IsRefused: false);
    }

    /// <summary>Mappings whose role is not one of the portal's (they would silently grant nothing), for start-up validation.</summary>
    public static IEnumerable<string> InvalidMappings(IReadOnlyDictionary<string, string> mappings) =>
        mappings.Where(m => PortalRoles.Normalize(m.Value) is null).Select(m => $"{m.Key}={m.Value}");
}
