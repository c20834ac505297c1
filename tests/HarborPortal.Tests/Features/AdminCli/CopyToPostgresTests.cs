using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using HarborPortal.Data;
using HarborPortal.Features.AdminCli;
using HarborPortal.Features.Auth;
using HarborPortal.Features.Connections;
using HarborPortal.Features.Findings;
using HarborPortal.Features.Scanning;
using HarborPortal.Features.Schedules;
using HarborPortal.Features.ThreatData;
using HarborPortal.Features.Triage;
using HarborPortal.HarborSimulator;
using HarborPortal.Tests.Features.Auth;
using HarborPortal.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;
using Sim = HarborPortal.HarborSimulator.HarborSimulator;

namespace HarborPortal.Tests.Features.AdminCli;

// `admin copy-to-postgres`: a used SQLite installation moved into a fresh database of the shared PostgreSQL cluster,
// whatever PORTAL_TEST_DATABASE says (the source is SQLite by definition).
public sealed class CopyToPostgresTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly Dictionary<string, string?> OnSqlite = new() { ["Database:Provider"] = "Sqlite" };
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "harborportal-tests", Guid.NewGuid().ToString("n"));
    private readonly string _database = "copy_" + Guid.NewGuid().ToString("n")[..16];
    private string _target = "";

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_dataDirectory);
        _target = await PostgresCluster.Shared.CreateDatabaseAsync(_database);
    }

    public async Task DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        await PostgresCluster.Shared.DropDatabaseAsync(_database);
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task A_Used_Installation_Is_Copied_Row_For_Row_And_The_Portal_Runs_On_The_Copy()
    {
        await using var simulator = await Sim.StartAsync();
        long connectionId;
        long findingId;
        string vulnerability;
        CommandResult copy;
        await using (var sqliteApp = new PortalApplication(OnSqlite, output, dataDirectory: _dataDirectory))
        {
            (connectionId, findingId, vulnerability) = await SeedAsync(sqliteApp, simulator);
            copy = await sqliteApp.RunAdminCommandAsync("copy-to-postgres", "--from", _dataDirectory, "--to", _target);
        }

        Assert.Equal(0, copy.ExitCode);
        Assert.DoesNotContain("MISMATCH", copy.Output, StringComparison.Ordinal);
        Assert.Contains("FindingCounts against a recount of Findings: equal", copy.Output, StringComparison.Ordinal);

        // Independently of the command: every entity of every table, read through EF on each side, as the model sees it.
        SqliteConnection.ClearAllPools();
        await using var sqlite = new SqlitePortalDbContext(new DbContextOptionsBuilder<SqlitePortalDbContext>()
            .UseSqlite($"Data Source={Path.Combine(_dataDirectory, "harborportal.db")};Mode=ReadOnly").Options);
        await using var postgres = new PostgresPortalDbContext(new DbContextOptionsBuilder<PostgresPortalDbContext>().UseNpgsql(_target).Options);
        var before = await RowsByTableAsync(sqlite);
        var after = await RowsByTableAsync(postgres);
        var copyAudit = Assert.Single(after["AuditEvents"], r => r.Contains("Action=database.copy|", StringComparison.Ordinal));
        after["AuditEvents"].Remove(copyAudit);

        // The key ring moves from files into its table: the SQLite installation's key files, one row each.
        var keyFiles = Directory.GetFiles(Path.Combine(_dataDirectory, "keys"), "key-*.xml").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal).ToList();
        Assert.NotEmpty(keyFiles);
        Assert.Empty(before[PostgresCopy.KeysTable]);
        Assert.Equal(keyFiles, after[PostgresCopy.KeysTable].Select(row => row.Split('|').Single(p => p.StartsWith("FriendlyName=", StringComparison.Ordinal))["FriendlyName=".Length..]).Order(StringComparer.Ordinal));
        before.Remove(PostgresCopy.KeysTable);
        after.Remove(PostgresCopy.KeysTable);

        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        foreach (var (table, rows) in before)
        {
            Assert.Equal((table, rows.Count, Checksum(rows)), (table, after[table].Count, Checksum(after[table])));
            Assert.Equal(rows, after[table]);

            // The command's own table: this table's row count, on both sides, and equal checksums.
            var line = copy.Output.Split('\n').Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Single(cells => cells.Length == 6 && cells[0] == table);
            Assert.Equal([rows.Count.ToString(CultureInfo.InvariantCulture), rows.Count.ToString(CultureInfo.InvariantCulture)], line[1..3]);
            Assert.Equal(line[3], line[4]);
            Assert.Equal("ok", line[5]);
        }

        Assert.All(new[] { "Findings", "FindingEvents", "FindingCounts", "FindingTerms", "ScannedArtifacts", "SyncRuns", "AuditEvents" }, t => Assert.NotEmpty(before[t]));
        Assert.NotEmpty(before["TriageDecisions"]);
        Assert.NotEmpty(before["FindingComments"]);
        Assert.NotEmpty(before["UserSessions"]);
        Assert.NotEmpty(before["ApiTokens"]);
        Assert.NotEmpty(before["SyncSchedules"]);
        Assert.NotEmpty(before["KevEntries"]);

        // The derived counts equal a recount of the copied findings.
        var recount = (await postgres.Findings.AsNoTracking().ToListAsync())
            .GroupBy(f => (f.ConnectionId, f.ProjectName, f.SourceTool, f.Severity, f.Priority, f.Status, f.FixAvailable))
            .Select(g => (g.Key, Count: (long)g.Count())).OrderBy(g => g.ToString(), StringComparer.Ordinal).ToList();
        var counts = (await postgres.FindingCounts.AsNoTracking().Where(c => c.Count != 0).ToListAsync())
            .Select(c => ((c.ConnectionId, c.ProjectName, c.SourceTool, c.Severity, c.Priority, c.Status, c.FixAvailable), c.Count)).OrderBy(g => g.ToString(), StringComparer.Ordinal).ToList();
        Assert.Equal(recount, counts);

        // The copied tables were analyzed: the planner knows how many findings there are before autovacuum looks.
        var analyzed = await postgres.Database.SqlQueryRaw<long>(
            "SELECT coalesce(reltuples, -1)::bigint AS \"Value\" FROM pg_class WHERE relname = 'Findings' AND relkind = 'r'").SingleAsync();
        Assert.Equal(before["Findings"].Count, analyzed);

        // The portal on the copy, with the same data directory (its keys): the finding and its decision are there, and
        // the connection's stored secret still decrypts: a sync against the simulator succeeds and changes nothing.
        await using var postgresApp = new PortalApplication(
            new Dictionary<string, string?> { ["Database:Provider"] = "Postgres", ["ConnectionStrings:Portal"] = _target }, output, dataDirectory: _dataDirectory);
        using var browser = postgresApp.CreateClientWithCookies();
        await postgresApp.SignInAsAsync(browser, "sam", PortalRoles.Security);
        var page = await browser.GetAsync($"/findings/{findingId}");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains(vulnerability, html, StringComparison.Ordinal);
        Assert.Contains("Moved to PostgreSQL", html, StringComparison.Ordinal);

        var verification = await VerifyAsync(postgresApp, connectionId);
        Assert.True(verification.Ok, verification.Summary);
        await using var check = postgresApp.CreateDbContext();
        Assert.Equal(before["Findings"].Count, await check.Findings.CountAsync());
        // New rows continue after the copied ids (the identity sequences were moved on): the verification's audit line.
        var verifiedAudit = await check.AuditEvents.SingleAsync(a => a.Action == "connection.verify" && a.Target == "sim");
        Assert.True(verifiedAudit.Id > before["AuditEvents"].Count + 1);
    }

    [Fact]
    public async Task A_Target_With_Portal_Rows_Is_Refused_Unless_Replace_Is_Given()
    {
        await using var app = new PortalApplication(OnSqlite, output, dataDirectory: _dataDirectory);
        app.CreateClient().Dispose();
        await ApiTokenTests.CreateTokenAsync(app, "ci-bot", PortalRoles.Viewer);

        var first = await app.RunAdminCommandAsync("copy-to-postgres", "--to", _target);
        var again = await app.RunAdminCommandAsync("copy-to-postgres", "--to", _target);
        await ApiTokenTests.CreateTokenAsync(app, "ci-bot-2", PortalRoles.Viewer);
        var replaced = await app.RunAdminCommandAsync("copy-to-postgres", "--replace", "--to", _target);

        Assert.Equal(0, first.ExitCode);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("already has portal rows", again.Error, StringComparison.Ordinal);
        Assert.Contains("--replace", again.Error, StringComparison.Ordinal);
        Assert.Equal(0, replaced.ExitCode);
        await using var postgres = new PostgresPortalDbContext(new DbContextOptionsBuilder<PostgresPortalDbContext>().UseNpgsql(_target).Options);
        Assert.Equal(["ci-bot", "ci-bot-2"], await postgres.ApiTokens.OrderBy(t => t.Id).Select(t => t.UserAccount!.UserName).ToListAsync());
        // The refused run wrote nothing; each successful one left one audit line of its own.
        Assert.Single(await postgres.AuditEvents.Where(a => a.Action == "database.copy").ToListAsync());
    }

    [Fact]
    public async Task A_Source_That_Is_Not_Fully_Migrated_Is_Refused_With_The_Command_To_Run()
    {
        await using var app = new PortalApplication(OnSqlite, output, dataDirectory: _dataDirectory);
        var old = Path.Combine(_dataDirectory, "old.db");
        await using (var db = new SqlitePortalDbContext(new DbContextOptionsBuilder<SqlitePortalDbContext>().UseSqlite($"Data Source={old}").Options))
        {
            await db.Database.GetService<Microsoft.EntityFrameworkCore.Migrations.IMigrator>().MigrateAsync("20261122120000_Findings");
        }

        var result = await app.RunAdminCommandAsync("copy-to-postgres", "--from", old, "--to", _target);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("is not fully migrated", result.Error, StringComparison.Ordinal);
        Assert.Contains("admin migrate", result.Error, StringComparison.Ordinal);
        await using var postgres = new PostgresPortalDbContext(new DbContextOptionsBuilder<PostgresPortalDbContext>().UseNpgsql(_target).Options);
        Assert.Empty(await postgres.Database.GetAppliedMigrationsAsync());
    }

    [Fact]
    public async Task Bad_Or_Unreachable_Targets_And_Missing_Sources_Get_Clear_Errors()
    {
        await using var app = new PortalApplication(OnSqlite, output, dataDirectory: _dataDirectory);
        app.CreateClient().Dispose();
        var unreachable = $"Host=127.0.0.1;Port={FreePort.Next()};Database=portal;Username=portal;Password=s3cret-Passw0rd;Timeout=5";

        var noTarget = await app.RunAdminCommandAsync("copy-to-postgres");
        var malformed = await app.RunAdminCommandAsync("copy-to-postgres", "--to", "Host=127.0.0.1;Port=not-a-port;Password=s3cret-Passw0rd");
        var unknownKeyword = await app.RunAdminCommandAsync("copy-to-postgres", "--to", "Hostname=db;Password=s3cret-Passw0rd");
        var down = await app.RunAdminCommandAsync("copy-to-postgres", "--to", unreachable);
        var noSource = await app.RunAdminCommandAsync("copy-to-postgres", "--from", Path.Combine(_dataDirectory, "missing"), "--to", _target);

        Assert.Equal((2, 2, 2, 1, 1), (noTarget.ExitCode, malformed.ExitCode, unknownKeyword.ExitCode, down.ExitCode, noSource.ExitCode));
        Assert.Contains("copy-to-postgres needs --to", noTarget.Error, StringComparison.Ordinal);
        Assert.Contains("--to is not a valid PostgreSQL connection string", malformed.Error, StringComparison.Ordinal);
        Assert.Contains("--to is not a valid PostgreSQL connection string", unknownKeyword.Error, StringComparison.Ordinal);
        Assert.Contains("cannot prepare the PostgreSQL database 127.0.0.1:", down.Error, StringComparison.Ordinal);
        Assert.Contains("there is no SQLite database", noSource.Error, StringComparison.Ordinal);
        Assert.All(new[] { malformed, unknownKeyword, down }, r => Assert.DoesNotContain("s3cret-Passw0rd", r.Error + r.Output, StringComparison.Ordinal));
    }

    /// <summary>A sync from the simulator, a decision, a comment, an API token, a session, a schedule and threat data.</summary>
    private static async Task<(long ConnectionId, long FindingId, string Vulnerability)> SeedAsync(PortalApplication app, Sim simulator)
    {
        var connectionId = await SimulatorConnections.AddAsync(app.Services, simulator);
        await using (var db = app.CreateDbContext())
        {
            db.SyncSchedules.Add(new SyncSchedule { ConnectionId = connectionId, Kind = ScheduleKind.Daily, TimeOfDay = new TimeOnly(2, 30), UpdatedAt = DateTimeOffset.UtcNow, UpdatedBy = "sam" });
            db.KevEntries.Add(new KevEntry { CveId = "CVE-2024-0001", Name = "Known exploited", DateAdded = new DateOnly(2024, 1, 15), DueDate = new DateOnly(2024, 2, 5) });
            db.EpssScores.Add(new EpssScore { CveId = "CVE-2024-0001", Probability = 0.97531, Percentile = 0.999 });
            await db.SaveChangesAsync();
        }

        var run = await SyncAsync(app, connectionId);
        Assert.Equal(SyncRunStatus.Succeeded, run.Status);

        Finding finding;
        await using (var db = app.CreateDbContext())
        {
            finding = await db.Findings.OrderBy(f => f.Id).FirstAsync();
        }

        var token = await ApiTokenTests.CreateTokenAsync(app, "sam", PortalRoles.Security);
        using var client = app.CreateClient();
        using (var triaged = await ApiTokenTests.SendAsync(client, HttpMethod.Post, $"/api/v1/findings/{finding.Id}/triage", token,
            new { status = "RiskAccepted", justification = "Moved to PostgreSQL with its decision", expiresOn = DateOnly.FromDateTime(DateTime.UtcNow.AddDays(30)), scope = "Repository" }))
        {
            Assert.Equal(HttpStatusCode.OK, triaged.StatusCode);
        }

        using (var commented = await ApiTokenTests.SendAsync(client, HttpMethod.Post, $"/api/v1/findings/{finding.Id}/comments", token, new { text = "Tab\tand newline\nand ünïcode" }))
        {
            Assert.True(commented.IsSuccessStatusCode, $"comment: {commented.StatusCode}");
        }

        using var browser = app.CreateClientWithCookies();
        await app.SignInAsAsync(browser, "dana", PortalRoles.Viewer);
        (await browser.GetAsync("/findings")).Dispose();
        return (connectionId, finding.Id, finding.VulnerabilityId);
    }

    private static async Task<SyncRun> SyncAsync(PortalApplication app, long connectionId)
    {
        long runId;
        await using (var db = app.CreateDbContext())
        {
            var run = new SyncRun { ConnectionId = connectionId, Status = SyncRunStatus.Pending, RequestedAt = DateTimeOffset.UtcNow, Trigger = SyncTrigger.Manual };
            db.SyncRuns.Add(run);
            await db.SaveChangesAsync();
            runId = run.Id;
        }

        await using (var scope = app.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<SyncRunner>().RunAsync(connectionId, runId, CancellationToken.None);
        }

        await using var check = app.CreateDbContext();
        return await check.SyncRuns.AsNoTracking().SingleAsync(r => r.Id == runId);
    }

    /// <summary>A connectivity verification through the portal's runner: it needs the connection's decrypted secret.</summary>
    private static async Task<ConnectionVerification> VerifyAsync(PortalApplication app, long connectionId)
    {
        long runId;
        await using (var db = app.CreateDbContext())
        {
            var run = new ConnectionVerification { ConnectionId = connectionId, Trigger = "test", RequestedBy = "sam", Status = VerificationStatus.Pending, RequestedAt = DateTimeOffset.UtcNow };
            db.ConnectionVerifications.Add(run);
            await db.SaveChangesAsync();
            runId = run.Id;
        }

        await using (var scope = app.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<VerificationRunner>().RunAsync(runId, CancellationToken.None);
        }

        await using var check = app.CreateDbContext();
        return await check.ConnectionVerifications.AsNoTracking().SingleAsync(r => r.Id == runId);
    }

    /// <summary>Each table's rows as text, sorted: every mapped property (generated ones included) as the model reads it.</summary>
    private static async Task<Dictionary<string, List<string>>> RowsByTableAsync(PortalDbContext db)
    {
        var tables = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var set = typeof(DbContext).GetMethod(nameof(DbContext.Set), Type.EmptyTypes)!;
        foreach (var entityType in db.Model.GetEntityTypes().Where(e => e.GetTableName() is not null).OrderBy(e => e.Name, StringComparer.Ordinal))
        {
            var entities = await ((IQueryable<object>)set.MakeGenericMethod(entityType.ClrType).Invoke(db, null)!).ToListAsync();
            var rows = entities.Select(entity =>
            {
                var entry = db.Entry(entity);
                return string.Join("|", entityType.GetProperties().Select(p => $"{p.Name}={Text(entry.Property(p.Name).CurrentValue)}"));
            }).Order(StringComparer.Ordinal).ToList();
            tables[entityType.GetTableName()!] = rows;
        }

        return tables;
    }

    // PostgreSQL keeps instants to the microsecond, without their offset: that is what a moved date must still equal.
    private static string Text(object? value) => value switch
    {
        null => "null",
        DateTimeOffset at => (at.UtcTicks / 10).ToString(CultureInfo.InvariantCulture),
        double number => number.ToString("R", CultureInfo.InvariantCulture),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        byte[] bytes => Convert.ToHexString(bytes),
        _ => value.ToString() ?? "",
    };

    private static string Checksum(IEnumerable<string> rows) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', rows))));
}
