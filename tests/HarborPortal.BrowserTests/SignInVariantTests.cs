using HarborPortal.BrowserTests.Infrastructure;
using HarborPortal.BrowserTests.Pages;
using HarborPortal.Tests.Infrastructure;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;
using LoginErrors = HarborPortal.Features.Account.LoginErrors;

namespace HarborPortal.BrowserTests;

/// <summary>authentik without a signing key (HS256 keyed by the client secret), and a portal that requires a mapped group.</summary>
[Collection(StrictHs256PortalCollection.Name)]
public sealed class SignInVariantTests(StrictHs256PortalServerFixture server, BrowserFixture browser, ITestOutputHelper output)
    : BrowserTest(server, browser, output)
{
    [Fact]
    public Task HS256_Variant_Signs_In() => WithPageAsync(async page =>
    {
        var admin = IdentityProviderFixture.User("akadmin");
        var login = await LoginPage.OpenAsync(page);

        var shell = await login.LogInViaAuthentikAsync(admin.Username, admin.Password);

        await Expect(shell.Role).ToHaveTextAsync("Admin");
        await Expect(shell.AdminMenu).ToBeVisibleAsync();
    });

    [Fact]
    public Task User_In_No_Mapped_Group_Is_Refused_When_A_Mapped_Group_Is_Required() => WithPageAsync(async page =>
    {
        var user = IdentityProviderFixture.User("nogroup");
        var login = await LoginPage.OpenAsync(page);

        await login.AttemptLogInViaAuthentikAsync(user.Username, user.Password);

        await login.WaitUntilShownAsync();
        await Expect(login.Error).ToHaveTextAsync(LoginErrors.Describe(LoginErrors.NoMappedGroup)!);
        await Expect(new PortalShell(page).UserName).ToBeHiddenAsync();
    });
}
