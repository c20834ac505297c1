using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace HarborPortal.BrowserTests.Pages;

/// <summary>The portal's <c>/account/login</c>: "Log in via authentik", and the break-glass local administrator.</summary>
public sealed partial class LoginPage(IPage page)
{
    public const string Path = "/account/login";

    public ILocator AuthentikButton => page.GetByTestId("login-oidc");

    public ILocator LocalAdminForm => page.GetByTestId("local-login");

    public ILocator Error => page.GetByTestId("login-error");

    public ILocator SignedOutMessage => page.GetByTestId("signed-out");

    /// <summary>Matches the login page's address, with or without a query.</summary>
    public static Regex Url { get; } = LoginUrl();

    public static async Task<LoginPage> OpenAsync(IPage page)
    {
        await page.GotoAsync(Path);
        var login = new LoginPage(page);
        await login.WaitUntilShownAsync();
        return login;
    }

    public async Task WaitUntilShownAsync()
    {
        await Expect(page).ToHaveURLAsync(Url);
        await Expect(AuthentikButton).ToBeVisibleAsync();
    }

    /// <summary>Clicks "Log in via authentik" and expects authentik's password form (not a silent sign-in).</summary>
    public async Task<AuthentikLoginPage> StartLogInViaAuthentikAsync()
    {
        await AuthentikButton.ClickAsync();
        var authentik = new AuthentikLoginPage(page);
        await authentik.WaitUntilShownAsync();
        return authentik;
    }

    /// <summary>Signs in at authentik and waits until the portal shows the signed-in shell.</summary>
    public async Task<PortalShell> LogInViaAuthentikAsync(string username, string password)
    {
        await AttemptLogInViaAuthentikAsync(username, password);
        return await PortalShell.WaitUntilSignedInAsync(page, $"signing in as '{username}' via authentik");
    }

    /// <summary>Signs in at authentik and waits for the return to the portal, whatever the portal then decides.</summary>
    public async Task AttemptLogInViaAuthentikAsync(string username, string password)
    {
        var portal = PageExtensions.Origin(page.Url);
        var authentik = await StartLogInViaAuthentikAsync();
        await authentik.SubmitAsync(username, password);
        // Only the return to the portal is awaited: callers assert on what the page shows, with Expect's own retry.
        // Polled, not WaitForURLAsync: with WaitUntil=Commit it hangs when the redirect chain (/signin-oidc → /) has
        // already landed before the call (it then waits for a "commit" load state that is never recorded), and waiting
        // for "load" instead raced with the same chain.
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!(page.Url.StartsWith(portal + "/", StringComparison.Ordinal) && !page.Url.StartsWith(portal + "/signin-oidc", StringComparison.Ordinal)))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"signing in as '{username}' did not return to the portal within 15 s; the page is at {page.Url}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Signs in with the break-glass form and waits until the portal shows the signed-in shell.</summary>
    public async Task<PortalShell> LogInAsLocalAdminAsync(string username, string password)
    {
        await SubmitLocalAdminAsync(username, password);
        return await PortalShell.WaitUntilSignedInAsync(page, $"signing in as the local administrator '{username}'");
    }

    /// <summary>Posts the break-glass form and waits for the page that answers, whatever it says.</summary>
    public async Task SubmitLocalAdminAsync(string username, string password)
    {
        if (!await LocalAdminForm.IsVisibleAsync())
        {
            await page.GetByText("Break-glass local administrator").ClickAsync();
        }

        await LocalAdminForm.Locator("#local-username").FillAsync(username);
        await LocalAdminForm.Locator("#local-password").FillAsync(password);
        await LocalAdminForm.GetByRole(AriaRole.Button).ClickAndWaitForNextPageAsync(page);
    }

    [GeneratedRegex(@"^https?://[^/]+/account/login(\?.*)?$")]
    private static partial Regex LoginUrl();
}
