using HarborPortal.Features.Auth;

namespace HarborPortal.Features.Demo;

/// <summary>The <c>Demo</c> section: set by the <c>--demo</c> switch (see <see cref="DemoMode.ReadSwitch"/>).</summary>
public sealed class DemoOptions
{
    public const string SectionName = "Demo";

    public bool Enabled { get; set; }

    /// <summary>The explicit opt-in that lets <c>--demo</c> start in the Production environment.</summary>
    public bool AllowProduction { get; set; }
}

/// <summary>Why <c>--demo</c> would not start; the message says what to change.</summary>
public sealed class DemoModeRefusedException(string message) : InvalidOperationException(message);

/// <summary>
/// <c>--demo</c>: the portal with the Harbor simulator registered as a connection and a first sync requested, in a data
/// directory of its own (<c>demo</c> under the configured one) so that demo rows never mix with a real installation.
/// It refuses another database provider, and the Production environment unless <c>Demo:AllowProduction</c> says so:
/// a demo prints an administrator password and registers a Harbor whose robot secret is public.
/// </summary>
public static class DemoMode
{
    public const string Switch = "--demo";

    /// <summary>The environment <c>--demo</c> runs in when none was named: not Production, and not Development either (no developer pages).</summary>
    public const string EnvironmentName = "Demo";

    /// <summary>
    /// Turns the bare <c>--demo</c> switch into configuration (<c>Demo:Enabled=true</c>): left as it is, the command-line
    /// provider would take the next argument as its value. With no environment named anywhere, the demo runs in the
    /// <see cref="EnvironmentName"/> environment rather than the Production default of a plain <c>dotnet run</c>.
    /// </summary>
    public static string[] ReadSwitch(string[] args, Func<string, string?>? environmentVariable = null)
    {
        if (!args.Contains(Switch, StringComparer.OrdinalIgnoreCase))
        {
            return args;
        }

        environmentVariable ??= Environment.GetEnvironmentVariable;
        var environmentNamed = environmentVariable("ASPNETCORE_ENVIRONMENT") is { Length: > 0 } || environmentVariable("DOTNET_ENVIRONMENT") is { Length: > 0 }
            || args.Any(a => a.StartsWith("--environment", StringComparison.OrdinalIgnoreCase));
        string[] rest = [.. args.Where(a => !string.Equals(a, Switch, StringComparison.OrdinalIgnoreCase)), $"--{DemoOptions.SectionName}:Enabled=true"];
        return environmentNamed ? rest : [.. rest, $"--environment={EnvironmentName}"];
    }

    /// <summary>
    /// When <c>Demo:Enabled</c>: refuses what the demo must not run on, points the data directory and database at the demo's
    /// own, gives the break-glass admin a fresh password to print (unless one is configured), and starts the simulator
    /// once the portal runs. Must come before anything reads the data directory.
    /// </summary>
    public static WebApplicationBuilder AddDemoMode(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var options = configuration.GetSection(DemoOptions.SectionName).Get<DemoOptions>() ?? new DemoOptions();
        if (!options.Enabled)
        {
            return builder;
        }

        if (Refusal(configuration["Database:Provider"], builder.Environment.EnvironmentName, options.AllowProduction) is { } refusal)
        {
            throw new DemoModeRefusedException(refusal);
        }

        var portal = configuration.GetSection(PortalOptions.SectionName).Get<PortalOptions>() ?? new PortalOptions();
        var overrides = new Dictionary<string, string?>
        {
            [$"{PortalOptions.SectionName}:DataDirectory"] = Path.Combine(portal.ResolveDataDirectory(builder.Environment.ContentRootPath), "demo"),
            // Empty means "harborportal.db in the data directory": a configured database must not receive demo rows.
            ["ConnectionStrings:Portal"] = "",
        };
        string? generatedPassword = null;
        if (string.IsNullOrEmpty(configuration[$"{LocalAdminOptions.SectionName}:Password"]))
        {
            generatedPassword = LocalAdmin.GeneratePassword();
            overrides[$"{LocalAdminOptions.SectionName}:Password"] = generatedPassword;
        }

        configuration.AddInMemoryCollection(overrides);
        builder.Services.AddSingleton(new DemoSignIn(generatedPassword));
        builder.Services.AddHostedService<DemoHarbor>();
        return builder;
    }

    /// <summary>Why the demo must not start with these settings, or null when it may.</summary>
    public static string? Refusal(string? databaseProvider, string environmentName, bool allowProduction)
    {
        if (!string.IsNullOrEmpty(databaseProvider) && !string.Equals(databaseProvider, "Sqlite", StringComparison.OrdinalIgnoreCase))
        {
            return $"--demo runs on a SQLite database of its own, but Database:Provider is '{databaseProvider}'. Remove that setting (or set it to Sqlite) to try the demo; it never touches your configured database.";
        }

        if (string.Equals(environmentName, Environments.Production, StringComparison.OrdinalIgnoreCase) && !allowProduction)
        {
            return "--demo refuses to start in the Production environment: it registers a simulated Harbor whose robot secret is public and prints an administrator password. "
                + "Run it without naming an environment (it then runs as 'Demo'), or set Demo__AllowProduction=true if you really mean to.";
        }

        return null;
    }
}

/// <summary>The break-glass admin's password set by the demo (null when <c>LocalAdmin:Password</c> was configured: never echoed).</summary>
public sealed record DemoSignIn(string? GeneratedPassword);
