using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace HarborPortal.Tests.Features.Connections;

/// <summary>Self-signed CA certificates made on the fly, as PEM.</summary>
internal static class TestCertificates
{
    public static string CaPem(string commonName, DateTimeOffset notAfter, bool withPrivateKey = false)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var certificate = request.CreateSelfSigned(notAfter.AddYears(-1), notAfter);
        var pem = certificate.ExportCertificatePem();
        return withPrivateKey ? pem + "\n" + key.ExportPkcs8PrivateKeyPem() : pem;
    }
}
