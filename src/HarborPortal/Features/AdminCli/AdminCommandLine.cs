using System.Globalization;
using HarborPortal.Data;
using HarborPortal.Features.Audit;
using HarborPortal.Features.Auth;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace HarborPortal.Features.AdminCli;

/// <summary>
/// The <c>admin …</c> commands of the same binary, for operators and automation: same configuration and database as
/// the web app, no web server. Results go to stdout (only the secret, for commands that make one), everything else
/// to stderr. Exit codes: 0 done, 1 failed, 2 invalid command line.
/// </summary>
public static class AdminCommandLine
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int InvalidUsage = 2;

    private const string AuditMethod = "cli";

    public const string Usage = """
        Usage: HarborPortal admin <command> [options]
               dotnet run --project src/HarborPortal -- admin <command> [options]

        Commands:
          create-token --user <name> [--role <role>]... --expires-days <1-3650> [--name <token name>]
              Creates an API token and prints only the token on stdout, once. A user name that no account
              has yet becomes an API-only account with the given roles (--role is then required); for an
              existing user the token carries that user's current roles.
          revoke-token --id <id> | --prefix <hp_…>
              Revokes a token by its id or its prefix (as list-tokens shows them).
          list-tokens [--user <name>]
              Lists API tokens: id, user, name, prefix, created, expires, last used, status.
          reset-local-admin [--password <password>]
              Sets the break-glass administrator's password and clears its lockout. Without --password a
              strong password is generated and printed on stdout (preferred: a password typed on the
              command line stays in the shell's history).
          migrate
              Applies pending database migrations and prints their names.
          copy-to-postgres [--from <data directory | .db file>] [--to <PostgreSQL connection string>] [--replace]
              Copies a SQLite installation (default: this data directory) into PostgreSQL (default:
              ConnectionStrings:Portal when Database:Provider is Postgres), migrating the target first, then
              compares every table's row count and checksum and keeps the copy only if all are equal. The
              target must have no portal rows; --replace deletes them first. Stop the portal before copying.
          help
              Shows this text.

        Roles: Admin, Security, Developer, Viewer.
        Exit codes: 0 done, 1 failed, 2 invalid command line.
        """;

    public static bool IsAdminCommand(string[] args) => args.Length > 0 && args[0] == "admin";

    /// <summary>In admin mode the console log goes to stderr, so that stdout carries only the command's result.</summary>
    public static WebApplicationBuilder AddAdminCommandLine(this WebApplicationBuilder builder)
    {
        if (IsAdminCommand(Environment.GetCommandLineArgs()[1..]))
        {
            builder.Services.Configure<ConsoleLoggerOptions>(options => options.LogToStandardErrorThreshold = LogLevel.Trace);
        }

        return builder;
    }

    public static async Task<int> RunAsync(WebApplication app, string[] args, TextWriter output, TextWriter error)
    {
        if (!IsAdminCommand(args) || args.Length < 2)
        {
            error.WriteLine(Usage);
            return InvalidUsage;
        }

        var command = args[1];
        if (command is "help" or "--help" or "-h")
        {
            output.WriteLine(Usage);
            return Ok;
        }

        Dictionary<string, string[]> allowed = new()
        {
            ["create-token"] = ["user", "role", "expires-days", "name"],
            ["revoke-token"] = ["id", "prefix"],
            ["list-tokens"] = ["user"],
            ["reset-local-admin"] = ["password"],
            ["migrate"] = [],
            ["copy-to-postgres"] = ["from", "to", "replace"],
        };
        if (!allowed.TryGetValue(command, out var names))
        {
            return UsageError(error, $"unknown command '{command}'.");
        }

        if (!CommandOptions.TryParse(args.AsSpan(2), names, out var options, out var problem))
        {
            return UsageError(error, problem);
        }

        if (command == "copy-to-postgres")
        {
            return await CopyToPostgresAsync(app, options, output, error);
        }

        await using var scope = app.Services.CreateAsyncScope();
        var services = scope.ServiceProvider;
        var db = services.GetRequiredService<PortalDbContext>();
        var context = new CommandContext(services, db, options, output, error);

        if (command == "migrate")
        {
            return await MigrateAsync(context);
        }

        await db.Database.MigrateAsync();
        return command switch
        {
            "create-token" => await CreateTokenAsync(context),
            "revoke-token" => await RevokeTokenAsync(context),
            "list-tokens" => await ListTokensAsync(context),
            _ => await ResetLocalAdminAsync(context),
        };
    }

    private static async Task<int> CreateTokenAsync(CommandContext c)
    {
        if (c.Options.Single("user") is not { Length: > 0 } userName)
        {
            return UsageError(c.Error, "create-token needs --user <name>.");
        }

        if (!int.TryParse(c.Options.Single("expires-days"), NumberStyles.None, CultureInfo.InvariantCulture, out var days)
            || ApiTokens.ValidateLifetime(days, ApiTokens.MaxDaysForOperators) is not null)
        {
            return UsageError(c.Error, $"create-token needs --expires-days between 1 and {ApiTokens.MaxDaysForOperators}.");
        }

        var name = c.Options.Single("name") ?? "cli";
        if (ApiTokens.ValidateName(name) is { } nameError)
        {
            return UsageError(c.Error, nameError);
        }

        var roles = new List<string>();
        foreach (var role in c.Options.All("role").SelectMany(r => r.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            if (PortalRoles.Normalize(role) is not { } known)
            {
                return UsageError(c.Error, $"unknown role '{role}'. Roles are {string.Join(", ", PortalRoles.All)}.");
            }

            if (!roles.Contains(known))
            {
                roles.Add(known);
            }
        }

        var audit = c.Services.GetRequiredService<AuditLog>();
        var time = c.Services.GetRequiredService<TimeProvider>();
        var accounts = await c.Db.UserAccounts.Where(u => u.UserName == userName).ToListAsync();
        if (accounts.Count > 1)
        {
            c.Error.WriteLine($"error: {accounts.Count} accounts are named '{userName}' (issuers: {string.Join(", ", accounts.Select(a => a.Issuer))}); cannot tell which one is meant.");
            return Failed;
        }

        var owner = accounts.SingleOrDefault();
        var roleList = string.Join(',', roles);
        if (owner is null)
        {
            if (roles.Count == 0)
            {
                return UsageError(c.Error, $"there is no user '{userName}': give --role to create an API-only account.");
            }

            owner = new UserAccount
            {
                Issuer = UserAccount.ApiIssuer,
                Subject = userName,
                UserName = userName,
                DisplayName = $"{userName} (API)",
                Roles = roleList,
                CreatedAt = time.GetUtcNow(),
            };
            c.Db.UserAccounts.Add(owner);
            await c.Db.SaveChangesAsync();
            await audit.WriteAsync("user.create", true, Actor, AuditMethod, userName, $"API-only account with roles {roleList}");
        }
        else if (roles.Count > 0 && !roles.Order().SequenceEqual(owner.RoleList.Order()))
        {
            if (owner.Issuer != UserAccount.ApiIssuer)
            {
                return UsageError(c.Error, $"'{userName}' signs in through {owner.Issuer}: their roles come from that sign-in. Omit --role.");
            }

            await audit.WriteAsync("user.roles", true, Actor, AuditMethod, userName, $"Roles {owner.Roles} → {roleList}");
            owner.Roles = roleList;
            await c.Db.SaveChangesAsync();
        }

        if (owner.RoleList.Count == 0)
        {
            c.Error.WriteLine($"warning: '{userName}' has no role yet, so the token will be refused everywhere until they have one.");
        }

        var created = await c.Services.GetRequiredService<ApiTokens>().CreateAsync(owner, name, days, Actor, AuditMethod, CancellationToken.None);
        c.Output.WriteLine(created.Value);
        c.Error.WriteLine($"Created token {created.Token.Id} '{created.Token.Name}' ({created.Token.Prefix}…) for {owner.UserName} [{owner.Roles}], expires {Format(created.Token.ExpiresAt)} UTC.");
        return Ok;
    }

    private static async Task<int> RevokeTokenAsync(CommandContext c)
    {
        var idText = c.Options.Single("id");
        var prefix = c.Options.Single("prefix");
        if ((idText is null) == (prefix is null))
        {
            return UsageError(c.Error, "revoke-token needs exactly one of --id <id> or --prefix <hp_…>.");
        }

        long id;
        if (idText is not null)
        {
            if (!long.TryParse(idText, NumberStyles.None, CultureInfo.InvariantCulture, out id))
            {
                return UsageError(c.Error, $"'{idText}' is not a token id.");
            }
        }
        else
        {
            if (prefix!.Length < ApiTokens.TokenPrefix.Length + 1)
            {
                return UsageError(c.Error, "give at least the first few characters after 'hp_' (list-tokens shows each token's prefix).");
            }

            // A whole token may be pasted: its first characters are its prefix.
            var wanted = prefix.Length > ApiTokens.DisplayPrefixLength ? prefix[..ApiTokens.DisplayPrefixLength] : prefix;
            var matches = await c.Db.ApiTokens.Where(t => t.RevokedAt == null && t.Prefix.StartsWith(wanted)).Select(t => t.Id).ToListAsync();
            if (matches.Count != 1)
            {
                c.Error.WriteLine(matches.Count == 0
                    ? $"error: no active token starts with '{wanted}'."
                    : $"error: {matches.Count} active tokens start with '{wanted}' (ids {string.Join(", ", matches)}); use --id.");
                return Failed;
            }

            id = matches[0];
        }

        var token = await c.Services.GetRequiredService<ApiTokens>().RevokeAsync(id, null, Actor, AuditMethod, CancellationToken.None);
        if (token is null)
        {
            c.Error.WriteLine($"error: there is no token {id}.");
            return Failed;
        }

        c.Output.WriteLine($"Revoked {ApiTokens.Describe(token, token.UserAccount?.UserName ?? "?")}.");
        return Ok;
    }

    private static async Task<int> ListTokensAsync(CommandContext c)
    {
        var query = c.Db.ApiTokens.AsNoTracking().Include(t => t.UserAccount).AsQueryable();
        if (c.Options.Single("user") is { } userName)
        {
            query = query.Where(t => t.UserAccount!.UserName == userName);
        }

        var tokens = await query.OrderBy(t => t.Id).ToListAsync();
        var now = c.Services.GetRequiredService<TimeProvider>().GetUtcNow();
        string[][] rows =
        [
            ["ID", "USER", "NAME", "PREFIX", "CREATED", "EXPIRES", "LAST USED", "STATUS"],
            .. tokens.Select(t => new[]
            {
                t.Id.ToString(CultureInfo.InvariantCulture), t.UserAccount?.UserName ?? "?", t.Name, t.Prefix,
                Format(t.CreatedAt), Format(t.ExpiresAt), t.LastUsedAt is { } used ? Format(used) : "never", ApiTokens.StatusOf(t, now),
            }),
        ];
        var widths = Enumerable.Range(0, rows[0].Length).Select(i => rows.Max(r => r[i].Length)).ToArray();
        foreach (var row in rows)
        {
            c.Output.WriteLine(string.Join("  ", row.Select((cell, i) => cell.PadRight(widths[i]))).TrimEnd());
        }

        await c.Services.GetRequiredService<AuditLog>().WriteAsync("apitoken.list", true, Actor, AuditMethod, details: $"{tokens.Count} tokens listed");
        return Ok;
    }

    private static async Task<int> ResetLocalAdminAsync(CommandContext c)
    {
        var given = c.Options.Single("password");
        if (given is { Length: < 12 })
        {
            return UsageError(c.Error, "--password must have at least 12 characters (or omit it to generate one).");
        }

        var localAdmin = c.Services.GetRequiredService<LocalAdmin>();
        var password = given ?? LocalAdmin.GeneratePassword();
        var userName = await localAdmin.ResetPasswordAsync(password, CancellationToken.None);
        await c.Services.GetRequiredService<AuditLog>().WriteAsync("localadmin.reset", true, Actor, AuditMethod, userName,
            given is null ? "New password generated and printed; lockout cleared" : "New password from --password; lockout cleared");

        if (given is null)
        {
            c.Output.WriteLine(password);
        }

        c.Error.WriteLine($"The local administrator '{userName}' has a new password and is no longer locked.");
        if (!string.IsNullOrEmpty(c.Services.GetRequiredService<IOptions<LocalAdminOptions>>().Value.Password))
        {
            c.Error.WriteLine("warning: LocalAdmin:Password is set in the configuration: at the next start it replaces this password.");
        }

        if (!c.Services.GetRequiredService<LocalAdminAvailability>().IsEnabled)
        {
            c.Error.WriteLine("warning: the local administrator is disabled (OIDC is configured, or LocalAdmin:Enabled is false): set LocalAdmin:Enabled=true to use it.");
        }

        return Ok;
    }

    private static async Task<int> MigrateAsync(CommandContext c)
    {
        var pending = (await c.Db.Database.GetPendingMigrationsAsync()).ToList();
        await c.Db.Database.MigrateAsync();
        foreach (var migration in pending)
        {
            c.Output.WriteLine($"Applied {migration}");
        }

        if (pending.Count == 0)
        {
            c.Output.WriteLine("The database is up to date.");
        }

        await c.Services.GetRequiredService<AuditLog>().WriteAsync("database.migrate", true, Actor, AuditMethod,
            details: pending.Count == 0 ? "Nothing to apply" : $"Applied {string.Join(", ", pending)}");
        return Ok;
    }

    private static async Task<int> CopyToPostgresAsync(WebApplication app, CommandOptions options, TextWriter output, TextWriter error)
    {
        var configuration = app.Configuration;
        var replace = options.Single("replace") switch
        {
            null or "false" => false,
            "true" => true,
            _ => (bool?)null,
        };
        if (replace is null)
        {
            return UsageError(error, "--replace takes true or false (--replace true deletes the target's portal rows before copying).");
        }

        var dataDirectory = (configuration.GetSection(PortalOptions.SectionName).Get<PortalOptions>() ?? new()).ResolveDataDirectory(app.Environment.ContentRootPath);
        var from = Path.GetFullPath(options.Single("from") ?? dataDirectory);
        var (sqliteFile, keysDirectory) = Directory.Exists(from)
            ? (Path.Combine(from, "harborportal.db"), Path.Combine(from, "keys"))
            : (from, Path.Combine(Path.GetDirectoryName(from) ?? ".", "keys"));

        var to = options.Single("to");
        if (to is null && DataServiceCollectionExtensions.ParseProvider(configuration[$"{DatabaseOptions.SectionName}:Provider"]) == DatabaseProvider.Postgres)
        {
            to = configuration.GetConnectionString("Portal");
        }

        if (string.IsNullOrWhiteSpace(to))
        {
            return UsageError(error, "copy-to-postgres needs --to <PostgreSQL connection string> (or Database:Provider=Postgres with ConnectionStrings:Portal).");
        }

        try
        {
            var builder = new Npgsql.NpgsqlConnectionStringBuilder(to);
            builder.ApplicationName ??= "HarborPortal copy-to-postgres";
            to = builder.ConnectionString;
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            // The message names the keyword at fault, never the value (it may be the password).
            return UsageError(error, $"--to is not a valid PostgreSQL connection string: {e.Message}");
        }

        var copy = new PostgresCopy(output, error);
        return await copy.RunAsync(new PostgresCopy.Request(sqliteFile, keysDirectory, to, replace.Value, Actor), CancellationToken.None);
    }

    // The operating-system account that ran the command: the CLI has no portal sign-in.
    private static string Actor => $"{Environment.UserName}@{Environment.MachineName}";

    private static string Format(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);

    private static int UsageError(TextWriter error, string message)
    {
        error.WriteLine($"error: {message}");
        error.WriteLine();
        error.WriteLine(Usage);
        return InvalidUsage;
    }

    private sealed record CommandContext(IServiceProvider Services, PortalDbContext Db, CommandOptions Options, TextWriter Output, TextWriter Error);

    /// <summary><c>--name value</c> or <c>--name=value</c>; a name may repeat (<c>--role</c>); anything else is refused.</summary>
    private sealed class CommandOptions(Dictionary<string, List<string>> values)
    {
        // Switches: given alone they mean true (`--replace`), so they never swallow the next argument.
        private static readonly HashSet<string> Flags = new(StringComparer.Ordinal) { "replace" };

        public IReadOnlyList<string> All(string name) => values.TryGetValue(name, out var list) ? list : [];

        /// <summary>The value of an option given at most once (the last one wins when repeated).</summary>
        public string? Single(string name) => values.TryGetValue(name, out var list) ? list[^1] : null;

        public static bool TryParse(ReadOnlySpan<string> args, string[] allowed, out CommandOptions options, out string problem)
        {
            var values = new Dictionary<string, List<string>>(StringComparer.Ordinal);
            options = new CommandOptions(values);
            problem = "";
            for (var i = 0; i < args.Length; i++)
            {
                var arg = args[i];
                if (!arg.StartsWith("--", StringComparison.Ordinal))
                {
                    problem = $"unexpected argument '{arg}'.";
                    return false;
                }

                var separator = arg.IndexOf('=', StringComparison.Ordinal);
                var name = separator < 0 ? arg[2..] : arg[2..separator];
                if (!allowed.Contains(name))
                {
                    problem = $"unknown option '--{name}'.";
                    return false;
                }

                string value;
                if (separator >= 0)
                {
                    value = arg[(separator + 1)..];
                }
                else if (Flags.Contains(name))
                {
                    value = "true";
                }
                else if (i + 1 < args.Length)
                {
                    value = args[++i];
                }
                else
                {
                    problem = $"option '--{name}' needs a value.";
                    return false;
                }

                if (!values.TryGetValue(name, out var list))
                {
                    values[name] = list = [];
                }

                list.Add(value);
            }

            return true;
        }
    }
}
