using HarborPortal.Features.Connections;

namespace HarborPortal.Tests.Features.Connections;

public sealed class CaCertificatesTests
{
    [Fact]
    public void A_Bundle_Of_Two_Certificates_Is_Read_With_Subject_And_Expiry()
    {
        var expiry = new DateTimeOffset(2031, 5, 6, 0, 0, 0, TimeSpan.Zero);
        var pem = TestCertificates.CaPem("Example Root CA", expiry) + "\n" + TestCertificates.CaPem("Example Issuing CA", expiry.AddYears(1));

        Assert.True(CaCertificates.TryParse(pem, out var certificates, out var error), error);

        Assert.Collection(certificates,
            c => { Assert.Equal("CN=Example Root CA", c.Subject); Assert.Equal(expiry, c.NotAfter); },
            c => Assert.Equal("CN=Example Issuing CA", c.Subject));
    }

    [Fact]
    public void No_Bundle_Is_Fine() => Assert.True(CaCertificates.TryParse("  ", out var certificates, out _) && certificates.Count == 0);

    [Theory]
    [InlineData("not a certificate")]
    [InlineData("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----")]
    public void Text_That_Is_Not_A_Certificate_Is_Refused(string pem) => Assert.False(CaCertificates.TryParse(pem, out _, out _));

    [Fact]
    public void A_Private_Key_Is_Refused()
    {
        var pem = TestCertificates.CaPem("Example Root CA", DateTimeOffset.UtcNow.AddYears(1), withPrivateKey: true);

        Assert.False(CaCertificates.TryParse(pem, out _, out var error));
        Assert.Contains("private key", error, StringComparison.Ordinal);
    }
}
