using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace HarborPortal.Features.Connections;

/// <summary>A certificate in a connection's private CA bundle, as the form shows it.</summary>
public sealed record CaCertificateSummary(string Subject, DateTimeOffset NotBefore, DateTimeOffset NotAfter, string Thumbprint);

/// <summary>Reads a private CA bundle (one or more PEM certificates) so that a bad upload is refused on save, not at sync time.</summary>
public static class CaCertificates
{
    public const int MaxPemLength = 64 * 1024;

    public static bool TryParse(string? pem, out IReadOnlyList<CaCertificateSummary> certificates, out string? error)
    {
        certificates = [];
        error = null;
        if (string.IsNullOrWhiteSpace(pem))
        {
            return true;
        }

        if (pem.Length > MaxPemLength)
        {
            error = $"The CA bundle is larger than {MaxPemLength / 1024} KB.";
            return false;
        }

        // A private key has no business in the portal's database: only the CA's public certificate is needed.
        if (pem.Contains("PRIVATE KEY-----", StringComparison.Ordinal))
        {
            error = "This contains a private key. Paste only the CA certificate (-----BEGIN CERTIFICATE-----), never its key.";
            return false;
        }

        if (!pem.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal))
        {
            error = "No PEM certificate found: paste the CA certificate as text starting with -----BEGIN CERTIFICATE-----.";
            return false;
        }

        var collection = new X509Certificate2Collection();
        try
        {
            // Bundles glued together without a line break between END and BEGIN are common; the PEM reader needs one.
            collection.ImportFromPem(pem.Replace("-----END CERTIFICATE----------BEGIN", "-----END CERTIFICATE-----\n-----BEGIN", StringComparison.Ordinal));
        }
        catch (CryptographicException)
        {
            error = "A certificate in the CA bundle could not be read: check that it was pasted whole, BEGIN and END lines included.";
            return false;
        }

        try
        {
            if (collection.Count == 0)
            {
                error = "No certificate could be read from the CA bundle.";
                return false;
            }

            certificates = [.. collection.Select(c => new CaCertificateSummary(
                c.Subject, new DateTimeOffset(c.NotBefore.ToUniversalTime(), TimeSpan.Zero), new DateTimeOffset(c.NotAfter.ToUniversalTime(), TimeSpan.Zero), c.Thumbprint))];
            return true;
        }
        finally
        {
            foreach (var certificate in collection)
            {
                certificate.Dispose();
            }
        }
    }

    /// <summary>The certificates of a bundle already saved (it was validated then); empty when it cannot be read any more.</summary>
    public static IReadOnlyList<CaCertificateSummary> Describe(string? pem) => TryParse(pem, out var certificates, out _) ? certificates : [];
}
