namespace HarborPortal.Features.Connections;

/// <summary>
/// A connection as <c>/api/v1/connections</c> returns it. The secret is write-only: only whether one is stored and
/// when it last changed.
/// </summary>
public sealed record ConnectionResponse(
    long Id,
    string Name,
    string Url,
    string Provider,
    HarborAuthKind AuthKind,
    string UserName,
    string RobotPrefix,
    bool HasSecret,
    DateTimeOffset SecretUpdatedAt,
    bool AllowInsecureHttp,
    string? CaCertificatePem,
    IReadOnlyList<CaCertificateSummary> CaCertificates,
    bool Enabled,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? LastVerifiedAt,
    bool? LastVerificationOk,
    string? LastVerificationSummary,
    DateTimeOffset? LastSyncAt,
    string? UserNameWarning,
    bool ScanUnscanned);

/// <summary>
/// The body of POST and PUT. <c>secret</c> is required on POST; on PUT, absent or empty keeps the stored one.
/// <c>scanUnscanned</c> (default false): the sync asks Harbor to scan artifacts without a report.
/// </summary>
public sealed record ConnectionRequest(
    string? Name,
    string? Url,
    HarborAuthKind? AuthKind,
    string? UserName,
    string? Secret,
    string? RobotPrefix,
    bool? AllowInsecureHttp,
    string? CaCertificatePem,
    bool? Enabled,
    bool? ScanUnscanned = null)
{
    public ConnectionForm ToForm() => new()
    {
        Name = Name,
        Url = Url,
        AuthKind = AuthKind ?? HarborAuthKind.Robot,
        UserName = UserName,
        Secret = Secret,
        RobotPrefix = RobotPrefix,
        AllowInsecureHttp = AllowInsecureHttp ?? false,
        CaCertificatePem = CaCertificatePem,
        Enabled = Enabled ?? true,
        ScanUnscanned = ScanUnscanned ?? false,
    };
}

public sealed record RotateSecretRequest(string? Secret);

internal static class ConnectionApiMappings
{
    public static ConnectionResponse AsResponse(this HarborConnection c) => new(
        c.Id, c.Name, c.BaseUrl, c.Provider, c.AuthKind, c.UserName, c.RobotPrefix,
        HasSecret: c.ProtectedSecret.Length > 0, c.SecretUpdatedAt, c.AllowInsecureHttp, c.CaCertificatePem, CaCertificates.Describe(c.CaCertificatePem),
        c.Enabled, c.CreatedAt, c.UpdatedAt, c.LastVerifiedAt, c.LastVerificationOk, c.LastVerificationSummary, c.LastSyncAt,
        RobotName.Check(c.AuthKind, c.UserName, c.RobotPrefix)?.Message, c.ScanUnscanned);
}

/// <summary>The answer to POST …/verify.</summary>
public sealed record VerificationStarted(long RunId, VerificationStatus Status);

/// <summary>One verification run as the API shows it.</summary>
public sealed record VerificationResponse(
    long RunId, long ConnectionId, VerificationStatus Status, bool? Ok, string Trigger, DateTimeOffset RequestedAt,
    DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt, string? Summary, IReadOnlyList<VerificationStepResponse> Steps);

/// <summary>One step: <c>ok</c> is true (✓), false (✗) or null (skipped, informational; see <c>outcome</c>).</summary>
public sealed record VerificationStepResponse(string Name, bool? Ok, CheckOutcome Outcome, long DurationMs, string Detail, string? Hint);

public static class VerificationMapping
{
    public static VerificationResponse AsResponse(this ConnectionVerification run) => new(
        run.Id, run.ConnectionId, run.Status, run.Ok, run.Trigger, run.RequestedAt, run.StartedAt, run.FinishedAt, run.Summary,
        [.. run.Steps.Select(s => new VerificationStepResponse(s.Name, s.Ok, s.Outcome, s.DurationMs, s.Detail, s.Hint))]);
}
