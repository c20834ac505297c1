using System.Diagnostics.Metrics;
using HarborPortal.Harbor;

namespace HarborPortal.Features.Operations;

/// <summary>
/// The portal's own instruments (meter <c>HarborPortal</c>), created through the host's <see cref="IMeterFactory"/> so
/// that each host (and each test's host) counts on its own. <c>/metrics</c> exposes them with ASP.NET Core's.
/// </summary>
public sealed class PortalMetrics
{
    public const string MeterName = "HarborPortal";

    private readonly Counter<long> _syncRuns;
    private readonly Histogram<double> _syncDuration;
    private readonly Counter<long> _findingsWritten;
    private readonly Counter<long> _harborErrors;
    private readonly Counter<long> _webhookDeliveries;

    public PortalMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName, typeof(PortalMetrics).Assembly.GetName().Version?.ToString());
        _syncRuns = meter.CreateCounter<long>("harborportal.sync.runs", "{run}", "Sync runs that ended, by connection and final status.");
        _syncDuration = meter.CreateHistogram(
            "harborportal.sync.duration", "s", "How long sync runs took, from start to their final status.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600] });
        _findingsWritten = meter.CreateCounter<long>("harborportal.sync.findings", "{finding}", "Findings the sync created, reopened or resolved, by connection and change.");
        _harborErrors = meter.CreateCounter<long>("harborportal.harbor.errors", "{error}", "Harbor calls that failed after every retry, by Harbor host and kind of failure.");
        _webhookDeliveries = meter.CreateCounter<long>("harborportal.webhook.deliveries", "{delivery}", "Harbor webhook deliveries, by the portal's answer.");
    }

    public void SyncFinished(string connection, string status, TimeSpan duration, long findingsNew, long findingsReopened, long findingsResolved)
    {
        var connectionTag = new KeyValuePair<string, object?>("connection", connection);
        _syncRuns.Add(1, connectionTag, new("status", status));
        _syncDuration.Record(duration.TotalSeconds, connectionTag, new("status", status));
        AddFindings(connectionTag, "new", findingsNew);
        AddFindings(connectionTag, "reopened", findingsReopened);
        AddFindings(connectionTag, "resolved", findingsResolved);
    }

    public void HarborCallFailed(string host, HarborFailure failure) =>
        _harborErrors.Add(1, new KeyValuePair<string, object?>("host", host), new("kind", KindOf(failure)));

    public void WebhookAnswered(int statusCode) =>
        _webhookDeliveries.Add(1, new KeyValuePair<string, object?>("status_code", statusCode));

    private void AddFindings(KeyValuePair<string, object?> connection, string change, long count)
    {
        if (count > 0)
        {
            _findingsWritten.Add(count, connection, new("change", change));
        }
    }

    // A short, bounded label set: one value per failure type, never a message (messages would make unbounded series).
    private static string KindOf(HarborFailure failure) => failure switch
    {
        HarborInsecureUrlRefused => "insecure_url_refused",
        HarborUnreachable => "unreachable",
        HarborTlsFailure => "tls",
        HarborTimedOut => "timeout",
        HarborUnauthorized => "unauthorized",
        HarborForbidden => "forbidden",
        HarborNotFound => "not_found",
        HarborServerError => "server_error",
        HarborRedirected => "redirected",
        _ => "other",
    };
}
