using HarborPortal.BrowserTests.Infrastructure;
using HarborPortal.BrowserTests.Pages;
using HarborPortal.Tests.Infrastructure;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace HarborPortal.BrowserTests;

/// <summary>
/// A portal session ends at the provider too, and ends when the provider ends it. Each test ends only the
/// sessions of its own user, and tests in this collection run one at a time, so no other test is disturbed.
/// </summary>
[Collection(PortalCollection.Name)]
public sealed class SignOutTests(PortalServerFixture server, BrowserFixture browser, ITestOutputHelper output)
    : BrowserTest(server, browser, output)
{
    [Fact]
    public Task Sign_Out_Ends_The_Session_At_The_Provider_Too() => WithPageAsync(async page =>
    {
        var user = IdentityProviderFixture.User("viewer");
        var login = await LoginPage.OpenAsync(page);
        var shell = await login.LogInViaAuthentikAsync(user.Username, user.Password);

        login = await shell.LogOutAsync();

        await Expect(login.SignedOutMessage).ToContainTextAsync("You have signed out");
        await page.GotoAsync("/");
        await login.WaitUntilShownAsync();
        // authentik asks for the password again rather than signing the user straight back in: its session ended too.
        await login.StartLogInViaAuthentikAsync();
    });

    [Fact]
    public Task Backchannel_Logout_From_The_Provider_Ends_The_Portal_Session() => WithPageAsync(async page =>
    {
        var user = IdentityProviderFixture.User("sec");
        var login = await LoginPage.OpenAsync(page);
        var shell = await login.LogInViaAuthentikAsync(user.Username, user.Password);
        await Expect(shell.Role).ToHaveTextAsync("Security");

        var ended = await Server.IdentityProvider.EndSessionsDetailedAsync(user.Username);

        // Other tests sign in as the same user, so the provider may end more than this session: each must be accepted.
        Assert.True(ended.Delivered >= 1 && ended.Delivered == ended.Sessions, $"every back-channel logout answered 200; sessions {ended.Sessions}, statuses [{string.Join(", ", ended.Statuses)}]");
        await page.ReloadAsync();
        await new LoginPage(page).WaitUntilShownAsync();
        await Expect(shell.UserName).ToBeHiddenAsync();
    });
}
