using HarborPortal.Harbor;
using ClientAuthKind = HarborPortal.Harbor.HarborAuthKind;

namespace HarborPortal.Features.Connections;

/// <summary>What the Harbor client needs to call a stored connection (verification and sync build it the same way).</summary>
public static class ConnectionSettings
{
    public static HarborConnectionSettings For(HarborConnection connection, string secret, TimeSpan timeout) => new()
    {
        BaseUrl = new Uri(connection.BaseUrl),
        AuthKind = connection.AuthKind == HarborAuthKind.User ? ClientAuthKind.User : ClientAuthKind.Robot,
        UserName = connection.UserName,
        Secret = secret,
        AllowInsecureHttp = connection.AllowInsecureHttp,
        CaCertificatePem = connection.CaCertificatePem,
        Timeout = timeout,
    };
}
