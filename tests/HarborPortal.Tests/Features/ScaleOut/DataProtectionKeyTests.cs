using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using HarborPortal.Features.Connections;
using HarborPortal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace HarborPortal.Tests.Features.ScaleOut;

/// <summary>
/// Where the Data Protection keys live (the data directory on SQLite, the shared database on PostgreSQL) and their
/// optional certificate: encrypted at rest, unreadable without it, and a certificate that cannot be loaded stops the start.
/// </summary>
public sealed class DataProtectionKeyTests(ITestOutputHelper output) : IDisposable
{
    private const string CertificatePassword = "pfx-Passw0rd";

    private readonly string _folder = Directory.CreateTempSubdirectory("harborportal-keys-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task Keys_Live_In_The_Data_Directory_On_Sqlite_And_In_The_Database_On_Postgres()
    {
        await using var app = new PortalApplication(output: output);
        _ = app.Services;

        await using var db = app.CreateDbContext();
        var keyFolder = Path.Combine(app.DataDirectory, "keys");
        if (TestDatabase.IsPostgres)
        {
            Assert.Single(await db.DataProtectionKeys.ToListAsync());
            Assert.False(Directory.Exists(keyFolder) && Directory.EnumerateFiles(keyFolder).Any());
            Assert.Contains(app.Logs, l => l.Level == LogLevel.Warning && IsUnencryptedKeysWarning(l));
        }
        else
        {
            // One instance: the keys stay apart from the database file that holds the secrets they protect.
            Assert.Single(Directory.GetFiles(keyFolder, "key-*.xml"));
            Assert.Empty(await db.DataProtectionKeys.ToListAsync());
            Assert.DoesNotContain(app.Logs, IsUnencryptedKeysWarning);
        }
    }

    [Fact]
    public async Task With_A_Certificate_The_Shared_Keys_Are_Encrypted_And_Read_By_Every_Instance_That_Has_It()
    {
        var certificate = WriteCertificate("keys.pfx");
        var database = "hp_keys_" + Guid.NewGuid().ToString("n")[..16];
        var settings = await TwoInstances.SettingsForAsync(database, new Dictionary<string, string?>
        {
            ["DataProtection:CertificatePath"] = certificate,
            ["DataProtection:CertificatePassword"] = CertificatePassword,
        });
        try
        {
            string protectedSecret;
            await using (var a = new PortalApplication(settings, output))
            {
                protectedSecret = a.Services.GetRequiredService<ConnectionSecrets>().Protect("robot-S3cret");
                Assert.DoesNotContain(a.Logs, IsUnencryptedKeysWarning);

                await using var db = a.CreateDbContext();
                var key = Assert.Single(await db.DataProtectionKeys.ToListAsync());
                Assert.DoesNotContain("<masterKey", key.Xml, StringComparison.Ordinal);
                Assert.Contains("EncryptedData", key.Xml, StringComparison.Ordinal);
            }

            await using (var b = new PortalApplication(settings, output))
            {
                Assert.Equal("robot-S3cret", b.Services.GetRequiredService<ConnectionSecrets>().Unprotect(new HarborConnection { Name = "sim", BaseUrl = "https://harbor.example.com", UserName = "robot$portal", ProtectedSecret = protectedSecret }));
            }

            // An instance without the certificate would skip the keys and make a new one, losing every secret: it refuses to start.
            var withoutCertificate = new Dictionary<string, string?>(settings);
            withoutCertificate.Remove("DataProtection:CertificatePath");
            withoutCertificate.Remove("DataProtection:CertificatePassword");
            var failure = await StartFailureAsync(withoutCertificate);
            Assert.Contains("cannot be decrypted", failure, StringComparison.Ordinal);
            Assert.Contains("DataProtection:CertificatePath", failure, StringComparison.Ordinal);

            await using var check = new NpgsqlProbe(settings["ConnectionStrings:Portal"]!);
            Assert.Equal(1L, await check.CountKeysAsync());
        }
        finally
        {
            await PostgresCluster.Shared.DropDatabaseAsync(database);
        }
    }

    [Fact]
    public async Task A_Missing_Certificate_File_Stops_The_Start_Naming_The_Setting()
    {
        var failure = await StartFailureAsync(new Dictionary<string, string?> { ["DataProtection:CertificatePath"] = Path.Combine(_folder, "missing.pfx") });

        Assert.Contains("DataProtection:CertificatePath", failure, StringComparison.Ordinal);
        Assert.Contains("does not exist", failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_Wrong_Password_Or_A_File_That_Is_No_Pfx_Stops_The_Start_Without_Echoing_The_Password()
    {
        var certificate = WriteCertificate("keys.pfx");
        var wrongPassword = await StartFailureAsync(new Dictionary<string, string?>
        {
            ["DataProtection:CertificatePath"] = certificate,
            ["DataProtection:CertificatePassword"] = "Not-The-Passw0rd",
        });
        Assert.Contains("DataProtection:CertificatePassword", wrongPassword, StringComparison.Ordinal);
        Assert.DoesNotContain("Not-The-Passw0rd", wrongPassword, StringComparison.Ordinal);

        var notPfx = Path.Combine(_folder, "notes.pfx");
        await File.WriteAllTextAsync(notPfx, "this is not a certificate");
        var garbage = await StartFailureAsync(new Dictionary<string, string?> { ["DataProtection:CertificatePath"] = notPfx });
        Assert.Contains("could not be read as a PFX", garbage, StringComparison.Ordinal);
    }

    // The portal's own start-up warning (the framework warns about every unencrypted key it writes, on SQLite too).
    private static bool IsUnencryptedKeysWarning(CapturedLog log) =>
        log.Category == "HarborPortal.Features.Keys.DataProtectionSetup" && log.Message.Contains("unencrypted", StringComparison.Ordinal);

    /// <summary>Starts a portal that must fail; returns every message of the failure's chain.</summary>
    private async Task<string> StartFailureAsync(IDictionary<string, string?> settings)
    {
        var app = new PortalApplication(settings, output);
        var failure = Record.Exception(() => app.Services);
        try
        {
            await app.DisposeAsync();
        }
        catch (InvalidOperationException)
        {
            // Disposing a host that never started may complain; the failure above is what the test is about.
        }

        Assert.NotNull(failure);
        var messages = new List<string>();
        for (var e = failure; e is not null; e = e.InnerException)
        {
            messages.Add(e.Message);
        }

        output.WriteLine(string.Join("\n", messages));
        return string.Join("\n", messages);
    }

    private string WriteCertificate(string name)
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=HarborPortal key protection (test)", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        var path = Path.Combine(_folder, name);
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pfx, CertificatePassword));
        return path;
    }

    /// <summary>Reads the shared database directly, with no portal (and no keys) involved.</summary>
    private sealed class NpgsqlProbe(string connectionString) : IAsyncDisposable
    {
        private readonly Npgsql.NpgsqlDataSource _source = Npgsql.NpgsqlDataSource.Create(connectionString);

        public async Task<long> CountKeysAsync()
        {
            await using var command = _source.CreateCommand("SELECT count(*) FROM \"DataProtectionKeys\"");
            return (long)(await command.ExecuteScalarAsync())!;
        }

        public ValueTask DisposeAsync() => _source.DisposeAsync();
    }
}
