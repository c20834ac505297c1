using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using HarborPortal.Tests.Infrastructure;
using Xunit.Abstractions;

namespace HarborPortal.BrowserTests.Infrastructure;

/// <summary>
/// Debian's Chromium driven by Playwright, launched once per collection from its <c>ExecutablePath</c>
/// (browsers are never downloaded: <c>playwright install</c> cannot work offline). Every test gets a fresh
/// context (its own cookies), a trace and a screenshot when it fails, the browser console in its output,
/// and a check that the pages raised no console errors — a CSP violation (inline script or style, a
/// third-party origin) is one.
/// </summary>
public sealed partial class BrowserFixture : IAsyncLifetime
{
    public const string DefaultExecutablePath = "/usr/bin/chromium";

    /// <summary>The README's screenshots are taken at this size too.</summary>
    public static readonly ViewportSize Viewport = new() { Width = 1280, Height = 800 };

    private static readonly string[] LaunchArguments =
    [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ];

    private IPlaywright? _playwright;
    private IBrowser? _browser;

    /// <summary><c>PORTAL_BROWSER_HEADFUL=1</c>: a visible, slowed-down browser with generous timeouts, for debugging.</summary>
    public static bool IsHeadful => Environment.GetEnvironmentVariable("PORTAL_BROWSER_HEADFUL") == "1";

    public static string ExecutablePath =>
        Environment.GetEnvironmentVariable("PORTAL_CHROMIUM_PATH") is { Length: > 0 } path ? path : DefaultExecutablePath;

    /// <summary>How long an action, navigation or assertion may take (the machine is small and shared).</summary>
    public static TimeSpan Timeout => TimeSpan.FromSeconds(IsHeadful ? 120 : 15);

    private static float TimeoutMilliseconds => (float)Timeout.TotalMilliseconds;

