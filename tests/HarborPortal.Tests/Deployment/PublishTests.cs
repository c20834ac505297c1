using System.Diagnostics;
using System.Net;
using HarborPortal.Tests.Infrastructure;
using Xunit.Abstractions;

namespace HarborPortal.Tests.Deployment;

/// <summary>
/// No Docker engine runs here, so this performs the Dockerfile's publish step and starts the published app the
/// way the container does (its own folder, data directory from the environment, the healthcheck command).
/// </summary>
public sealed class PublishTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string _publishDirectory = Path.Combine(Path.GetTempPath(), "harborportal-publish", Guid.NewGuid().ToString("n"));
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "harborportal-publish-data", Guid.NewGuid().ToString("n"));

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        foreach (var dir in new[] { _publishDirectory, _dataDirectory })
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }

        return Task.CompletedTask;
    }

    [Fact]
    public async Task The_Published_App_Starts_Serves_Its_Assets_And_Passes_Its_Healthcheck()
    {
        // Arrange: the Dockerfile's publish (reusing the build these tests run on).
        var publish = await RunAsync("dotnet", $"publish src/HarborPortal/HarborPortal.csproj -c {RepositoryPaths.Configuration} --no-build -o \"{_publishDirectory}\"", RepositoryPaths.Root, TimeSpan.FromMinutes(4));
        Assert.True(publish.ExitCode == 0, publish.Output);
        Assert.True(File.Exists(Path.Combine(_publishDirectory, "HarborPortal.dll")));
        Assert.True(File.Exists(Path.Combine(_publishDirectory, "appsettings.json")), "the top-level appsettings.json is published");
        Assert.True(File.Exists(Path.Combine(_publishDirectory, "wwwroot", "lib", "htmx", "htmx.min.js")), "front-end assets are published");
        Assert.True(File.Exists(Path.Combine(_publishDirectory, "wwwroot", "css", "site.css")), "the top-level wwwroot is published");

        var port = FreePort.Next();
        var url = $"http://127.0.0.1:{port}";
        var start = new ProcessStartInfo("dotnet", "HarborPortal.dll")
        {
            WorkingDirectory = _publishDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment =
            {
                // The Dockerfile sets the port this way (not ASPNETCORE_URLS), as the .NET images do.
                ["ASPNETCORE_HTTP_PORTS"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Portal__DataDirectory"] = _dataDirectory,
                ["LocalAdmin__Password"] = "Published-Test-Pa55word!",
                // What docs/operations.md tells operators to set for a log collector: one JSON object per line, with scopes.
                ["Logging__Console__FormatterName"] = "json",
                ["Logging__Console__FormatterOptions__IncludeScopes"] = "true",
            },
        };
        // An inherited ASPNETCORE_URLS would win over the port.
        start.Environment.Remove("ASPNETCORE_URLS");
        using var app = Process.Start(start)!;
        var stdout = new System.Collections.Concurrent.ConcurrentQueue<string>();
        app.OutputDataReceived += (_, e) => { if (e.Data is not null) { stdout.Enqueue(e.Data); Log(e.Data); } };
        app.ErrorDataReceived += (_, e) => { if (e.Data is not null) { Log(e.Data); } };
        app.BeginOutputReadLine();
        app.BeginErrorReadLine();

        try
        {
            // Act
            using var client = new HttpClient { BaseAddress = new Uri(url) };
            await WaitUntilReadyAsync(client, app);

            // Assert
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/lib/htmx/htmx.min.js")).StatusCode);
            Assert.Contains("HarborPortal", await client.GetStringAsync("/account/login"));
            Assert.True(File.Exists(Path.Combine(_dataDirectory, "harborportal.db")), "the SQLite file is in the configured data directory");

            var probe = await RunAsync("dotnet", $"HarborPortal.dll healthcheck {url}/healthz", _publishDirectory, TimeSpan.FromSeconds(30));
            Assert.True(probe.ExitCode == 0, probe.Output);

            var deadProbe = await RunAsync("dotnet", $"HarborPortal.dll healthcheck http://127.0.0.1:{FreePort.Next()}/healthz", _publishDirectory, TimeSpan.FromSeconds(30));
            Assert.Equal(1, deadProbe.ExitCode);

            // Logs: JSON lines, and a request's entries carry its correlation id.
            using var webhook = new HttpRequestMessage(HttpMethod.Post, "/api/webhooks/harbor/4242") { Content = new StringContent("{}") };
            webhook.Headers.Add("X-Correlation-Id", "published-test-7");
            Assert.Equal(HttpStatusCode.NotFound, (await client.SendAsync(webhook)).StatusCode);
            var refused = await WaitForLineAsync(stdout, line => line.Contains("published-test-7", StringComparison.Ordinal));
            using (var entry = System.Text.Json.JsonDocument.Parse(refused))
            {
                Assert.Equal("Information", entry.RootElement.GetProperty("LogLevel").GetString());
                Assert.Contains(entry.RootElement.GetProperty("Scopes").EnumerateArray(), scope =>
                    scope.ValueKind == System.Text.Json.JsonValueKind.Object && scope.TryGetProperty("CorrelationId", out var id) && id.GetString() == "published-test-7");
            }

            // Metrics: Prometheus' text format from this machine.
            var metrics = await client.GetStringAsync("/metrics");
            Assert.Contains("harborportal_webhook_deliveries_total{status_code=\"404\"} 1", metrics, StringComparison.Ordinal);
        }
        finally
        {
            app.Kill(entireProcessTree: true);
            await app.WaitForExitAsync();
        }
    }

    private void Log(string line)
    {
        try
        {
            output.WriteLine(line);
        }
        catch (InvalidOperationException)
        {
            // The test already finished.
        }
    }

    private static async Task<string> WaitForLineAsync(System.Collections.Concurrent.ConcurrentQueue<string> lines, Func<string, bool> match)
    {
        for (var i = 0; i < 100; i++)
        {
            if (lines.FirstOrDefault(match) is { } line)
            {
                return line;
            }

            await Task.Delay(100);
        }

        Assert.Fail("no such log line within 10 seconds:\n" + string.Join('\n', lines));
        return "";
    }

    private static async Task WaitUntilReadyAsync(HttpClient client, Process app)
    {
        // Generous: on a loaded build machine the first start (JIT, migrations) has taken over 90 seconds.
        var deadline = DateTime.UtcNow.AddSeconds(180);
        while (DateTime.UtcNow < deadline)
        {
            Assert.False(app.HasExited, "the published app exited during start");
            try
            {
                if ((await client.GetAsync("/readyz")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(250);
        }

        Assert.Fail("the published app did not become ready within 180 seconds");
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string file, string arguments, string workingDirectory, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(file, arguments) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(cts.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}
