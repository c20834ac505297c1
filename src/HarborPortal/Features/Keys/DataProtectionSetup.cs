using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using HarborPortal.Data;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;

namespace HarborPortal.Features.Keys;

/// <summary>The <c>DataProtection</c> section: an optional certificate that encrypts the keys at rest.</summary>
public sealed class DataProtectionKeyOptions
{
    public const string SectionName = "DataProtection";

    /// <summary>A PFX file with an RSA certificate and its private key; every instance needs the same one.</summary>
    public string? CertificatePath { get; set; }

    public string? CertificatePassword { get; set; }
}

/// <summary>Where this instance keeps its keys and whether they are encrypted, for the start-up checks.</summary>
public sealed record DataProtectionKeyStorage(DatabaseProvider Provider, bool EncryptedWithCertificate);

public static partial class DataProtectionSetup
{
    // An arbitrary constant: the PostgreSQL advisory lock under which an instance builds its first key ring.
    private const long FirstKeyLock = 0x4861_7262_4B65_7973;

    /// <summary>
    /// Keys that protect cookies, antiforgery tokens, stored tickets and connection secrets. SQLite (one instance): the
    /// <c>keys</c> folder in the data directory, apart from the database file that holds the secrets they protect.
    /// PostgreSQL (several instances): the <c>DataProtectionKeys</c> table, so that every instance reads what another
    /// wrote. Either way optionally encrypted with <c>DataProtection:CertificatePath</c>; a certificate that cannot be
    /// loaded stops the start.
    /// </summary>
    public static WebApplicationBuilder AddPortalDataProtection(this WebApplicationBuilder builder, string dataDirectory)
    {
        var provider = DataServiceCollectionExtensions.ParseProvider(builder.Configuration[$"{DatabaseOptions.SectionName}:Provider"]);
        var options = builder.Configuration.GetSection(DataProtectionKeyOptions.SectionName).Get<DataProtectionKeyOptions>() ?? new();
        var certificate = LoadCertificate(options);

        var dataProtection = builder.Services.AddDataProtection().SetApplicationName("HarborPortal");
        if (provider == DatabaseProvider.Postgres)
        {
            builder.Services.AddSingleton<IConfigureOptions<KeyManagementOptions>>(services => new ConfigureOptions<KeyManagementOptions>(
                management => management.XmlRepository = new DatabaseXmlRepository(services.GetRequiredService<IDbContextFactory<PortalDbContext>>())));
        }
        else
        {
            dataProtection.PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(dataDirectory, "keys")));
        }

        if (certificate is not null)
        {
            // Also registers the certificate for decryption, so no certificate store is searched.
            dataProtection.ProtectKeysWithCertificate(certificate);
        }

        builder.Services.AddSingleton(new DataProtectionKeyStorage(provider, certificate is not null));
        return builder;
    }

    /// <summary>
    /// Before the server listens: every key must be readable (a key encrypted with a certificate this instance lacks would
    /// otherwise be skipped silently, and a new key made, leaving the stored secrets unreadable), and the key ring is
    /// built now. On PostgreSQL under an advisory lock: instances starting together on an empty table make one key, not one each.
    /// </summary>
    public static async Task PrepareDataProtectionKeysAsync(this WebApplication app)
    {
        var storage = app.Services.GetRequiredService<DataProtectionKeyStorage>();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(DataProtectionSetup).FullName!);
        if (storage.Provider != DatabaseProvider.Postgres)
        {
            CheckKeysAndBuildKeyRing(app.Services);
            return;
        }

        if (!storage.EncryptedWithCertificate)
        {
            Log.UnencryptedKeysInDatabase(logger);
        }

        await using var connection = await app.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync();
        await using (var command = new NpgsqlCommand("SELECT pg_advisory_lock(@key)", connection))
        {
            command.Parameters.AddWithValue("key", FirstKeyLock);
            await command.ExecuteNonQueryAsync();
        }

        try
        {
            CheckKeysAndBuildKeyRing(app.Services);
        }
        finally
        {
            await using var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock(@key)", connection);
            unlock.Parameters.AddWithValue("key", FirstKeyLock);
            await unlock.ExecuteNonQueryAsync();
        }
    }

    private static void CheckKeysAndBuildKeyRing(IServiceProvider services)
    {
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        foreach (var key in services.GetRequiredService<IKeyManager>().GetAllKeys().Where(k => !k.IsRevoked && k.ExpirationDate > now))
        {
            try
            {
                // Decrypts the key's secret (lazily loaded): fails here when it was encrypted with another certificate.
                _ = key.Descriptor;
            }
            catch (Exception exception) when (exception is CryptographicException or InvalidOperationException or FormatException)
            {
                throw new InvalidOperationException(
                    $"Data Protection key {key.KeyId:D} cannot be decrypted ({exception.Message}). The keys are encrypted with a certificate: "
                    + "give this instance the same PFX as the others in DataProtection:CertificatePath (and DataProtection:CertificatePassword).",
                    exception);
            }
        }

        // The first protect builds the key ring, making the first key when there is none.
        services.GetRequiredService<IDataProtectionProvider>().CreateProtector("HarborPortal.Keys.Startup").Protect([]);
    }

    private static X509Certificate2? LoadCertificate(DataProtectionKeyOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.CertificatePath))
        {
            return null;
        }

        var path = options.CertificatePath;
        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"DataProtection:CertificatePath '{path}' does not exist. Give the path of a PFX file (certificate with its private key), or remove the setting.");
        }

        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadPkcs12FromFile(path, options.CertificatePassword, X509KeyStorageFlags.EphemeralKeySet);
        }
        catch (CryptographicException exception)
        {
            // The message never carries the password, only that it (or the file) is wrong.
            throw new InvalidOperationException(
                $"DataProtection:CertificatePath '{path}' could not be read as a PFX with DataProtection:CertificatePassword: {exception.Message}", exception);
        }

        if (!certificate.HasPrivateKey || certificate.GetRSAPrivateKey() is null)
        {
            certificate.Dispose();
            throw new InvalidOperationException($"DataProtection:CertificatePath '{path}' holds no RSA private key: the keys are encrypted and decrypted with it.");
        }

        return certificate;
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Data Protection keys are stored unencrypted in the PostgreSQL database, beside the connection secrets they protect: a copy of the database reveals both. Set DataProtection:CertificatePath (a PFX) to encrypt them.")]
        public static partial void UnencryptedKeysInDatabase(ILogger logger);
    }
}
