using System.Net;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.AspNetCore.Http;

namespace HarborPortal.Features.Operations;

/// <summary><c>Metrics</c> section: who may scrape <c>/metrics</c>.</summary>
public sealed class MetricsOptions
{
    public const string SectionName = "Metrics";

    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Client networks (CIDR) allowed to read <c>/metrics</c>; loopback always is. The client address is the one after
    /// forwarded headers, so a scrape from the internet through the reverse proxy is refused unless listed here.
    /// </summary>
    public string[] AllowedNetworks { get; set; } = [];
}

/// <summary>
/// What an operator needs to run the portal: a correlation id on every request's and job run's log entries (JSON console
/// logs are configuration only: <c>Logging__Console__FormatterName=json</c>), and metrics in Prometheus' format.
/// </summary>
public static class OperationsSetup
{
    public const string MetricsPath = "/metrics";

    public static IServiceCollection AddPortalOperations(this IServiceCollection services)
    {
        services.AddMetrics();
        services.TryAddSingleton<PortalMetrics>();
        services.TryAddSingleton<PrometheusExporter>();
        services.AddOptions<MetricsOptions>().BindConfiguration(MetricsOptions.SectionName).Validate(
            options => options.AllowedNetworks.All(n => IPNetwork.TryParse(n, out _)),
            "Metrics:AllowedNetworks must be networks in CIDR notation (e.g. 10.0.0.0/8).").ValidateOnStart();
        // Problem details name the same id as the logs and the error pages (the framework would use the trace's own id).
        services.Configure<ProblemDetailsOptions>(options =>
        {
            var earlier = options.CustomizeProblemDetails;
            options.CustomizeProblemDetails = context =>
            {
                earlier?.Invoke(context);
                context.ProblemDetails.Extensions["traceId"] = context.HttpContext.TraceIdentifier;
            };
        });
        return services;
    }

    /// <summary>Early in the pipeline, so that every later log entry of the request carries the id.</summary>
    public static IApplicationBuilder UseCorrelationIds(this IApplicationBuilder app) => app.UseMiddleware<CorrelationIdMiddleware>();

    public static IEndpointRouteBuilder MapMetrics(this IEndpointRouteBuilder endpoints)
    {
        // Made now, not at the first scrape: a listener only counts what is measured after it starts.
        _ = endpoints.ServiceProvider.GetRequiredService<PrometheusExporter>();
        endpoints.MapGet(MetricsPath, (HttpContext context, PrometheusExporter exporter, IOptions<MetricsOptions> options) =>
        {
            var settings = options.Value;
            if (!settings.Enabled)
            {
                return Results.NotFound();
            }

            var client = context.Connection.RemoteIpAddress;
            if (client is null || !(IPAddress.IsLoopback(client) || settings.AllowedNetworks.Any(n => IPNetwork.Parse(n).Contains(client.IsIPv4MappedToIPv6 ? client.MapToIPv4() : client))))
            {
                return Results.StatusCode(StatusCodes.Status403Forbidden);
            }

            return Results.Text(exporter.Render(), PrometheusExporter.ContentType);
        })
        // Scrapers do not sign in; the network allow-list above is the check, as for Harbor's own /metrics port.
        .AllowAnonymous()
        .ExcludeFromDescription();
        return endpoints;
    }
}
