using System.Net;
using System.Security.Claims;
using System.Text;
using HarborPortal.Data;
using HarborPortal.Features.Auth;
using HarborPortal.Tests.Infrastructure;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace HarborPortal.Tests.Features.Auth;

/// <summary>The session store on a real database migrated like the app's: a SQLite file, or a PostgreSQL database of its own.</summary>
public sealed class DatabaseTicketStoreTests : IAsyncLifetime
{
    private const string IdToken = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ0aGUtaWQtdG9rZW4ifQ.c2lnbmF0dXJl";

    private readonly string directory = Path.Combine(Path.GetTempPath(), "harborportal-tests", Guid.NewGuid().ToString("N"));
    private readonly ManualTime time = new(new DateTimeOffset(2026, 11, 23, 9, 0, 0, TimeSpan.Zero));
    private ContextFactory contexts = default!;
    private DatabaseTicketStore store = default!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(directory);
        contexts = TestDatabase.IsPostgres
            ? new ContextFactory(await PostgresCluster.Shared.CreateDatabaseAsync(PostgresCluster.DatabaseNameFor(directory)), postgres: true)
            : new ContextFactory($"Data Source={Path.Combine(directory, "sessions.db")}", postgres: false);
        await using (var db = contexts.CreateDbContext())
        {
            await db.Database.MigrateAsync();
        }

