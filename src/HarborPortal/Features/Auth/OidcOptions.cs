namespace HarborPortal.Features.Auth;

/// <summary>The <c>Oidc</c> section: authentik (or any OpenID Connect provider) as the portal's sign-in.</summary>
public sealed class OidcOptions
{
    public const string SectionName = "Oidc";

    /// <summary>The issuer, e.g. <c>https://authentik.company/application/o/harbor-portal/</c> (authentik's ends with <c>/</c>).</summary>
    public string Authority { get; set; } = "";

    public string ClientId { get; set; } = "";

    public string ClientSecret { get; set; } = "";

    /// <summary>Space separated. authentik sends <c>groups</c> inside <c>profile</c>; it has no <c>groups</c> scope.</summary>
    public string Scopes { get; set; } = "openid profile email";

    public string UsernameClaim { get; set; } = "preferred_username";

    public string GroupsClaim { get; set; } = "groups";

    /// <summary>The provider's name on the login button ("Log in via authentik").</summary>
    public string DisplayName { get; set; } = "authentik";

    /// <summary>authentik group name → portal role (Admin, Security, Developer, Viewer).</summary>
    public Dictionary<string, string> RoleMappings { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>When true, a user in no mapped group is refused; otherwise they are a Viewer.</summary>
    public bool RequireMappedGroup { get; set; }

    /// <summary>False only for a provider on loopback or in development.</summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    /// <summary>Allowed difference between the portal's and the provider's clocks (at most 2 minutes).</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromMinutes(2);

    public bool IsConfigured => !string.IsNullOrWhiteSpace(Authority) && !string.IsNullOrWhiteSpace(ClientId);
}
