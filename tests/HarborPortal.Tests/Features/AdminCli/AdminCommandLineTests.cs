using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using HarborPortal.Features.AdminCli;
using HarborPortal.Features.Api;
using HarborPortal.Features.Auth;
using HarborPortal.Tests.Features.Auth;
using HarborPortal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Xunit.Abstractions;

namespace HarborPortal.Tests.Features.AdminCli;

public sealed class AdminCommandLineTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Help_Prints_The_Usage_On_Stdout()
    {
        await using var app = new PortalApplication(output: output);

        var result = await app.RunAdminCommandAsync("help");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(AdminCommandLine.Usage.Trim(), result.Output.Trim());
    }

    [Theory]
    [InlineData("frobnicate")]
    [InlineData("create-token", "--user", "bot", "--role", "Viewer")]
    [InlineData("create-token", "--user", "bot", "--role", "Viewer", "--expires-days", "0")]
    [InlineData("create-token", "--user", "bot", "--role", "Viewer", "--expires-days", "3651")]
    [InlineData("create-token", "--user", "bot", "--role", "Overlord", "--expires-days", "30")]
    [InlineData("create-token", "--user", "bot", "--expires-days", "30")]
    [InlineData("create-token", "--user", "bot", "--role", "Viewer", "--expires-days", "30", "--colour", "red")]
    [InlineData("create-token", "--user")]
    [InlineData("revoke-token")]
    [InlineData("revoke-token", "--id", "1", "--prefix", "hp_abc")]
    [InlineData("reset-local-admin", "--password", "short")]
    public async Task Bad_Input_Exits_With_2_And_The_Usage(params string[] args)
    {
        await using var app = new PortalApplication(output: output);

        var result = await app.RunAdminCommandAsync(args);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("", result.Output);
        Assert.StartsWith("error: ", result.Error, StringComparison.Ordinal);
        Assert.Contains("Usage: HarborPortal admin", result.Error, StringComparison.Ordinal);
        await using var db = app.CreateDbContext();
        Assert.Empty(await db.ApiTokens.ToListAsync());
    }

    [Fact]
    public async Task Create_Token_Makes_An_Api_Only_Account_And_Prints_Only_The_Token()
    {
        await using var app = new PortalApplication(output: output);

        var result = await app.RunAdminCommandAsync("create-token", "--user", "ci-bot", "--role", "viewer,developer", "--expires-days", "3650", "--name", "pipeline");

        Assert.Equal(0, result.ExitCode);
        Assert.Matches("^hp_[0-9A-Za-z]{40}\\r?\\n$", result.Output);
        await using var db = app.CreateDbContext();
        var token = await db.ApiTokens.Include(t => t.UserAccount).SingleAsync();
        Assert.Equal(("pipeline", UserAccount.ApiIssuer, "ci-bot", "Viewer,Developer"), (token.Name, token.UserAccount!.Issuer, token.UserAccount.Subject, token.UserAccount.Roles));
        Assert.InRange(token.ExpiresAt - token.CreatedAt, TimeSpan.FromDays(3650), TimeSpan.FromDays(3650));
        var audit = await db.AuditEvents.Where(e => e.Method == "cli").OrderBy(e => e.Id).ToListAsync();
        Assert.Equal(["user.create", "apitoken.create"], audit.Select(e => e.Action));
        Assert.All(audit, e => Assert.Equal($"{Environment.UserName}@{Environment.MachineName}", e.Actor));
    }

    [Fact]
    public async Task Create_Token_For_An_Existing_Person_Carries_Their_Roles_And_Refuses_Others()
    {
        await using var app = new PortalApplication(output: output);
        using var browser = app.CreateClientWithCookies();
        await app.SignInAsAsync(browser, "dana", "Security");

        var refused = await app.RunAdminCommandAsync("create-token", "--user", "dana", "--role", "Admin", "--expires-days", "7");
        var created = await app.RunAdminCommandAsync("create-token", "--user", "dana", "--expires-days", "7");

        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("their roles come from that sign-in", refused.Error, StringComparison.Ordinal);
        Assert.Equal(0, created.ExitCode);
        using var api = await ApiTokenTests.SendAsync(app.CreateClient(), HttpMethod.Get, "/api/v1/me", created.Output.Trim());
        var me = await api.Content.ReadFromJsonAsync<MeResponse>();
        Assert.Equal(("dana", "Security"), (me!.UserName, Assert.Single(me.Roles)));
    }

    [Fact]
    public async Task List_Shows_Tokens_Without_Their_Values_And_Revoke_By_Id_Works()
    {
        await using var app = new PortalApplication(output: output);
        var first = await ApiTokenTests.CreateTokenAsync(app, "ci-bot", "Viewer");
        await ApiTokenTests.CreateTokenAsync(app, "other-bot", "Viewer");

        var revoke = await app.RunAdminCommandAsync("revoke-token", "--id", "1");
        var list = await app.RunAdminCommandAsync("list-tokens");
        var mine = await app.RunAdminCommandAsync("list-tokens", "--user", "other-bot");
        var missing = await app.RunAdminCommandAsync("revoke-token", "--id", "99");

        Assert.Equal(0, revoke.ExitCode);
        Assert.Contains("Revoked token 1 'cli'", revoke.Output, StringComparison.Ordinal);
        var lines = list.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("ID  USER", lines[0], StringComparison.Ordinal);
        Assert.Contains(first[..ApiTokens.DisplayPrefixLength], lines[1], StringComparison.Ordinal);
        Assert.EndsWith("revoked", lines[1], StringComparison.Ordinal);
        Assert.EndsWith("active", lines[2], StringComparison.Ordinal);
        Assert.DoesNotContain(first, list.Output, StringComparison.Ordinal);
        Assert.Equal(2, mine.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal(1, missing.ExitCode);
    }

    [Fact]
    public async Task Revoke_By_Prefix_Needs_Exactly_One_Active_Match()
    {
        await using var app = new PortalApplication(output: output);
        await using (var db = app.CreateDbContext())
        {
            var owner = new UserAccount { Issuer = UserAccount.ApiIssuer, Subject = "ci-bot", UserName = "ci-bot", Roles = "Viewer" };
            db.ApiTokens.AddRange(
                new ApiToken { UserAccount = owner, Name = "a", Prefix = "hp_abcdefg", TokenHash = new string('a', 64), ExpiresAt = DateTimeOffset.UtcNow.AddDays(1) },
                new ApiToken { UserAccount = owner, Name = "b", Prefix = "hp_abcdxyz", TokenHash = new string('b', 64), ExpiresAt = DateTimeOffset.UtcNow.AddDays(1) });
            await db.SaveChangesAsync();
        }

        var ambiguous = await app.RunAdminCommandAsync("revoke-token", "--prefix", "hp_abcd");
        var exact = await app.RunAdminCommandAsync("revoke-token", "--prefix", "hp_abcdxyz");
        var none = await app.RunAdminCommandAsync("revoke-token", "--prefix", "hp_zzz");

        Assert.Equal(1, ambiguous.ExitCode);
        Assert.Contains("2 active tokens start with 'hp_abcd'", ambiguous.Error, StringComparison.Ordinal);
        Assert.Equal(0, exact.ExitCode);
        Assert.Contains("'b'", exact.Output, StringComparison.Ordinal);
        Assert.Equal(1, none.ExitCode);
    }

    [Fact]
    public async Task Reset_Local_Admin_Generates_A_Password_That_Works_And_Clears_The_Lockout()
    {
        await using var app = new PortalApplication(output: output);
        using var browser = app.CreateClientWithCookies();
        for (var i = 0; i < LocalAdmin.MaxFailedAttempts; i++)
        {
            (await PortalApplication.SignInLocalAdminAsync(browser, "admin", "wrong")).Dispose();
        }

        var reset = await app.RunAdminCommandAsync("reset-local-admin");
        var password = reset.Output.Trim();
        using var signIn = await PortalApplication.SignInLocalAdminAsync(browser, "admin", password);

        Assert.Equal(0, reset.ExitCode);
        Assert.Equal(24, password.Length);
        Assert.Equal("/", signIn.Headers.Location?.OriginalString);
        await using var db = app.CreateDbContext();
        var audit = await db.AuditEvents.SingleAsync(e => e.Action == "localadmin.reset");
        Assert.Equal("cli", audit.Method);
        Assert.DoesNotContain(password, $"{audit.Target} {audit.Details}", StringComparison.Ordinal);
    }

    [Fact]
    public async Task Migrate_Reports_What_It_Applied()
    {
        await using var app = new PortalApplication(output: output);

        var fresh = await app.RunAdminCommandAsync("migrate");
        var again = await app.RunAdminCommandAsync("migrate");

        Assert.Equal(0, fresh.ExitCode);
        var applied = fresh.Output.Trim().Split('\n');
        // Each database has its own history: SQLite's starts in 2026-11-22, PostgreSQL's with its 2026-11-24 Initial.
        Assert.Matches(@"^Applied \d{14}_Initial$", applied[0]);
        Assert.All(applied, line => Assert.Matches(@"^Applied \d{14}_\w+$", line));
        Assert.Equal("The database is up to date.", again.Output.Trim());
    }

    [Fact]
    public async Task A_Token_Printed_By_The_Real_Process_Works_Over_Http()
    {
        await using var app = new PortalApplication(output: output);
        using var client = app.CreateClient();

        // The same binary an operator runs, on the app's data directory: `dotnet HarborPortal.dll admin create-token …`.
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in new[] { Path.Combine(AppContext.BaseDirectory, "HarborPortal.dll"), "admin", "create-token", "--user", "deploy-bot", "--role", "Viewer", "--expires-days", "7", "--name", "deploy" })
        {
            start.ArgumentList.Add(arg);
        }

        // The app's settings as an operator's environment: the data directory, and the database when it is PostgreSQL.
        foreach (var (key, value) in app.Settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        output.WriteLine($"exit {process.ExitCode}\nstderr:\n{await stderr}");

        Assert.Equal(0, process.ExitCode);
        var token = Assert.Single((await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        using var response = await ApiTokenTests.SendAsync(client, HttpMethod.Get, "/api/v1/me", token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var me = await response.Content.ReadFromJsonAsync<MeResponse>();
        Assert.Equal(("deploy-bot", "Viewer", "api-token"), (me!.UserName, Assert.Single(me.Roles), me.AuthMethod));
    }
}
