using Microsoft.Extensions.Options;

namespace HarborPortal.Features.Auth;

/// <summary>The <c>LocalAdmin</c> section: the break-glass administrator, as Harbor keeps its <c>admin</c>.</summary>
public sealed class LocalAdminOptions
{
    public const string SectionName = "LocalAdmin";

    /// <summary>Unset: on only when OIDC is not configured. True or false: as said.</summary>
    public bool? Enabled { get; set; }

    public string UserName { get; set; } = "admin";

    /// <summary>When empty, a password is generated at first start and printed once to the log.</summary>
    public string? Password { get; set; }
}

/// <summary>Whether the break-glass admin may sign in, resolved once from both sections.</summary>
public sealed class LocalAdminAvailability(IOptions<LocalAdminOptions> localAdmin, IOptions<OidcOptions> oidc)
{
    public bool IsEnabled => localAdmin.Value.Enabled ?? !oidc.Value.IsConfigured;
}
