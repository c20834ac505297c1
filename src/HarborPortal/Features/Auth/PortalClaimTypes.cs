namespace HarborPortal.Features.Auth;

/// <summary>
/// Claim types on the portal's own principal. Short names, not the WS-* URIs: the cookie stays small and
/// the names read the same in the ticket, the API and the tests.
/// </summary>
public static class PortalClaimTypes
{
    public const string Name = "name";
    public const string Role = "role";
    public const string DisplayName = "display_name";
    public const string Email = "email";
    public const string Group = "group";
    public const string UserId = "portal_user_id";
    public const string Issuer = "iss";
    public const string Subject = "sub";

    /// <summary>The provider's session id, for back-channel logout.</summary>
    public const string ProviderSessionId = "sid";

    /// <summary>How the user signed in: <c>oidc</c>, <c>local</c> or <c>api-token</c>.</summary>
    public const string AuthMethod = "auth_method";
}
