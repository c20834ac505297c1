namespace HarborPortal.Features.Webhooks;

public static class WebhooksSetup
{
    /// <summary>Harbor's webhooks: limits from <c>Webhooks:*</c>, the per-connection throttle and the receiver.</summary>
    public static IServiceCollection AddHarborWebhooks(this IServiceCollection services)
    {
        services.AddOptions<WebhookOptions>()
            .BindConfiguration(WebhookOptions.SectionName)
            .Validate(o => o.MaxBodyBytes is >= 1024 and <= 1024 * 1024, "Webhooks:MaxBodyBytes must be between 1024 and 1048576.")
            .Validate(o => o.BurstLimit >= 1 && o.PerMinute >= 1, "Webhooks:BurstLimit and Webhooks:PerMinute must be at least 1.")
            .ValidateOnStart();
        services.AddSingleton<WebhookThrottle>();
        services.AddScoped<WebhookReceiver>();
        services.AddScoped<WebhookCommands>();
        return services;
    }
}
