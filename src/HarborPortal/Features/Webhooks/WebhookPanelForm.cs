namespace HarborPortal.Features.Webhooks;

/// <summary>The webhook panel's buttons post nothing but their name and the antiforgery token.</summary>
public sealed class WebhookPanelForm
{
}
