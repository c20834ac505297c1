using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using HarborPortal.Tests.Infrastructure;

namespace HarborPortal.Tests.Deployment;

/// <summary>
/// A misspelt variable in the compose example is silently ignored by the portal (configuration has no schema), so the
/// names in <c>deploy/docker-compose.yml</c> and <c>deploy/.env.example</c> are checked against the keys the portal
/// reads: <c>appsettings.json</c> and the options classes (each with its <c>SectionName</c>). Read line by line, not as
/// YAML: the file keeps every environment entry on one <c>Name: value</c> line, which is what is matched.
/// </summary>
public sealed partial class ComposeConfigurationTests
{
    private static readonly string DeployDirectory = Path.Combine(RepositoryPaths.Root, "deploy");

    /// <summary>
    /// Keys of the PostgreSQL work (Data Protection keys in the database, protected by a certificate) that the compose
    /// example already uses. Accepted here until that work is merged; then they are real keys and this list can go.
    /// </summary>
    [Fact]
    public void Every_Portal_Setting_In_The_Compose_Example_Is_A_Key_The_Portal_Reads()
    {
        var names = PortalSettingNames(File.ReadAllLines(Path.Combine(DeployDirectory, "docker-compose.yml")), ComposeEnvironmentEntry())
            .Concat(PortalSettingNames(File.ReadAllLines(Path.Combine(DeployDirectory, ".env.example")), EnvFileEntry()))
            .ToList();

        Assert.Contains("Oidc__ClientSecret", names);
        Assert.Contains("ForwardedHeaders__KnownNetworks__0", names);
        Assert.Empty(UnknownKeys(names));
    }

    [Fact]
    public void A_Misspelt_Or_Made_Up_Key_Is_Caught()
    {
        var unknown = UnknownKeys(["Oidc__ClientSecrett", "Oidc__RoleMappings__platform_admins", "ForwardedHeaders__KnownNetworks__3", "Portal__InstanceColour", "Logging__LogLevel__HarborPortal"]);

        Assert.Equal(new[] { "Oidc__ClientSecrett", "Portal__InstanceColour" }, unknown);
    }

    [Fact]
    public void Every_Compose_Variable_Is_Listed_In_The_Env_Example_And_Every_Listed_One_Is_Used()
    {
        var compose = File.ReadAllText(Path.Combine(DeployDirectory, "docker-compose.yml"));
        var example = File.ReadAllLines(Path.Combine(DeployDirectory, ".env.example"));

        var used = ComposeVariable().Matches(compose).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        var listed = example.Select(line => EnvFileEntry().Match(line)).Where(m => m.Success && !m.Value.StartsWith('#'))
            .Select(m => m.Groups[1].Value).Where(IsComposeVariable).ToHashSet(StringComparer.Ordinal);

        Assert.Contains("POSTGRES_PASSWORD", used);
        Assert.Equal(used.Order(), listed.Order());
    }

    [Fact]
    public void The_Proxy_Sends_Requests_To_Exactly_The_Portal_Services_Of_The_Compose_File()
    {
        var services = ComposeService().Matches(File.ReadAllText(Path.Combine(DeployDirectory, "docker-compose.yml"))).Select(m => m.Groups[1].Value);
        var upstreams = NginxUpstream().Matches(File.ReadAllText(Path.Combine(DeployDirectory, "nginx", "nginx.conf"))).Select(m => m.Groups[1].Value);

        Assert.Equal(new[] { "portal-1", "portal-2" }, services.Order());
        Assert.Equal(services.Order(), upstreams.Order());
    }

    /// <summary>The names (as given, <c>Section__Key</c>) that are not configuration keys of the portal.</summary>
    public static List<string> UnknownKeys(IEnumerable<string> names)
    {
        var (keys, openSections) = KnownKeys();
        return names.Where(name =>
        {
            // Array indices (KnownNetworks__0) name the list itself.
            var key = string.Join(':', name.Split("__").Where(segment => !segment.All(char.IsAsciiDigit)));
            return !keys.Contains(key)
                && !openSections.Any(section => key.StartsWith(section + ":", StringComparison.OrdinalIgnoreCase));
        }).ToList();
    }

    /// <summary>Every key of appsettings.json and of the options classes; and the sections whose sub-keys are free (dictionaries, logging).</summary>
    private static (HashSet<string> Keys, List<string> OpenSections) KnownKeys()
    {
        var keys = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        // The logging section's categories are names of the caller's choosing.
        var openSections = new List<string> { "Logging" };

        using var appsettings = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepositoryPaths.Root, "appsettings.json")));
        AddJsonKeys(appsettings.RootElement, "", keys);

        foreach (var type in typeof(Program).Assembly.GetTypes())
        {
            if (type.GetField("SectionName", BindingFlags.Public | BindingFlags.Static) is not { IsLiteral: true } field || field.GetRawConstantValue() is not string section)
            {
                continue;
            }

            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.SetMethod is { IsPublic: true }))
            {
                var key = $"{section}:{property.Name}";
                keys.Add(key);
                if (property.PropertyType.IsGenericType && property.PropertyType.GetGenericTypeDefinition() == typeof(Dictionary<,>))
                {
                    openSections.Add(key);
                }
            }
        }

        return (keys, openSections);
    }

    private static void AddJsonKeys(JsonElement element, string path, HashSet<string> keys)
    {
        if (path.Length > 0)
        {
            keys.Add(path);
        }

        if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in element.EnumerateObject())
            {
                AddJsonKeys(property.Value, path.Length == 0 ? property.Name : $"{path}:{property.Name}", keys);
            }
        }
    }

    private static IEnumerable<string> PortalSettingNames(IEnumerable<string> lines, Regex entry) =>
        lines.Select(line => entry.Match(line)).Where(m => m.Success).Select(m => m.Groups[1].Value).Where(name => !IsComposeVariable(name));

    // Compose's own variables are upper case (POSTGRES_PASSWORD); the portal's keys are Pascal case (Oidc__ClientId, AllowedHosts).
    private static bool IsComposeVariable(string name) => !name.Any(char.IsAsciiLetterLower);

    // `    Oidc__ClientId: value` in an environment block: a key with at least one `__`.
    [GeneratedRegex(@"^\s+([A-Za-z][A-Za-z0-9_]*__[A-Za-z0-9_]+):")]
    private static partial Regex ComposeEnvironmentEntry();

    // `Name=value`, or commented out as an example (`# Name=value`).
    [GeneratedRegex(@"^#?\s*([A-Za-z][A-Za-z0-9_]*)=")]
    private static partial Regex EnvFileEntry();

    [GeneratedRegex(@"\$\{([A-Z][A-Z0-9_]*)")]
    private static partial Regex ComposeVariable();

    [GeneratedRegex(@"^  (portal-\d+):", RegexOptions.Multiline)]
    private static partial Regex ComposeService();

    [GeneratedRegex(@"^\s*server (portal-\d+):8080;", RegexOptions.Multiline)]
    private static partial Regex NginxUpstream();
}
