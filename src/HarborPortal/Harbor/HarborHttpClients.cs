using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Net.Security;
using System.Reflection;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Options;

namespace HarborPortal.Harbor;

/// <summary>
/// One <see cref="HttpClient"/> per connection settings (URL, TLS trust, limits), kept for the life of the app so that
/// connections are pooled and the in-flight limit is shared by every caller of that connection.
/// </summary>
public sealed class HarborHttpClients(IOptions<HarborClientOptions> options, ILoggerFactory loggerFactory, TimeProvider time) : IDisposable
{
    private static readonly string UserAgent = "HarborPortal/" + (typeof(HarborHttpClients).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? typeof(HarborHttpClients).Assembly.GetName().Version?.ToString() ?? "0");

    private readonly ConcurrentDictionary<Key, Lazy<Entry>> _entries = new();

    internal Entry Get(HarborConnectionSettings settings)
    {
        // The secret is not part of the key: it travels per request, so a rotated secret reuses the same pool.
        var key = new Key(settings.BaseUrl.ToString(), settings.UserName, settings.CaCertificatePem, settings.MaxConcurrency, settings.Timeout);
        return _entries.GetOrAdd(key, k => new Lazy<Entry>(() => Create(k))).Value;
    }

    private Entry Create(Key key)
    {
        var validator = new HarborTlsValidator(LoadRoots(key.CaPem));
        var sockets = new SocketsHttpHandler
        {
            // Harbor's session cookie turns every later write into "403 CSRF token invalid" (§1.4).
            UseCookies = false,
            // A redirect (http → https) is reported, not followed: the Authorization header would be dropped anyway.
            AllowAutoRedirect = false,
            ConnectTimeout = key.Timeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = validator.Validate },
        };
        if (options.Value.AllowTarget is { } allowTarget)
        {
            sockets.ConnectCallback = (context, cancellationToken) => ConnectToAllowedAsync(context.DnsEndPoint, allowTarget, cancellationToken);
        }

        var resilience = new HarborResilienceHandler(options.Value, key.MaxConcurrency, key.Timeout, time, loggerFactory.CreateLogger<HarborResilienceHandler>())
        {
            InnerHandler = sockets,
        };
        var client = new HttpClient(resilience)
        {
            BaseAddress = new Uri(key.BaseUrl.TrimEnd('/') + "/"),
            // Timeouts are per attempt, in the resilience pipeline.
            Timeout = Timeout.InfiniteTimeSpan,
        };
        client.DefaultRequestHeaders.UserAgent.ParseAdd(UserAgent);
        client.DefaultRequestHeaders.Accept.ParseAdd("application/json");
        return new Entry(client, validator);
    }

    /// <summary>Resolves, keeps only the allowed addresses, and connects to those: the check and the use see the same address.</summary>
    private static async ValueTask<Stream> ConnectToAllowedAsync(DnsEndPoint endpoint, Func<IPAddress, bool> allowTarget, CancellationToken cancellationToken)
    {
        var addresses = IPAddress.TryParse(endpoint.Host, out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(endpoint.Host, cancellationToken);
        var allowed = addresses.Where(allowTarget).ToArray();
        if (allowed.Length == 0)
        {
            throw new HttpRequestException(HttpRequestError.ConnectionError,
                $"{endpoint.Host} resolves to no address that Connections:AllowedTargets allows.");
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, endpoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>A connection's private CA bundle as trust roots; null when it has none.</summary>
    internal static X509Certificate2Collection? LoadRoots(string? pem)
    {
        if (string.IsNullOrWhiteSpace(pem))
        {
            return null;
        }

        var roots = new X509Certificate2Collection();
        roots.ImportFromPem(pem);
        return roots.Count == 0 ? null : roots;
    }

    public void Dispose()
    {
        foreach (var entry in _entries.Values.Where(e => e.IsValueCreated))
        {
            entry.Value.Client.Dispose();
        }

        _entries.Clear();
    }

    private sealed record Key(string BaseUrl, string UserName, string? CaPem, int MaxConcurrency, TimeSpan Timeout);

    internal sealed record Entry(HttpClient Client, HarborTlsValidator Tls);
}

/// <summary>
/// Certificate validation that is never switched off: the system's roots, plus the connection's private CA as a custom
/// root. Remembers why the last handshake was refused so the failure can name the problem.
/// </summary>
internal sealed class HarborTlsValidator(X509Certificate2Collection? privateRoots)
{
    private volatile string? _lastFailure;

    public string? LastFailure => _lastFailure;

    public bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
        {
            _lastFailure = "Harbor presented no certificate.";
            return false;
        }

        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
        {
            _lastFailure = "the certificate is not issued for this host name (name mismatch); use the name the certificate was issued for.";
            return false;
        }

        if (privateRoots is null)
        {
            _lastFailure = Describe(chain, withPrivateCa: false);
            return false;
        }

        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(privateRoots);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain is not null)
        {
            foreach (var element in chain.ChainElements)
            {
                custom.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        if (custom.Build(leaf))
        {
            return true;
        }

        _lastFailure = Describe(custom, withPrivateCa: true);
        return false;
    }

    private static string Describe(X509Chain? chain, bool withPrivateCa)
    {
        var statuses = chain?.ChainStatus.Select(s => s.Status).Distinct().ToList() ?? [];
        if (statuses.Contains(X509ChainStatusFlags.NotTimeValid))
        {
            return "the certificate has expired or is not yet valid (NotTimeValid).";
        }

        if (statuses.Contains(X509ChainStatusFlags.UntrustedRoot) || statuses.Contains(X509ChainStatusFlags.PartialChain))
        {
            return withPrivateCa
                ? "the certificate is not signed by the uploaded CA (UntrustedRoot/PartialChain); upload the CA that issued Harbor's certificate."
                : "the certificate is signed by an unknown authority (UntrustedRoot: self-signed or a private CA); upload the CA certificate (PEM) for this connection.";
        }

        return statuses.Count == 0 ? "the certificate chain is invalid." : $"the certificate chain is invalid ({string.Join(", ", statuses)}).";
    }
}
