using HarborPortal.Features.Auth;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace HarborPortal.Tests.Features.Auth;

public sealed class OidcStartupCheckTests
{
    private const string Issuer = "https://authentik.example/application/o/harbor-portal/";

    [Fact]
    public void A_Provider_Signing_With_An_Rsa_Key_Raises_No_Warning()
    {
        Assert.Empty(OidcStartupCheck.Check(Discovery("RS256", withKey: true), Options()));
    }

    [Fact]
    public void Hs256_Only_Warns_That_Authentik_Has_No_Signing_Key()
    {
        var warning = Assert.Single(OidcStartupCheck.Check(Discovery("HS256", withKey: false), Options()));

        Assert.StartsWith("authentik has no signing key selected: tokens are HS256 with the client secret", warning, StringComparison.Ordinal);
    }

    [Fact]
    public void An_Empty_Jwks_Is_Reported()
    {
        var warning = Assert.Single(OidcStartupCheck.Check(Discovery("RS256", withKey: false), Options()));

        Assert.Contains("JWKS holds no signing key", warning, StringComparison.Ordinal);
    }

    [Fact]
    public void An_Authority_Without_The_Issuers_Trailing_Slash_Is_Reported()
    {
        var warning = Assert.Single(OidcStartupCheck.Check(Discovery("RS256", withKey: true), Options(Issuer.TrimEnd('/'))));

        Assert.Contains("differs from the issuer", warning, StringComparison.Ordinal);
    }

    [Fact]
    public void A_Short_Client_Secret_Is_Reported_For_Hs256()
    {
        var options = Options();
        options.ClientSecret = "short";

        Assert.Contains(OidcStartupCheck.Check(Discovery("HS256", withKey: false), options), w => w.Contains("at least 32 bytes", StringComparison.Ordinal));
    }

    private static OidcOptions Options(string authority = Issuer) =>
        new() { Authority = authority, ClientId = "harbor-portal", ClientSecret = new string('s', 64) };

    private static OpenIdConnectConfiguration Discovery(string algorithm, bool withKey)
    {
        var config = new OpenIdConnectConfiguration { Issuer = Issuer };
        config.IdTokenSigningAlgValuesSupported.Add(algorithm);
        if (withKey)
        {
            config.SigningKeys.Add(new RsaSecurityKey(System.Security.Cryptography.RSA.Create(2048)) { KeyId = "k1" });
        }

        return config;
    }
}
