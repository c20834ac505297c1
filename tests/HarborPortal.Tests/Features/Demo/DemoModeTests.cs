using System.Net;
using System.Text.RegularExpressions;
using HarborPortal.Features.Demo;
using HarborPortal.Features.Scanning;
using HarborPortal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit.Abstractions;

namespace HarborPortal.Tests.Features.Demo;

// `--demo` through the app's own start-up: the switch arrives as configuration (Demo:Enabled=true), exactly what
// DemoMode.ReadSwitch turns the command line into. The test host runs as Production, so the positive tests give the opt-in.
public sealed partial class DemoModeTests(ITestOutputHelper output)
{
    private static readonly Dictionary<string, string?> DemoInTestHost = new()
    {
        ["Demo:Enabled"] = "true",
        ["Demo:AllowProduction"] = "true",
        // The demo always runs on a SQLite file of its own, whatever database the rest of the suite uses.
        ["Database:Provider"] = "Sqlite",
    };

    [Fact]
    public async Task The_Demo_Registers_The_Simulator_Syncs_It_And_Prints_How_To_Sign_In()
    {
        await using var app = new PortalApplication(DemoInTestHost, output);
        using var client = app.CreateClientWithCookies();

        // Its own data directory: nothing lands in the configured one.
        Assert.True(File.Exists(Path.Combine(app.DataDirectory, "demo", "harborportal.db")));
        Assert.False(File.Exists(Path.Combine(app.DataDirectory, "harborportal.db")));

        var run = await WaitForDemoSyncAsync(app);
        Assert.Equal(SyncRunStatus.Succeeded, run.Status);
        Assert.Equal(DemoHarbor.Actor, run.RequestedBy);
        await using (var db = app.CreateDbContext())
        {
            var connection = await db.HarborConnections.SingleAsync();
            Assert.Equal(DemoHarbor.ConnectionName, connection.Name);
            Assert.StartsWith("http://127.0.0.1:", connection.BaseUrl, StringComparison.Ordinal);
            Assert.Equal(HarborPortal.HarborSimulator.DefaultScenario.PortalRobot, connection.UserName);
            Assert.True(await db.Findings.CountAsync(f => f.ConnectionId == connection.Id) > 0);
            // The scanner's findings; the posture checks that follow the sync add their own.
            Assert.Equal(run.FindingsNew, await db.Findings.CountAsync(f => f.SourceTool == HarborPortal.Features.Findings.Finding.HarborSource));
            Assert.True(await db.AuditEvents.AnyAsync(e => e.Action == "connection.create" && e.Actor == DemoHarbor.Actor));
        }

        // Nobody is signed in: the portal asks for a login, and the printed password opens it.
        using var anonymous = await client.GetAsync("/admin/connections");
        Assert.Equal(HttpStatusCode.Redirect, anonymous.StatusCode);
        var instructions = await WaitForInstructionsAsync(app);
        Assert.Contains($"\"{DemoHarbor.ConnectionName}\" is the Harbor simulator at http://127.0.0.1:", instructions, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(app.DataDirectory, "demo"), instructions, StringComparison.Ordinal);
        var password = PrintedPassword().Match(instructions);
        Assert.True(password.Success, instructions);
        using var signIn = await PortalApplication.SignInLocalAdminAsync(client, "admin", password.Groups["password"].Value);
        Assert.Equal("/", signIn.Headers.Location!.OriginalString);
        Assert.Contains(DemoHarbor.ConnectionName, await client.GetStringAsync("/admin/connections"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_Restarted_Demo_Points_The_Same_Connection_At_The_New_Simulator()
    {
        await using var app = new PortalApplication(DemoInTestHost, output);
        app.CreateClient().Dispose();
        await WaitForDemoSyncAsync(app);
        var demo = app.Services.GetServices<IHostedService>().OfType<DemoHarbor>().Single();
        string before;
        await using (var db = app.CreateDbContext())
        {
            before = (await db.HarborConnections.SingleAsync()).BaseUrl;
        }

        await demo.StopAsync(CancellationToken.None);
        await demo.StartAsync(CancellationToken.None);

        await using var check = app.CreateDbContext();
        var connection = await check.HarborConnections.SingleAsync();
        Assert.NotEqual(before, connection.BaseUrl);
        Assert.Equal(2, await check.SyncRuns.CountAsync(r => r.Trigger == SyncTrigger.Demo));
    }

    [Fact]
    public async Task The_Demo_Refuses_A_Database_Other_Than_Sqlite()
    {
        var (exitCode, error) = await RunPortalAsync(new() { ["Database__Provider"] = "Postgres", ["ASPNETCORE_ENVIRONMENT"] = "Demo" });

        Assert.Equal(2, exitCode);
        Assert.Contains("--demo runs on a SQLite database of its own, but Database:Provider is 'Postgres'", error, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_Demo_Refuses_Production_Without_The_Explicit_Opt_In()
    {
        var (exitCode, error) = await RunPortalAsync(new() { ["ASPNETCORE_ENVIRONMENT"] = "Production" });

        Assert.Equal(2, exitCode);
        Assert.Contains("--demo refuses to start in the Production environment", error, StringComparison.Ordinal);
        Assert.Contains("Demo__AllowProduction=true", error, StringComparison.Ordinal);
    }

    [Fact]
    public void The_Switch_Becomes_Configuration_And_Keeps_The_Arguments_After_It()
    {
        var args = DemoMode.ReadSwitch(["--demo", "--urls", "http://127.0.0.1:5000"], _ => null);

        Assert.Equal(["--urls", "http://127.0.0.1:5000", "--Demo:Enabled=true", "--environment=Demo"], args);
    }

    [Theory]
    [InlineData("ASPNETCORE_ENVIRONMENT")]
    [InlineData("DOTNET_ENVIRONMENT")]
    public void A_Named_Environment_Is_Kept(string variable)
    {
        var args = DemoMode.ReadSwitch(["--demo"], name => name == variable ? "Production" : null);

        Assert.Equal(["--Demo:Enabled=true"], args);
        Assert.Equal(["--environment=Staging", "--Demo:Enabled=true"], DemoMode.ReadSwitch(["--environment=Staging", "--demo"], _ => null));
    }

    [Fact]
    public void Without_The_Switch_The_Arguments_Are_Untouched()
    {
        string[] args = ["admin", "migrate"];

        Assert.Same(args, DemoMode.ReadSwitch(args, _ => null));
    }

    [Theory]
    [InlineData(null, "Demo", false, null)]
    [InlineData("Sqlite", "Development", false, null)]
    [InlineData("sqlite", "Production", true, null)]
    [InlineData("Postgres", "Demo", true, "Database:Provider is 'Postgres'")]
    [InlineData(null, "Production", false, "refuses to start in the Production environment")]
    public void The_Refusal_Rules(string? provider, string environment, bool allowProduction, string? expected)
    {
        var refusal = DemoMode.Refusal(provider, environment, allowProduction);

        if (expected is null)
        {
            Assert.Null(refusal);
        }
        else
        {
            Assert.Contains(expected, refusal, StringComparison.Ordinal);
        }
    }

    // The command line itself: the built portal with `--demo`, as an operator would type it (it refuses before listening).
    private async Task<(int ExitCode, string Error)> RunPortalAsync(Dictionary<string, string> environment)
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "harborportal-tests", Guid.NewGuid().ToString("n"));
        var binaries = Path.Combine(RepositoryPaths.Root, "src", "HarborPortal", "bin", RepositoryPaths.Configuration, "net10.0");
        var start = new System.Diagnostics.ProcessStartInfo("dotnet", ["HarborPortal.dll", "--demo", "--urls", "http://127.0.0.1:0"])
        {
            WorkingDirectory = binaries,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["Portal__DataDirectory"] = dataDirectory, ["DOTNET_ENVIRONMENT"] = null },
        };
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = System.Diagnostics.Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        output.WriteLine(await stdout + await stderr);
        Assert.False(Directory.Exists(Path.Combine(dataDirectory, "demo")), "a refused demo created its data directory");
        return (process.ExitCode, await stderr);
    }

    private static async Task<SyncRun> WaitForDemoSyncAsync(PortalApplication app)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            await using var db = app.CreateDbContext();
            if (await db.SyncRuns.AsNoTracking().Where(r => r.Trigger == SyncTrigger.Demo).OrderBy(r => r.Id).FirstOrDefaultAsync() is { IsActive: false } run)
            {
                return run;
            }

            Assert.True(DateTime.UtcNow < deadline, "the demo's first sync did not end within 60 seconds");
            await Task.Delay(200);
        }
    }

    // Printed once the server listens (ApplicationStarted), which the in-memory host signals right after start.
    private static async Task<string> WaitForInstructionsAsync(PortalApplication app)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            if (app.Logs.FirstOrDefault(l => l.Category == typeof(DemoHarbor).FullName && l.Message.Contains("demo mode", StringComparison.Ordinal)) is { } line)
            {
                return line.Message;
            }

            Assert.True(DateTime.UtcNow < deadline, "the demo printed no sign-in instructions");
            await Task.Delay(100);
        }
    }

    [GeneratedRegex("user 'admin', password '(?<password>[^']+)'")]
    private static partial Regex PrintedPassword();
}
