using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace HarborPortal.Features.Connections;

/// <summary>
/// Turns what an admin pastes (often a URL copied from Harbor's UI) into the base URL the client needs, or says why it
/// cannot be a Harbor URL. Pure: no DNS, no I/O.
/// </summary>
public static partial class RegistryUrl
{
    public const int MaxLength = 2048;

    // The first path segment of Harbor's own UI and API routes: everything from there on is not part of the base URL.
    private static readonly HashSet<string> HarborPathRoots = new(StringComparer.OrdinalIgnoreCase)
    {
        "harbor", "api", "account", "c", "v2", "v1", "service", "devcenter-api-2.0", "chartrepo", "license", "sign-in",
    };

    public static bool TryNormalize(string? input, bool allowInsecureHttp, [NotNullWhen(true)] out string? url, [NotNullWhen(false)] out string? error)
    {
        url = null;
        var text = input?.Trim() ?? "";
        if (text.Length == 0)
        {
            error = "Enter the registry's URL, e.g. https://harbor.example.com.";
            return false;
        }

        if (text.Length > MaxLength)
        {
            error = $"The URL is longer than {MaxLength} characters.";
            return false;
        }

        if (text.Any(char.IsWhiteSpace))
        {
            error = "The URL contains a space or line break: paste just the address.";
            return false;
        }

        var scheme = SchemePattern().Match(text);
        if (scheme.Success)
        {
            var name = scheme.Groups["scheme"].Value.ToLowerInvariant();
            var hasSlashes = scheme.Groups["slashes"].Success;
            // "harbor.example.com:8443" looks like a scheme too: a port number after the colon means it is a host.
            var isHostAndPort = !hasSlashes && text.Length > scheme.Length && char.IsAsciiDigit(text[scheme.Length]);
            if (!isHostAndPort)
            {
                if (name is not ("http" or "https"))
                {
                    error = $"A Harbor is reached over https:// (or http://); \"{name}:\" cannot be a registry URL.";
                    return false;
                }

                if (!hasSlashes)
                {
                    error = $"Write the URL as {name}://host.";
                    return false;
                }
            }
            else
            {
                text = "https://" + text;
            }
        }
        else
        {
            // No scheme given: Harbor is served over HTTPS unless someone explicitly says otherwise.
            text = "https://" + text;
        }

        if (text.Contains('?', StringComparison.Ordinal) || text.Contains('#', StringComparison.Ordinal))
        {
            error = "Remove the query string or fragment (the part from ? or #): the registry URL is just the address.";
            return false;
        }

        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri))
        {
            error = "This is not a valid URL; it should look like https://harbor.example.com.";
            return false;
        }

        if (uri.UserInfo.Length > 0 || AuthorityOf(text).Contains('@', StringComparison.Ordinal))
        {
            error = "Remove the user name and password from the URL: put the credentials in the credential fields, where they are encrypted.";
            return false;
        }

        if (uri.Host.Length == 0)
        {
            error = "The URL has no host name.";
            return false;
        }

        if (uri.HostNameType is not (UriHostNameType.Dns or UriHostNameType.IPv4 or UriHostNameType.IPv6)
            || (uri.HostNameType == UriHostNameType.Dns && !uri.Host.Split('.').All(label => HostLabelPattern().IsMatch(label))))
        {
            error = $"\"{uri.Host}\" is not a host name or IP address.";
            return false;
        }

        if (uri.Scheme == Uri.UriSchemeHttp && !allowInsecureHttp)
        {
            error = "http:// sends the credentials unencrypted: use https://, or tick \"Allow HTTP (insecure)\" for a registry that only speaks HTTP.";
            return false;
        }

        url = uri.GetComponents(UriComponents.SchemeAndServer, UriFormat.UriEscaped).ToLowerInvariant() + BasePath(uri.AbsolutePath);
        error = null;
        return true;
    }

    /// <summary>The path before Harbor's own routes (a reverse proxy's prefix, if any), without a trailing slash.</summary>
    private static string BasePath(string path)
    {
        var kept = new List<string>();
        foreach (var segment in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (HarborPathRoots.Contains(segment))
            {
                break;
            }

            kept.Add(segment);
        }

        return kept.Count == 0 ? "" : "/" + string.Join('/', kept);
    }

    private static string AuthorityOf(string url)
    {
        var start = url.IndexOf("://", StringComparison.Ordinal) + 3;
        var end = url.IndexOf('/', start);
        return end < 0 ? url[start..] : url[start..end];
    }

    [GeneratedRegex(@"^(?<scheme>[A-Za-z][A-Za-z0-9+.\-]*):(?<slashes>//)?")]
    private static partial Regex SchemePattern();

    [GeneratedRegex(@"^[A-Za-z0-9]([A-Za-z0-9\-_]{0,61}[A-Za-z0-9])?$")]
    private static partial Regex HostLabelPattern();
}
