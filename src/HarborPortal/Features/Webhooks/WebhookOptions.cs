namespace HarborPortal.Features.Webhooks;

/// <summary>
/// Limits of <c>POST /api/webhooks/harbor/{connectionId}</c> (section <c>Webhooks</c>). The defaults let a CI job
/// push a few dozen multi-arch images at once — Harbor sends one PUSH_ARTIFACT per manifest, then one
/// SCANNING_COMPLETED per scanned artifact — and refuse a sustained flood.
/// </summary>
public sealed class WebhookOptions
{
    public const string SectionName = "Webhooks";

    /// <summary>The largest body read; Harbor's payloads are about 1–3 KB.</summary>
    public int MaxBodyBytes { get; set; } = 64 * 1024;

    /// <summary>Webhooks one connection may send back to back (the token bucket's size).</summary>
    public int BurstLimit { get; set; } = 120;

    /// <summary>Webhooks per minute one connection may send once its burst is spent (the bucket's refill rate).</summary>
    public int PerMinute { get; set; } = 120;
}