    public async Task InitializeAsync()
    {
        if (!File.Exists(ExecutablePath))
        {
            throw new InvalidOperationException(
                $"Chromium is not at {ExecutablePath}: install Debian's `chromium` package or set PORTAL_CHROMIUM_PATH. " +
                "(Browsers are never downloaded: `playwright install` cannot work offline.)");
        }

        Assertions.SetDefaultExpectTimeout(TimeoutMilliseconds);
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = !IsHeadful,
            SlowMo = IsHeadful ? 250 : null,
            Args = LaunchArguments,
        });
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
            _browser = null;
        }

        _playwright?.Dispose();
        _playwright = null;
    }

    /// <summary>
    /// Runs <paramref name="action"/> on a page of a fresh context whose relative URLs resolve against
    /// <paramref name="baseAddress"/>, then asserts that no page raised a console error. On failure the
    /// screenshot goes to <c>TestResults/screenshots/&lt;test&gt;.png</c>, the trace to <c>TestResults/traces/&lt;test&gt;.zip</c>.
    /// </summary>
    public async Task WithPageAsync(Uri baseAddress, ITestOutputHelper output, string testName, Func<IPage, Task> action)
    {
        var browser = _browser ?? throw new InvalidOperationException("The browser fixture has not started.");
        await using var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = baseAddress.ToString(),
            ViewportSize = Viewport,
            Locale = "en-GB",
            TimezoneId = "UTC",
        });
        context.SetDefaultTimeout(TimeoutMilliseconds);
        await context.Tracing.StartAsync(new TracingStartOptions { Title = testName, Screenshots = true, Snapshots = true });

        var page = await context.NewPageAsync();
        var console = new ConsoleWatch(page, baseAddress, output);
        var failed = false;
        try
        {
            await action(page);
            console.AssertNoErrors();
        }
        catch (Exception)
        {
            failed = true;
            await SaveFailureArtifactsAsync(context, page, output, testName);
            throw;
        }
        finally
        {
            if (!failed)
            {
                await context.Tracing.StopAsync();
            }
        }
    }

    private static async Task SaveFailureArtifactsAsync(IBrowserContext context, IPage page, ITestOutputHelper output, string testName)
    {
        var name = RepositoryPaths.FileName(testName);
        var screenshot = Path.Combine(RepositoryPaths.TestResults, "screenshots", name + ".png");
        var trace = Path.Combine(RepositoryPaths.TestResults, "traces", name + ".zip");
        try
        {
            output.WriteLine($"[browser] failed at {page.Url}");
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot, FullPage = true });
            output.WriteLine($"[browser] screenshot: {screenshot}");
        }
        catch (PlaywrightException ex)
        {
            output.WriteLine("[browser] no screenshot: " + ex.Message);
        }

        try
        {
            await context.Tracing.StopAsync(new TracingStopOptions { Path = trace });
            output.WriteLine($"[browser] trace (open it at https://trace.playwright.dev): {trace}");
        }
        catch (PlaywrightException ex)
        {
            output.WriteLine("[browser] no trace: " + ex.Message);
        }
    }

    /// <summary>
    /// Writes the browser's console and navigations to the test output and keeps the errors raised on the
    /// portal's own pages (the identity provider's pages are authentik's business: its missing favicon, say).
    /// </summary>
    private sealed partial class ConsoleWatch
    {
        private const string FailedToLoad = "Failed to load resource: the server responded with a status of";

        private readonly string _portal;
        private readonly Lock _lock = new();
        private readonly List<(string Text, string Location)> _errors = [];
        private readonly HashSet<string> _errorDocuments = [];

        public ConsoleWatch(IPage page, Uri portal, ITestOutputHelper output)
        {
            _portal = portal.GetLeftPart(UriPartial.Authority) + "/";
            page.Console += (_, message) =>
            {
                Write(output, $"[console.{message.Type}] {message.Text} ({message.Location})");
                var location = string.IsNullOrEmpty(message.Location) ? page.Url : message.Location;
                if (message.Type == "error" && IsPortal(location))
                {
                    lock (_lock)
                    {
                        _errors.Add((message.Text, location));
                    }
                }
            };
            page.PageError += (_, error) =>
            {
                Write(output, "[page error] " + error);
                if (IsPortal(page.Url))
                {
                    lock (_lock)
                    {
                        _errors.Add(("uncaught: " + error, page.Url));
                    }
                }
            };
            page.Response += (_, response) =>
            {
                if (response.Request.ResourceType != "document")
                {
                    return;
                }

                Write(output, $"[browser] {response.Status.ToString(CultureInfo.InvariantCulture)} {response.Request.Method} {response.Url}");
                if (response.Status >= 400)
                {
                    lock (_lock)
                    {
                        _errorDocuments.Add(response.Url);
                    }
                }
            };
            page.RequestFailed += (_, request) => Write(output, $"[browser] failed {request.Method} {request.Url}: {request.Failure}");
        }

        /// <summary>
        /// Every console error on a portal page fails the test, except Chromium's "failed to load" line for a
        /// document that answered 4xx/5xx: a 403 page is the expected answer, not a broken page (a failed
        /// script, style or image still counts).
        /// </summary>
        public void AssertNoErrors()
        {
            List<string> errors;
            lock (_lock)
            {
                errors =
                [
                    .. _errors
                        .Where(e => !(e.Text.StartsWith(FailedToLoad, StringComparison.Ordinal) && _errorDocuments.Contains(StripPosition(e.Location))))
                        .Select(e => $"{e.Text} ({e.Location})"),
                ];
            }

            Assert.True(errors.Count == 0, "The pages raised console errors:" + Environment.NewLine + string.Join(Environment.NewLine, errors));
        }

        private bool IsPortal(string url) => url.StartsWith(_portal, StringComparison.Ordinal);

        /// <summary><c>URL:line:column</c> → URL.</summary>
        private static string StripPosition(string location) => Position().Replace(location, "");

        [GeneratedRegex(@":\d+:\d+$")]
        private static partial Regex Position();

        private static void Write(ITestOutputHelper output, string line)
        {
            try
            {
                output.WriteLine(line);
            }
            catch (InvalidOperationException)
            {
                // An event after the test ended.
            }
        }
    }
}
