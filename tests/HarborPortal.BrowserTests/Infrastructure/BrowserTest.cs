using System.Runtime.CompilerServices;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace HarborPortal.BrowserTests.Infrastructure;

/// <summary>A test class of a collection: the server's logs go to this test's output while it runs.</summary>
public abstract class BrowserTest : IDisposable
{
    private readonly BrowserFixture _browser;

    protected BrowserTest(PortalServerFixture server, BrowserFixture browser, ITestOutputHelper output)
    {
        Server = server;
        Output = output;
        _browser = browser;
        server.Output.Attach(output);
    }

    protected PortalServerFixture Server { get; }

    protected ITestOutputHelper Output { get; }

    /// <summary>A fresh browser context on the portal; fails the test if a page raised a console error.</summary>
    protected Task WithPageAsync(Func<IPage, Task> action, [CallerMemberName] string testName = "") =>
        _browser.WithPageAsync(Server.BaseAddress, Output, testName, action);

    public void Dispose()
    {
        Server.Output.Detach(Output);
        GC.SuppressFinalize(this);
    }
}
