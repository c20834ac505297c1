using HarborPortal.Data;
using Microsoft.EntityFrameworkCore;

namespace HarborPortal.Features.Auth;

/// <summary>What a sign-in learned about a person from the provider.</summary>
public sealed record ProviderProfile(
    string Issuer,
    string Subject,
    string UserName,
    string? Email,
    string? DisplayName,
    IReadOnlyList<string> Groups,
    IReadOnlyList<string> Roles);

/// <summary>Portal accounts for provider users, keyed on (issuer, subject) — never on email, which a user can change and authentik does not verify.</summary>
public sealed class UserAccounts(IDbContextFactory<PortalDbContext> contexts, TimeProvider time)
{
    /// <summary>Creates or refreshes the account at each sign-in, so renames and group changes reach the portal.</summary>
    public async Task<UserAccount> UpsertAsync(ProviderProfile profile, CancellationToken cancellationToken)
    {
        try
        {
            return await TryUpsertAsync(profile, cancellationToken);
        }
        catch (DbUpdateException)
        {
            // Two first sign-ins of the same person at once: the other one inserted the row; update it instead.
            return await TryUpsertAsync(profile, cancellationToken);
        }
    }

    private async Task<UserAccount> TryUpsertAsync(ProviderProfile profile, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var now = time.GetUtcNow();
        var account = await db.UserAccounts.FirstOrDefaultAsync(a => a.Issuer == profile.Issuer && a.Subject == profile.Subject, cancellationToken);
        if (account is null)
        {
            account = new UserAccount { Issuer = profile.Issuer, Subject = profile.Subject, UserName = profile.UserName, CreatedAt = now };
            db.UserAccounts.Add(account);
        }

        account.UserName = Truncate(profile.UserName, 256)!;
        account.Email = Truncate(profile.Email, 320);
        account.DisplayName = Truncate(profile.DisplayName, 256);
        account.Groups = string.Join('\n', profile.Groups);
        account.Roles = string.Join(',', profile.Roles);
        account.LastSignInAt = now;
        await db.SaveChangesAsync(cancellationToken);
        return account;
    }

    private static string? Truncate(string? value, int max) => value is { Length: > 0 } && value.Length > max ? value[..max] : value;
}
