using System.Security.Claims;
using AngleSharp.Dom;
using AngleSharp.Html.Parser;
using HarborPortal.Features.Auth;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace HarborPortal.Tests.Infrastructure;

/// <summary>
/// Renders a component with the framework's own <see cref="HtmlRenderer"/> (bunit cannot run on .NET 10 here)
/// and hands back the HTML as an AngleSharp document, so tests assert on what a user would see.
/// </summary>
public static class ComponentRenderer
{
    public static async Task<IDocument> RenderAsync<TComponent>(IDictionary<string, object?>? parameters = null, ClaimsPrincipal? user = null, Action<IServiceCollection>? services = null)
        where TComponent : IComponent
    {
        var collection = new ServiceCollection();
        collection.AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance);
        collection.AddLogging();
        collection.AddAuthorizationCore();
        collection.AddPortalAuthorization();
        collection.AddSingleton<AuthenticationStateProvider>(new FixedAuthenticationStateProvider(user ?? new ClaimsPrincipal(new ClaimsIdentity())));
        collection.AddCascadingAuthenticationState();
        services?.Invoke(collection);

        await using var provider = collection.BuildServiceProvider();
        await using var renderer = new HtmlRenderer(provider, provider.GetRequiredService<ILoggerFactory>());
        var html = await renderer.Dispatcher.InvokeAsync(async () =>
        {
            var output = await renderer.RenderComponentAsync<TComponent>(ParameterView.FromDictionary(parameters ?? new Dictionary<string, object?>()));
            return output.ToHtmlString();
        });

        return new HtmlParser().ParseDocument($"<html><body>{html}</body></html>");
    }

    public static ClaimsPrincipal User(string name, params string[] roles)
    {
        var claims = new List<Claim> { new(PortalClaimTypes.Name, name), new(PortalClaimTypes.DisplayName, name) };
        claims.AddRange(roles.Select(r => new Claim(PortalClaimTypes.Role, r)));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, "test", PortalClaimTypes.Name, PortalClaimTypes.Role));
    }

    private sealed class FixedAuthenticationStateProvider(ClaimsPrincipal user) : AuthenticationStateProvider
    {
        public override Task<AuthenticationState> GetAuthenticationStateAsync() => Task.FromResult(new AuthenticationState(user));
    }
}
