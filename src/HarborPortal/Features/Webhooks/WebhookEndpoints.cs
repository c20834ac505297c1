namespace HarborPortal.Features.Webhooks;

/// <summary>
/// Harbor's webhooks. Anonymous as far as sign-in goes: the caller is Harbor's job service, which proves itself with
/// the connection's webhook secret in <c>Authorization</c> (<see cref="WebhookReceiver"/>).
/// </summary>
public static class WebhookEndpoints
{
    public const string PathPrefix = "/api/webhooks/harbor";

    public static string PathFor(long connectionId) => $"{PathPrefix}/{connectionId}";

    public static IEndpointRouteBuilder MapHarborWebhooks(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost(PathPrefix + "/{connectionId:long}", (long connectionId, HttpRequest request, WebhookReceiver receiver) => receiver.ReceiveAsync(connectionId, request))
            .AllowAnonymous()
            .DisableAntiforgery()
            .ExcludeFromDescription();
        return endpoints;
    }
}
