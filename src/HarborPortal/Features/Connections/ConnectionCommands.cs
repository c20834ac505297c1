using System.Security.Claims;
using HarborPortal.Data;
using HarborPortal.Features.Audit;
using HarborPortal.Features.Auth;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace HarborPortal.Features.Connections;

/// <summary>
/// Creating, changing, rotating and deleting connections: shared by the admin pages and the JSON API so that both apply
/// the same rules and write the same audit lines (with the connection's name as target, never its secret).
/// </summary>
public sealed class ConnectionCommands(
    PortalDbContext db, ConnectionSecrets secrets, OutboundAllowList allowList, AuditLog audit, TimeProvider time,
    ConnectionVerifier verifier, IOptions<ConnectionsOptions> options, Schedules.ConnectionSchedules schedules)
{
    public async Task<ConnectionResult> CreateAsync(ConnectionForm form, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        var url = await ValidateAsync(form, null, secretRequired: true, errors, cancellationToken);
        if (errors.Any || url is null)
        {
            return ConnectionResult.Invalid(errors);
        }

        var now = time.GetUtcNow();
        var connection = new HarborConnection
        {
            Name = form.Name!.Trim(),
            BaseUrl = url,
            UserName = form.UserName!.Trim(),
            ProtectedSecret = secrets.Protect(form.Secret!),
            SecretUpdatedAt = now,
            CreatedAt = now,
        };
        Apply(form, url, connection, now);
        db.HarborConnections.Add(connection);
        await db.SaveChangesAsync(cancellationToken);
        await WriteAuditAsync("connection.create", user, connection, $"url={connection.BaseUrl}; auth={connection.AuthKind}; user={connection.UserName}; enabled={connection.Enabled}; scan unscanned={connection.ScanUnscanned}", cancellationToken);
        return await SavedAndVerifyingAsync(connection, user, cancellationToken);
    }

    public async Task<ConnectionResult> UpdateAsync(long id, ConnectionForm form, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var connection = await db.HarborConnections.FindAsync([id], cancellationToken);
        if (connection is null)
        {
            return ConnectionResult.NotFound;
        }

        var errors = new ValidationErrors();
        var url = await ValidateAsync(form, id, secretRequired: false, errors, cancellationToken);
        if (errors.Any || url is null)
        {
            return ConnectionResult.Invalid(errors);
        }

        var before = ConnectionForm.From(connection);
        var now = time.GetUtcNow();
        Apply(form, url, connection, now);
        var changed = Changes(before, ConnectionForm.From(connection)).ToList();
        if (!string.IsNullOrEmpty(form.Secret))
        {
            // Typing a secret into the edit form replaces it, as the rotate form does.
            connection.ProtectedSecret = secrets.Protect(form.Secret);
            connection.SecretUpdatedAt = now;
            changed.Add("secret (rotated)");
        }

        await db.SaveChangesAsync(cancellationToken);
        await WriteAuditAsync("connection.update", user, connection, changed.Count == 0 ? "no change" : "changed: " + string.Join(", ", changed), cancellationToken);
        return await SavedAndVerifyingAsync(connection, user, cancellationToken);
    }

    public async Task<ConnectionResult> RotateSecretAsync(long id, string? secret, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var connection = await db.HarborConnections.FindAsync([id], cancellationToken);
        if (connection is null)
        {
            return ConnectionResult.NotFound;
        }

        var errors = new ValidationErrors();
        ConnectionRules.ValidateSecret(secret, required: true, errors);
        if (errors.Any)
        {
            return ConnectionResult.Invalid(errors);
        }

        var now = time.GetUtcNow();
        connection.ProtectedSecret = secrets.Protect(secret!);
        connection.SecretUpdatedAt = now;
        connection.UpdatedAt = now;
        // A new secret makes the last verification say nothing about the credentials in use now.
        connection.LastVerificationOk = null;
        connection.LastVerificationSummary = "Secret rotated: verify connectivity again.";
        await db.SaveChangesAsync(cancellationToken);
        await WriteAuditAsync("connection.rotate-secret", user, connection, "secret replaced", cancellationToken);
        return await SavedAndVerifyingAsync(connection, user, cancellationToken);
    }

    /// <summary>Deletes a connection; <paramref name="findings"/> says whether its findings are kept or purged.</summary>
    public async Task<HarborConnection?> DeleteAsync(long id, FindingsOnDelete findings, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var connection = await db.HarborConnections.FindAsync([id], cancellationToken);
        if (connection is null)
        {
            return null;
        }

        // Keep: the findings stay (with their history and triage) but are no longer updated. Purge: they go with it.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var purged = findings == FindingsOnDelete.Purge
            ? await db.Findings.Where(f => f.ConnectionId == id).ExecuteDeleteAsync(cancellationToken)
            : 0;
        db.HarborConnections.Remove(connection);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        await verifier.ForgetAsync(id, cancellationToken);
        await schedules.ForgetAsync(id, cancellationToken);
        await WriteAuditAsync("connection.delete", user, connection, $"findings={findings.ToString().ToLowerInvariant()} ({purged} purged); url={connection.BaseUrl}", cancellationToken);
        return connection;
    }

    // Every save is verified (unless switched off): what was just typed is what the admin wants to know works.
    private async Task<ConnectionResult> SavedAndVerifyingAsync(HarborConnection connection, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var run = options.Value.VerifyOnSave
            ? await verifier.RequestAsync(connection.Id, VerificationTriggers.Save, user.Identity?.Name, cancellationToken)
            : null;
        return ConnectionResult.Saved(connection) with { VerificationRunId = run?.Id };
    }

    private async Task<string?> ValidateAsync(ConnectionForm form, long? id, bool secretRequired, ValidationErrors errors, CancellationToken cancellationToken)
    {
        var url = ConnectionRules.Validate(form, secretRequired, errors);
        var name = form.Name?.Trim() ?? "";
        if (name.Length > 0)
        {
            var lower = name.ToLowerInvariant();
            if (await db.HarborConnections.AnyAsync(c => c.Name.ToLower() == lower && c.Id != id, cancellationToken))
            {
                errors.Add(ConnectionRules.Fields.Name, $"A connection named \"{name}\" already exists.");
            }
        }

        if (url is not null && await allowList.CheckAsync(url, cancellationToken) is { } refused)
        {
            errors.Add(ConnectionRules.Fields.Url, refused);
            return null;
        }

        return url;
    }

    private static void Apply(ConnectionForm form, string url, HarborConnection connection, DateTimeOffset now)
    {
        connection.Name = form.Name!.Trim();
        connection.BaseUrl = url;
        connection.Provider = HarborConnection.HarborProvider;
        connection.AuthKind = form.AuthKind;
        connection.UserName = form.UserName!.Trim();
        connection.RobotPrefix = string.IsNullOrWhiteSpace(form.RobotPrefix) ? HarborConnection.DefaultRobotPrefix : form.RobotPrefix.Trim();
        connection.AllowInsecureHttp = form.AllowInsecureHttp;
        connection.CaCertificatePem = string.IsNullOrWhiteSpace(form.CaCertificatePem) ? null : form.CaCertificatePem.Trim() + "\n";
        connection.Enabled = form.Enabled;
        connection.ScanUnscanned = form.ScanUnscanned;
        connection.UpdatedAt = now;
    }

    private static IEnumerable<string> Changes(ConnectionForm before, ConnectionForm after) =>
        new (bool Changed, string Description)[]
        {
            (before.Name != after.Name, $"name (was {before.Name})"),
            (before.Url != after.Url, $"url={after.Url}"),
            (before.AuthKind != after.AuthKind, $"auth={after.AuthKind}"),
            (before.UserName != after.UserName, $"user={after.UserName}"),
            (before.RobotPrefix != after.RobotPrefix, $"robot prefix={after.RobotPrefix}"),
            (before.AllowInsecureHttp != after.AllowInsecureHttp, $"allow http={after.AllowInsecureHttp}"),
            (before.CaCertificatePem != after.CaCertificatePem, after.CaCertificatePem is null ? "private CA removed" : "private CA"),
            (before.Enabled != after.Enabled, $"enabled={after.Enabled}"),
            (before.ScanUnscanned != after.ScanUnscanned, $"scan unscanned={after.ScanUnscanned}"),
        }.Where(c => c.Changed).Select(c => c.Description);

    private Task WriteAuditAsync(string action, ClaimsPrincipal user, HarborConnection connection, string details, CancellationToken cancellationToken) =>
        audit.WriteAsync(action, true, user.Identity?.Name, user.FindFirstValue(PortalClaimTypes.AuthMethod) ?? "web", connection.Name, details, cancellationToken);
}

/// <summary>The outcome of a save: the connection, or why it was not saved.</summary>
public sealed record ConnectionResult(HarborConnection? Connection, ValidationErrors? Errors, bool IsNotFound)
{
    public static readonly ConnectionResult NotFound = new(null, null, true);

    /// <summary>The verification started by this save, if any.</summary>
    public long? VerificationRunId { get; init; }

    public static ConnectionResult Saved(HarborConnection connection) => new(connection, null, false);

    public static ConnectionResult Invalid(ValidationErrors errors) => new(null, errors, false);
}
