namespace HarborPortal.BrowserTests.Infrastructure;

// One server (authentik + portal) and one Chromium per collection. Tests inside a collection run one at a
// time, each in a fresh browser context; collections run in parallel. State that outlives a test (the local
// admin's 15-minute lockout) gets a collection of its own.

/// <summary>The usual set-up: RS256, users in no mapped group are Viewers.</summary>
[CollectionDefinition(Name)]
public sealed class PortalCollection : ICollectionFixture<PortalServerFixture>, ICollectionFixture<BrowserFixture>
{
    public const string Name = "Portal";
}

/// <summary>HS256 signing and <c>Oidc:RequireMappedGroup</c> on.</summary>
[CollectionDefinition(Name)]
public sealed class StrictHs256PortalCollection : ICollectionFixture<StrictHs256PortalServerFixture>, ICollectionFixture<BrowserFixture>
{
    public const string Name = "Portal (HS256, mapped group required)";
}

/// <summary>The break-glass admin's lockout, away from everything else.</summary>
[CollectionDefinition(Name)]
public sealed class LocalAdminPortalCollection : ICollectionFixture<LocalAdminPortalServerFixture>, ICollectionFixture<BrowserFixture>
{
    public const string Name = "Portal (local admin lockout)";
}
