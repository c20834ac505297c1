using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace HarborPortal.Data;

public static class DataServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="PortalDbContext"/> for the configured provider. The provider switch lives here and
    /// nowhere else; an unknown provider stops the app at start with a message naming the key.
    /// </summary>
    public static WebApplicationBuilder AddPortalDatabase(this WebApplicationBuilder builder)
    {
        var provider = builder.Configuration[$"{DatabaseOptions.SectionName}:Provider"] ?? "Sqlite";
        builder.Services.AddOptions<DatabaseOptions>().BindConfiguration(DatabaseOptions.SectionName);

        if (!string.Equals(provider, "Sqlite", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException(
                $"Database:Provider '{provider}' is not supported by this build. Use 'Sqlite' (PostgreSQL support is on the roadmap).");
        }

        var connectionString = SqliteConnectionString(builder.Configuration, builder.Environment.ContentRootPath);
        builder.Services.AddDbContextFactory<SqlitePortalDbContext>(options => options.UseSqlite(connectionString));
        builder.Services.AddScoped<PortalDbContext>(sp => sp.GetRequiredService<IDbContextFactory<SqlitePortalDbContext>>().CreateDbContext());
        builder.Services.AddSingleton<IDbContextFactory<PortalDbContext>, PortalDbContextFactory<SqlitePortalDbContext>>();
        builder.Services.AddSingleton(new PortalConnectionString(provider, connectionString));
        return builder;
    }

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

/// <summary>The resolved provider and connection string, shared with Quartz's store and the health check.</summary>
public sealed record PortalConnectionString(string Provider, string Value);
