using System.Security.Claims;
using HarborPortal.Features.Auth;
using HarborPortal.Features.Findings;
using HarborPortal.Features.Triage;
using HarborPortal.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace HarborPortal.Tests.Features.Findings;

/// <summary>Triage through the app's own service, as the pages and the API call it.</summary>
internal static class TriageSupport
{
    public static ClaimsPrincipal Person(string name, string role = PortalRoles.Security) =>
        new(new ClaimsIdentity([new Claim(ClaimTypes.Name, name), new Claim(ClaimTypes.Role, role)], "test"));

    public static async Task<TriageOutcome> TriageAsync(PortalApplication app, long findingId, TriageChange change, string by = "alice")
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<TriageCommands>().TriageAsync([findingId], change, Person(by), null, CancellationToken.None);
    }

    public static DateOnly Tomorrow => DateOnly.FromDateTime(DateTime.UtcNow).AddDays(1);
}
