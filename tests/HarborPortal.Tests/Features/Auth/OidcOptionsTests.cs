using HarborPortal.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace HarborPortal.Tests.Features.Auth;

public sealed class OidcOptionsTests
{
    [Theory]
    [InlineData("Oidc:ClientSecret", "", "Oidc:ClientSecret is required")]
    [InlineData("Oidc:ClockSkew", "00:05:00", "Oidc:ClockSkew must be between 0 and 2 minutes")]
    [InlineData("Oidc:RoleMappings:harbor-portal-admins", "Superuser", "maps a group to a role that does not exist")]
    public async Task A_Misconfigured_Provider_Stops_The_Portal_At_Start_With_A_Message_Naming_The_Key(string key, string value, string message)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Oidc:Authority"] = "https://authentik.example/application/o/harbor-portal/",
            ["Oidc:ClientId"] = "harbor-portal",
            ["Oidc:ClientSecret"] = "a-client-secret-from-authentik",
        };
        settings[key] = value;
        await using var app = new PortalApplication(settings);

        var error = Assert.ThrowsAny<OptionsValidationException>(() => app.CreateClient());

        Assert.Contains(message, error.Message);
    }
}