        store = new DatabaseTicketStore(
            contexts,
            new EphemeralDataProtectionProvider(),
            Options.Create(new PortalSessionOptions { IdleTimeout = TimeSpan.FromHours(8), AbsoluteLifetime = TimeSpan.FromDays(7) }),
            time,
            NullLogger<DatabaseTicketStore>.Instance);
    }

    public async Task DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        if (TestDatabase.IsPostgres)
        {
            await PostgresCluster.Shared.DropDatabaseAsync(PostgresCluster.DatabaseNameFor(directory));
        }

        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public async Task Store_Retrieve_Renew_And_Remove_Round_Trip()
    {
        var key = await store.StoreAsync(Ticket(), Browser(), default);

        var retrieved = await store.RetrieveAsync(key, Browser(), default);
        Assert.NotNull(retrieved);
        Assert.Equal("alice", retrieved.Principal.Identity!.Name);
        Assert.True(retrieved.Principal.IsInRole(PortalRoles.Security));
        Assert.Equal(IdToken, retrieved.Properties.GetTokenValue("id_token"));
        Assert.Equal(key, DatabaseTicketStore.SessionId(retrieved.Properties));

        time.Advance(TimeSpan.FromHours(5));
        retrieved.Properties.ExpiresUtc = time.GetUtcNow().AddHours(8);
        await store.RenewAsync(key, retrieved, Browser(), default);
        var session = await FindAsync(key);
        Assert.Equal(time.GetUtcNow().AddHours(8), session.ExpiresAt);
        Assert.Equal(time.GetUtcNow(), session.LastSeenAt);
        Assert.NotNull(await store.RetrieveAsync(key, Browser(), default));

        await store.RemoveAsync(key, Browser(), default);
        Assert.Null(await store.RetrieveAsync(key, Browser(), default));
        session = await FindAsync(key);
        Assert.Equal("signout", session.EndedReason);
        Assert.Equal(time.GetUtcNow(), session.EndedAt);
    }

    [Fact]
    public async Task Session_Row_Records_Who_How_And_From_Where()
    {
        var key = await store.StoreAsync(Ticket(), Browser(), default);

        var session = await FindAsync(key);
        Assert.Equal("oidc", session.Method);
        Assert.Equal("sid-42", session.ProviderSessionId);
        Assert.Equal("https://idp.example/application/o/portal/", session.Issuer);
        Assert.Equal("hashed-user", session.Subject);
        Assert.Equal("alice", session.UserName);
        Assert.Equal("203.0.113.7", session.IpAddress);
        Assert.Equal("TestBrowser/1.0", session.UserAgent);
        Assert.Equal(time.GetUtcNow(), session.CreatedAt);
        Assert.Equal(time.GetUtcNow().AddHours(8), session.ExpiresAt);
        Assert.Equal(time.GetUtcNow().AddDays(7), session.AbsoluteExpiresAt);
        Assert.Null(session.UserAccountId);
    }

    [Fact]
    public async Task Local_Sign_In_Is_Recorded_As_Local()
    {
        var key = await store.StoreAsync(Ticket(method: "local", sid: null), Browser(), default);

        Assert.Equal("local", (await FindAsync(key)).Method);
    }

    [Fact]
    public async Task Ended_Session_Retrieves_Null()
    {
        var key = await store.StoreAsync(Ticket(), Browser(), default);

        Assert.True(await store.EndAsync(key, "revoked", default));

        Assert.Null(await store.RetrieveAsync(key, Browser(), default));
        Assert.Equal("revoked", (await FindAsync(key)).EndedReason);
    }

    [Fact]
    public async Task Idle_Session_Retrieves_Null()
    {
        var key = await store.StoreAsync(Ticket(), Browser(), default);

        time.Advance(TimeSpan.FromHours(8) + TimeSpan.FromSeconds(1));

        Assert.Null(await store.RetrieveAsync(key, Browser(), default));
    }

    [Fact]
    public async Task Renewal_Never_Goes_Past_The_Absolute_Limit()
    {
        var key = await store.StoreAsync(Ticket(), Browser(), default);
        var ticket = (await store.RetrieveAsync(key, Browser(), default))!;

        time.Advance(TimeSpan.FromDays(7) - TimeSpan.FromHours(1));
        ticket.Properties.ExpiresUtc = time.GetUtcNow().AddHours(8);
        await store.RenewAsync(key, ticket, Browser(), default);

        Assert.Equal((await FindAsync(key)).AbsoluteExpiresAt, (await FindAsync(key)).ExpiresAt);
        time.Advance(TimeSpan.FromHours(1));
        Assert.Null(await store.RetrieveAsync(key, Browser(), default));
    }

    [Fact]
    public async Task Renewal_Does_Not_Revive_An_Ended_Session()
    {
        var key = await store.StoreAsync(Ticket(), Browser(), default);
        var ticket = (await store.RetrieveAsync(key, Browser(), default))!;
        await store.EndAsync(key, "backchannel", default);

        await store.RenewAsync(key, ticket, Browser(), default);

        Assert.Null(await store.RetrieveAsync(key, Browser(), default));
    }

    [Fact]
    public async Task Stored_Ticket_Is_Not_Readable_Plaintext()
    {
        var key = await store.StoreAsync(Ticket(), Browser(), default);

        var blob = (await FindAsync(key)).Ticket;
        var asText = Encoding.UTF8.GetString(blob);
        var asUtf16 = Encoding.Unicode.GetString(blob);
        Assert.DoesNotContain("eyJ", asText, StringComparison.Ordinal);
        Assert.DoesNotContain("alice", asText, StringComparison.Ordinal);
        Assert.DoesNotContain("eyJ", asUtf16, StringComparison.Ordinal);
        Assert.DoesNotContain("alice", asUtf16, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Provider_Logout_Ends_Every_Session_With_The_Sid_And_No_Other()
    {
        var first = await store.StoreAsync(Ticket(sid: "sid-1"), Browser(), default);
        var second = await store.StoreAsync(Ticket(sid: "sid-1"), Browser(), default);
        var other = await store.StoreAsync(Ticket(sid: "sid-2"), Browser(), default);

        var users = await store.EndProviderSessionsAsync("https://idp.example/application/o/portal/", "sid-1", "hashed-user", "backchannel", default);

        Assert.Equal(["alice"], users);
        Assert.Null(await store.RetrieveAsync(first, Browser(), default));
        Assert.Null(await store.RetrieveAsync(second, Browser(), default));
        Assert.NotNull(await store.RetrieveAsync(other, Browser(), default));
    }

    [Fact]
    public async Task Provider_Logout_Without_Sid_Ends_Every_Session_Of_The_Subject()
    {
        var first = await store.StoreAsync(Ticket(sid: "sid-1"), Browser(), default);
        var second = await store.StoreAsync(Ticket(sid: "sid-2"), Browser(), default);

        await store.EndProviderSessionsAsync("https://idp.example/application/o/portal/", null, "hashed-user", "backchannel", default);

        Assert.Null(await store.RetrieveAsync(first, Browser(), default));
        Assert.Null(await store.RetrieveAsync(second, Browser(), default));
    }

    [Fact]
    public async Task Provider_Logout_From_Another_Issuer_Ends_Nothing()
    {
        var key = await store.StoreAsync(Ticket(sid: "sid-1"), Browser(), default);

        await store.EndProviderSessionsAsync("https://elsewhere.example/", "sid-1", "hashed-user", "backchannel", default);

        Assert.NotNull(await store.RetrieveAsync(key, Browser(), default));
    }

    private AuthenticationTicket Ticket(string method = "oidc", string? sid = "sid-42")
    {
        var claims = new List<Claim>
        {
            new(PortalClaimTypes.Name, "alice"),
            new(PortalClaimTypes.Role, PortalRoles.Security),
            new(PortalClaimTypes.Issuer, "https://idp.example/application/o/portal/"),
            new(PortalClaimTypes.Subject, "hashed-user"),
            new(PortalClaimTypes.AuthMethod, method),
            new(PortalClaimTypes.UserId, "999"),
        };
        if (sid is not null)
        {
            claims.Add(new(PortalClaimTypes.ProviderSessionId, sid));
        }

        var properties = new AuthenticationProperties { IssuedUtc = time.GetUtcNow(), ExpiresUtc = time.GetUtcNow().AddHours(8) };
        properties.StoreTokens([new AuthenticationToken { Name = "id_token", Value = IdToken }]);
        return new AuthenticationTicket(
            new ClaimsPrincipal(new ClaimsIdentity(claims, method, PortalClaimTypes.Name, PortalClaimTypes.Role)), properties, PortalAuthentication.CookieScheme);
    }

    private static DefaultHttpContext Browser()
    {
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse("203.0.113.7");
        context.Request.Headers.UserAgent = "TestBrowser/1.0";
        return context;
    }

    private async Task<UserSession> FindAsync(string key)
    {
        await using var db = contexts.CreateDbContext();
        return await db.UserSessions.SingleAsync(s => s.Id == key);
    }

    private sealed class ContextFactory(string connectionString, bool postgres) : IDbContextFactory<PortalDbContext>
    {
        public PortalDbContext CreateDbContext() => postgres
            ? new PostgresPortalDbContext(new DbContextOptionsBuilder<PostgresPortalDbContext>().UseNpgsql(connectionString).Options)
            : new SqlitePortalDbContext(new DbContextOptionsBuilder<SqlitePortalDbContext>().UseSqlite(connectionString).Options);
    }

    /// <summary>A clock the test moves by hand.</summary>
    private sealed class ManualTime(DateTimeOffset start) : TimeProvider
    {
        private DateTimeOffset now = start;

        public override DateTimeOffset GetUtcNow() => now;

        public void Advance(TimeSpan by) => now += by;
    }
}
