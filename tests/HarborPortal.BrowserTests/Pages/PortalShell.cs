using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace HarborPortal.BrowserTests.Pages;

/// <summary>The layout around every signed-in page: who is signed in, with which role, the admin menu, log out.</summary>
public sealed class PortalShell(IPage page)
{
    public ILocator UserName => page.GetByTestId("user-name");

    public ILocator Role => page.GetByTestId("user-role");

    public ILocator AdminMenu => page.GetByTestId("admin-menu");

    /// <summary>
    /// Waits for the shell; when the portal shows its login page or a status page instead, fails with what
    /// that page says, which tells far more than a timeout.
    /// </summary>
    public static async Task<PortalShell> WaitUntilSignedInAsync(IPage page, string doing)
    {
        var shell = new PortalShell(page);
        var login = new LoginPage(page);
        var status = new StatusPage(page);
        await Expect(shell.UserName.Or(login.AuthentikButton).Or(status.Root).First).ToBeVisibleAsync();
        if (await shell.UserName.IsVisibleAsync())
        {
            return shell;
        }

        var shown = await status.Root.IsVisibleAsync() ? "a status page: " + await status.Root.InnerTextAsync()
            : await login.Error.IsVisibleAsync() ? "the login page: " + await login.Error.InnerTextAsync()
            : "the login page, with no error message";
        throw new InvalidOperationException($"After {doing} the portal shows {shown} ({page.Url})");
    }

    public async Task<string> UserNameAsync() => (await UserName.InnerTextAsync()).Trim();

    public async Task<string> RoleAsync() => (await Role.InnerTextAsync()).Trim();

    public Task<bool> IsAdminMenuVisibleAsync() => AdminMenu.IsVisibleAsync();

    /// <summary>Clicks "Log out" and waits to be back on the portal's login page (after authentik, for an SSO session).</summary>
    public async Task<LoginPage> LogOutAsync()
    {
        await page.GetByTestId("logout").ClickAsync();
        var login = new LoginPage(page);
        await login.WaitUntilShownAsync();
        return login;
    }

    /// <summary>Opens the admin's jobs page from the navigation.</summary>
    public async Task<JobsPage> OpenJobsAsync()
    {
        await page.GetByRole(AriaRole.Navigation).GetByRole(AriaRole.Link, new() { Name = "Jobs" }).ClickAsync();
        await page.WaitForURLAsync("**/admin/jobs");
        return new JobsPage(page);
    }
}
