namespace HarborPortal.Features.Auth;

/// <summary>What the start-up check found wrong with the provider's setup, for admin pages to show.</summary>
public sealed class OidcHealth
{
    private volatile IReadOnlyList<string> _warnings = [];

    public IReadOnlyList<string> Warnings => _warnings;

    public DateTimeOffset? CheckedAt { get; private set; }

    public void Report(IReadOnlyList<string> warnings, DateTimeOffset at)
    {
        _warnings = warnings;
        CheckedAt = at;
    }
}
