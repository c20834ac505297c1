using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace HarborPortal.Data;

public static class DataServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="PortalDbContext"/> for the configured provider. The provider switch lives here and
    /// nowhere else; an unknown provider, or PostgreSQL without a connection string, stops the app at start with a
    /// message naming the key.
    /// </summary>
    public static WebApplicationBuilder AddPortalDatabase(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<DatabaseOptions>().BindConfiguration(DatabaseOptions.SectionName);
        var database = ResolveConnectionString(builder.Configuration, builder.Environment.ContentRootPath);
        builder.Services.AddSingleton(database);
        builder.Services.AddSingleton(SqlDialect.For(database.Provider));

        if (database.Provider == DatabaseProvider.Postgres)
        {
            // One data source per host: it owns the connection pool (closed when the host is disposed) and the type mappings.
            builder.Services.AddSingleton(_ => new NpgsqlDataSourceBuilder(database.Value).Build());
            builder.Services.AddDbContextFactory<PostgresPortalDbContext>((sp, options) => options.UseNpgsql(sp.GetRequiredService<NpgsqlDataSource>()));
            AddPortalContext<PostgresPortalDbContext>(builder.Services);
        }
        else
        {
            builder.Services.AddDbContextFactory<SqlitePortalDbContext>(options => options.UseSqlite(database.Value));
            AddPortalContext<SqlitePortalDbContext>(builder.Services);
        }

        return builder;
    }

    private static void AddPortalContext<TContext>(IServiceCollection services)
        where TContext : PortalDbContext
    {
        services.AddScoped<PortalDbContext>(sp => sp.GetRequiredService<IDbContextFactory<TContext>>().CreateDbContext());
        services.AddSingleton<IDbContextFactory<PortalDbContext>, PortalDbContextFactory<TContext>>();
    }

    /// <summary>The configured provider and its connection string (for SQLite: resolved against the data directory).</summary>
    public static PortalConnectionString ResolveConnectionString(IConfiguration configuration, string contentRoot)
    {
        var configured = configuration[$"{DatabaseOptions.SectionName}:Provider"];
        var provider = ParseProvider(configured);
        if (provider == DatabaseProvider.Postgres)
        {
            var value = configuration.GetConnectionString("Portal");
            if (string.IsNullOrWhiteSpace(value))
            {
                throw new InvalidOperationException(
                    "Database:Provider is 'Postgres' but ConnectionStrings:Portal is empty. Set it (environment variable ConnectionStrings__Portal), "
                    + "e.g. 'Host=postgres;Port=5432;Database=harborportal;Username=harborportal;Password=…'.");
            }

            NpgsqlConnectionStringBuilder csb;
            try
            {
                csb = new NpgsqlConnectionStringBuilder(value);
            }
            catch (ArgumentException e)
            {
                // The message names the keyword at fault, never the value (it may be the password).
                throw new InvalidOperationException($"ConnectionStrings:Portal is not a valid PostgreSQL connection string: {e.Message}", e);
            }

            csb.ApplicationName ??= "HarborPortal";
            return new PortalConnectionString(DatabaseProvider.Postgres, csb.ConnectionString);
        }

        return new PortalConnectionString(DatabaseProvider.Sqlite, SqliteConnectionString(configuration, contentRoot));
    }

    /// <summary><c>Sqlite</c> (the default when unset) or <c>Postgres</c> (also <c>PostgreSQL</c>, <c>Npgsql</c>), any case.</summary>
    public static DatabaseProvider ParseProvider(string? configured) => configured?.Trim().ToLowerInvariant() switch
    {
        null or "" or "sqlite" => DatabaseProvider.Sqlite,
        "postgres" or "postgresql" or "npgsql" => DatabaseProvider.Postgres,
        _ => throw new InvalidOperationException($"Database:Provider '{configured}' is not supported. Use 'Sqlite' (the default) or 'Postgres'."),
    };

    /// <summary>
    /// <c>ConnectionStrings:Portal</c>, or <c>harborportal.db</c> in the data directory (created when missing).
    /// </summary>
    public static string SqliteConnectionString(IConfiguration configuration, string contentRoot)
    {
        var configured = configuration.GetConnectionString("Portal");
        var portal = configuration.GetSection(PortalOptions.SectionName).Get<PortalOptions>() ?? new PortalOptions();
        var dataDirectory = portal.ResolveDataDirectory(contentRoot);
        Directory.CreateDirectory(dataDirectory);

        var csb = new SqliteConnectionStringBuilder(configured ?? "");
        if (string.IsNullOrEmpty(configured))
        {
            csb.DataSource = Path.Combine(dataDirectory, "harborportal.db");
        }
        else if (!Path.IsPathRooted(csb.DataSource) && csb.DataSource != ":memory:")
        {
            csb.DataSource = Path.Combine(dataDirectory, csb.DataSource);
        }

        // A busy timeout lets the web requests and Quartz share one file without "database is locked".
        csb.DefaultTimeout = 30;
        csb.Pooling = true;
        return csb.ToString();
    }

    private sealed class PortalDbContextFactory<TContext>(IDbContextFactory<TContext> inner) : IDbContextFactory<PortalDbContext>
        where TContext : PortalDbContext
    {
        public PortalDbContext CreateDbContext() => inner.CreateDbContext();
    }
}

public enum DatabaseProvider
{
    Sqlite,
    Postgres,
}

/// <summary>The resolved provider and connection string, shared with Quartz's store and the health check.</summary>
public sealed record PortalConnectionString(DatabaseProvider Provider, string Value);
