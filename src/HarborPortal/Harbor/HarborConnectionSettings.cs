using System.Text;

namespace HarborPortal.Harbor;

/// <summary>How a connection signs in: a robot account (<c>robot$name</c>, <c>robot$project+name</c>) or a Harbor user.</summary>
public enum HarborAuthKind
{
    Robot,
    User,
}

/// <summary>
/// One Harbor connection as the client needs it. Connections are database rows, so every <see cref="HarborClient"/> call takes one.
/// <see cref="Secret"/> is held in memory only and never printed: <see cref="ToString"/> leaves it out.
/// </summary>
public sealed record HarborConnectionSettings
{
    /// <summary>Harbor's root URL (<c>https://harbor.example.com</c>); the client adds <c>/api/v2.0</c>.</summary>
    public required Uri BaseUrl { get; init; }

    public HarborAuthKind AuthKind { get; init; } = HarborAuthKind.Robot;

    /// <summary>The full login name; for robots including the prefix (the client never assembles it).</summary>
    public required string UserName { get; init; }

    public required string Secret { get; init; }

    /// <summary>Allow a plain <c>http://</c> URL; without it such a URL is refused before anything is sent.</summary>
    public bool AllowInsecureHttp { get; init; }

    /// <summary>PEM of the private CA(s) that signed Harbor's certificate; used in addition to the system's trusted roots.</summary>
    public string? CaCertificatePem { get; init; }

    /// <summary>At most this many requests in flight to this Harbor at once.</summary>
    public int MaxConcurrency { get; init; } = 8;

    /// <summary>Per-attempt timeout of one request.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    // Records print every property; the secret must never reach a log line or an exception message.
    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append("BaseUrl = ").Append(BaseUrl)
            .Append(", AuthKind = ").Append(AuthKind)
            .Append(", UserName = ").Append(UserName)
            .Append(", AllowInsecureHttp = ").Append(AllowInsecureHttp)
            .Append(", CaCertificatePem = ").Append(CaCertificatePem is null ? "none" : "set")
            .Append(", MaxConcurrency = ").Append(MaxConcurrency)
            .Append(", Timeout = ").Append(Timeout);
        return true;
    }
}

/// <summary>Client-wide settings (not per connection): how hard to retry.</summary>
public sealed class HarborClientOptions
{
    /// <summary>Attempts per request, the first included.</summary>
    public int MaxAttempts { get; set; } = 3;

    /// <summary>First retry delay; doubles per attempt, with jitter.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The longest wait between attempts, also for a <c>Retry-After</c> Harbor sends.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Which addresses a connection may reach, checked on every new TCP connection (after DNS, so a host name
    /// later pointed elsewhere is still caught); null allows any.
    /// </summary>
    public Func<System.Net.IPAddress, bool>? AllowTarget { get; set; }
}
