using HarborPortal.Features.Operations;
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
            // Every answer counted by status, the refusals too: a flood of 401s is what an operator wants to see.
            .AddEndpointFilter(async (context, next) =>
            {
                var result = await next(context);
                context.HttpContext.RequestServices.GetRequiredService<PortalMetrics>()
                    .WebhookAnswered(result is IStatusCodeHttpResult { StatusCode: { } status } ? status : context.HttpContext.Response.StatusCode);
                return result;
            })
            .ExcludeFromDescription();
        return endpoints;
    }
}
