using System.Security.Cryptography;
using HarborPortal.Harbor;
using Microsoft.AspNetCore.DataProtection;

namespace HarborPortal.Features.Connections;

/// <summary>
/// The only place a connection's plain secret exists: encrypted with Data Protection (keys in the data directory) on the
/// way in, decrypted only for the Harbor client on the way out. Nothing else may read or log it.
/// </summary>
public sealed class ConnectionSecrets(IDataProtectionProvider protection)
{
    // Versioned purpose: a future change of format gets a new purpose instead of misreading old payloads.
    private readonly IDataProtector _protector = protection.CreateProtector("HarborPortal.Connections.Secret.v1");

    public string Protect(string secret) => _protector.Protect(secret);

    /// <summary>The plain secret, for the Harbor client's Authorization header only.</summary>
    public string Unprotect(HarborConnection connection) => _protector.Unprotect(connection.ProtectedSecret);

    /// <summary>
    /// What the Harbor client needs to call the connection, or null when its secret can no longer be decrypted (the
    /// Data Protection keys changed): each caller says so in its own words and asks for the secret to be rotated.
    /// </summary>
    public HarborConnectionSettings? SettingsFor(HarborConnection connection, TimeSpan timeout)
    {
        try
        {
            return ConnectionSettings.For(connection, Unprotect(connection), timeout);
        }
        catch (CryptographicException)
        {
            return null;
        }
    }
}
