using HarborPortal.BrowserTests.Infrastructure;
using HarborPortal.BrowserTests.Pages;
using HarborPortal.Tests.Infrastructure;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace HarborPortal.BrowserTests;

/// <summary>Signing in through authentik: the role comes from the user's groups, and the server enforces it.</summary>
[Collection(PortalCollection.Name)]
public sealed class SignInTests(PortalServerFixture server, BrowserFixture browser, ITestOutputHelper output)
    : BrowserTest(server, browser, output)
{
    [Fact]
    public Task Admin_Signs_In_Via_Authentik_And_Sees_The_Admin_Menu() => WithPageAsync(async page =>
    {
        var admin = IdentityProviderFixture.User("akadmin");
        await page.GotoAsync("/");
        var login = new LoginPage(page);
        await login.WaitUntilShownAsync();

        var shell = await login.LogInViaAuthentikAsync(admin.Username, admin.Password);

        await Expect(page).ToHaveURLAsync(Server.BaseAddress.ToString());
        await Expect(shell.UserName).ToHaveTextAsync(admin.Name);
        await Expect(shell.Role).ToHaveTextAsync("Admin");
        await Expect(shell.AdminMenu).ToBeVisibleAsync();

        var jobs = await shell.OpenJobsAsync();
        await Expect(jobs.Table).ToBeVisibleAsync();
    });

    [Fact]
    public Task User_In_No_Mapped_Group_Is_A_Viewer() => WithPageAsync(async page =>
    {
        var user = IdentityProviderFixture.User("nogroup");
        var login = await LoginPage.OpenAsync(page);

        var shell = await login.LogInViaAuthentikAsync(user.Username, user.Password);

        await Expect(shell.Role).ToHaveTextAsync("Viewer");
        await Expect(shell.AdminMenu).ToBeHiddenAsync();
    });

    [Fact]
    public Task Developer_Asking_For_Admin_Connections_Gets_403_And_The_403_Page() => WithPageAsync(async page =>
    {
        var developer = IdentityProviderFixture.User("dev");
        var login = await LoginPage.OpenAsync(page);
        var shell = await login.LogInViaAuthentikAsync(developer.Username, developer.Password);
        await Expect(shell.Role).ToHaveTextAsync("Developer");

        var response = await page.GotoAsync("/admin/connections");

        Assert.Equal(403, response?.Status);
        await Expect(new StatusPage(page).Root).ToContainTextAsync("Access denied");
        await Expect(shell.UserName).ToHaveTextAsync(developer.Name);
    });
}
