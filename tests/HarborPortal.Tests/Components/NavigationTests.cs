using HarborPortal.Components.Layout;
using HarborPortal.Features.Auth;
using HarborPortal.Tests.Infrastructure;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;

namespace HarborPortal.Tests.Components;

public sealed class NavigationTests
{
    [Fact]
    public async Task An_Admin_Sees_The_Admin_Links()
    {
        var page = await RenderNavAsync(ComponentRenderer.User("alex", PortalRoles.Admin));

        var links = page.QuerySelectorAll("a.nav-link").Select(a => a.GetAttribute("href")).ToList();
        Assert.Contains("/admin/jobs", links);
        Assert.Contains("/admin/audit", links);
        Assert.NotNull(page.QuerySelector("[data-testid=admin-menu]"));
    }

    [Theory]
    [InlineData(PortalRoles.Security)]
    [InlineData(PortalRoles.Developer)]
    [InlineData(PortalRoles.Viewer)]
    public async Task Everyone_Else_Sees_No_Admin_Link(string role)
    {
        var page = await RenderNavAsync(ComponentRenderer.User("dana", role));

        Assert.NotNull(page.QuerySelector("a.nav-link[href='/']"));
        Assert.Empty(page.QuerySelectorAll("a[href^='/admin']"));
        Assert.Null(page.QuerySelector("[data-testid=admin-menu]"));
    }

    [Fact]
    public async Task Nobody_Signed_In_Sees_No_Navigation()
    {
        var page = await RenderNavAsync(user: null);

        Assert.Empty(page.QuerySelectorAll("a.nav-link"));
    }

    private static Task<AngleSharp.Dom.IDocument> RenderNavAsync(System.Security.Claims.ClaimsPrincipal? user) =>
        ComponentRenderer.RenderAsync<CascadingAuthenticationState>(
            new Dictionary<string, object?> { ["ChildContent"] = (RenderFragment)(b => { b.OpenComponent<NavMenu>(0); b.CloseComponent(); }) },
            user);
}
