using System.Net;

namespace HarborPortal.Features.ThreatData;

/// <summary>Where a feed may be read from: https anywhere, plain http only on this machine (tests, a local mirror).</summary>
public static class ThreatFeedUrls
{
    /// <summary>Null when the URL can be used, else the message the admin sees.</summary>
    public static string? Validate(string? url)
    {
        if (string.IsNullOrWhiteSpace(url) || !Uri.TryCreate(url.Trim(), UriKind.Absolute, out var uri))
        {
            return "The feed URL must be an absolute URL such as https://www.cisa.gov/….";
        }

        if (url.Trim().Length > ThreatFeed.MaxUrlLength)
        {
            return $"The feed URL has at most {ThreatFeed.MaxUrlLength} characters.";
        }

        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            return "The feed URL must not carry a user name or password.";
        }

        return uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && IsLoopback(uri))
            ? null
            : "The feed URL must use https (plain http is allowed only for a loopback address).";
    }

    private static bool IsLoopback(Uri uri) =>
        uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));
}
