using HarborPortal.Features.Audit;
using HarborPortal.Features.Auth;

namespace HarborPortal.Features.Api;

/// <summary>Who is calling: <c>GET /api/v1/me</c>.</summary>
public sealed record MeResponse(long? UserId, string UserName, string? DisplayName, string? AuthMethod, IReadOnlyList<string> Roles, IReadOnlyList<string> Groups);

/// <summary>A token as lists show it: never its value.</summary>
public sealed record ApiTokenResponse(long Id, string Name, string Prefix, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt, string Status);

public sealed record CreateTokenRequest(string? Name, int ExpiresInDays);

/// <summary>The one answer that carries a token's value.</summary>
public sealed record CreatedTokenResponse(string Token, ApiTokenResponse Details);

public sealed record AuditEventResponse(long Id, DateTimeOffset At, string Action, bool Succeeded, string? Actor, string? Method, string? IpAddress, string? Target, string? Details);

/// <param name="NextBefore">Pass as <c>before</c> for the next, older page; null on the last page.</param>
public sealed record AuditPageResponse(IReadOnlyList<AuditEventResponse> Items, long? NextBefore);

internal static class ApiModelMappings
{
    public static ApiTokenResponse AsResponse(this ApiToken token, DateTimeOffset now) =>
        new(token.Id, token.Name, token.Prefix, token.CreatedAt, token.ExpiresAt, token.LastUsedAt, token.RevokedAt, ApiTokens.StatusOf(token, now));

    public static AuditEventResponse AsResponse(this AuditEvent e) =>
        new(e.Id, e.At, e.Action, e.Succeeded, e.Actor, e.Method, e.IpAddress, e.Target, e.Details);
}
