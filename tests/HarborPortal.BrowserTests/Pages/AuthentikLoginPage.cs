using Microsoft.Playwright;

namespace HarborPortal.BrowserTests.Pages;

/// <summary>authentik's password form (the test provider's <c>/if/flow/default-authentication-flow/&lt;uid&gt;/</c>).</summary>
public sealed class AuthentikLoginPage(IPage page)
{
    private const string FlowUrl = "**/if/flow/default-authentication-flow/**";

    public ILocator UserName => page.Locator("input[name=username]");

    public ILocator Password => page.Locator("input[name=password]");

    public ILocator LogInButton => page.GetByRole(AriaRole.Button, new() { Name = "Log in" });

    /// <summary>The provider's own message, e.g. for a wrong password.</summary>
    public ILocator Error => page.GetByRole(AriaRole.Alert);

    /// <summary>Waits for the password form; says where the browser went instead when it does not appear.</summary>
    public async Task WaitUntilShownAsync()
    {
        try
        {
            await page.WaitForURLAsync(FlowUrl);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"authentik's login form was not shown; the browser is at {page.Url} (\"{await TitleOrNothingAsync()}\").", ex);
        }

        await Assertions.Expect(UserName).ToBeVisibleAsync();
    }

    /// <summary>Fills in the form and submits it; the provider then redirects wherever the flow goes.</summary>
    public async Task SubmitAsync(string username, string password)
    {
        await UserName.FillAsync(username);
        await Password.FillAsync(password);
        await LogInButton.ClickAsync();
    }

    private async Task<string> TitleOrNothingAsync()
    {
        try
        {
            return await page.TitleAsync();
        }
        catch (PlaywrightException)
        {
            return "";
        }
    }
}
