using HarborPortal.BrowserTests.Infrastructure;
using HarborPortal.BrowserTests.Pages;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;
using LoginErrors = HarborPortal.Features.Account.LoginErrors;

namespace HarborPortal.BrowserTests;

/// <summary>The break-glass administrator. Its lockout lasts 15 minutes, so it has a server of its own.</summary>
[Collection(LocalAdminPortalCollection.Name)]
public sealed class LocalAdminTests(LocalAdminPortalServerFixture server, BrowserFixture browser, ITestOutputHelper output)
    : BrowserTest(server, browser, output)
{
    private const string UserName = PortalServerFixture.LocalAdminUserName;
    private const string Password = PortalServerFixture.LocalAdminPassword;

    [Fact]
    public Task Break_Glass_Admin_Signs_In_And_Is_Locked_Out_After_Five_Wrong_Passwords() => WithPageAsync(async page =>
    {
        var invalid = LoginErrors.Describe(LoginErrors.InvalidCredentials)!;
        var locked = LoginErrors.Describe(LoginErrors.LockedOut)!;

        var login = await LoginPage.OpenAsync(page);
        var shell = await login.LogInAsLocalAdminAsync(UserName, Password);
        await Expect(shell.Role).ToHaveTextAsync("Admin");
        await Expect(shell.AdminMenu).ToBeVisibleAsync();
        login = await shell.LogOutAsync();

        for (var attempt = 1; attempt <= 5; attempt++)
        {
            await login.SubmitLocalAdminAsync(UserName, $"wrong-password-{attempt}");
            await Expect(login.Error).ToHaveTextAsync(attempt < 5 ? invalid : locked);
        }

        await login.SubmitLocalAdminAsync(UserName, Password);
        await Expect(login.Error).ToHaveTextAsync(locked);
        await Expect(shell.UserName).ToBeHiddenAsync();
    });
}
