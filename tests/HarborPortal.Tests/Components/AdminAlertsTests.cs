using HarborPortal.Components.Layout;
using HarborPortal.Features.Auth;
using HarborPortal.Tests.Infrastructure;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.Extensions.DependencyInjection;

namespace HarborPortal.Tests.Components;

public sealed class AdminAlertsTests
{
    [Theory]
    [InlineData(PortalRoles.Admin, true)]
    [InlineData(PortalRoles.Security, false)]
    [InlineData(PortalRoles.Viewer, false)]
    public async Task Provider_Setup_Warnings_Reach_Admins_Only(string role, bool shown)
    {
        var health = new OidcHealth();
        health.Report(["authentik has no signing key selected"], DateTimeOffset.UtcNow);

        var page = await ComponentRenderer.RenderAsync<CascadingAuthenticationState>(
            new Dictionary<string, object?> { ["ChildContent"] = (RenderFragment)(b => { b.OpenComponent<AdminAlerts>(0); b.CloseComponent(); }) },
            ComponentRenderer.User("someone", role),
            services => services.AddSingleton(health));

        Assert.Equal(shown, page.QuerySelector("[data-testid=oidc-warning]") is not null);
    }
}
