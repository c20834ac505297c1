namespace HarborPortal.Features.Connections;

/// <summary>
/// What an admin submits for a connection, from the form or the API. Booleans default to false because an unticked
/// checkbox is simply absent from a form post; the new-connection page sets <see cref="Enabled"/> itself.
/// </summary>
public sealed class ConnectionForm
{
    public string? Name { get; set; }

    public string? Url { get; set; }

    public HarborAuthKind AuthKind { get; set; }

    public string? UserName { get; set; }

    /// <summary>Write-only: never rendered back into a page. Empty on edit keeps the stored secret.</summary>
    public string? Secret { get; set; }

    public string? RobotPrefix { get; set; }

    public bool AllowInsecureHttp { get; set; }

    public string? CaCertificatePem { get; set; }

    public bool Enabled { get; set; }

    /// <summary>Sync asks Harbor to scan artifacts that have no report yet.</summary>
    public bool ScanUnscanned { get; set; }

    public static ConnectionForm From(HarborConnection connection) => new()
    {
        Name = connection.Name,
        Url = connection.BaseUrl,
        AuthKind = connection.AuthKind,
        UserName = connection.UserName,
        RobotPrefix = connection.RobotPrefix,
        AllowInsecureHttp = connection.AllowInsecureHttp,
        CaCertificatePem = connection.CaCertificatePem,
        Enabled = connection.Enabled,
        ScanUnscanned = connection.ScanUnscanned,
    };
}

/// <summary>A new secret, from the "Rotate secret" form.</summary>
public sealed class RotateSecretForm
{
    public string? Secret { get; set; }
}

/// <summary>What happens to a deleted connection's findings.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<FindingsOnDelete>))]
public enum FindingsOnDelete
{
    Keep,
    Purge,
}

public sealed class DeleteConnectionForm
{
    public FindingsOnDelete? Findings { get; set; }
}

/// <summary>The "Verify connectivity" button's form: no fields, the antiforgery token is the point.</summary>
public sealed class VerifyConnectionForm
{
}
