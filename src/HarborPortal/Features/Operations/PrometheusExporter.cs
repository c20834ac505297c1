using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace HarborPortal.Features.Operations;

/// <summary>
/// Serves the host's metrics in Prometheus' text exposition format (version 0.0.4), which Prometheus, VictoriaMetrics,
/// Grafana Agent and the OpenTelemetry collector all scrape. OpenTelemetry's and prometheus-net's exporters cannot be
/// restored here, so this is a small <see cref="MeterListener"/> that keeps cumulative totals per series.
/// It listens to this host's meters (the portal's and ASP.NET Core's, told apart from other hosts in the same process by
/// their <see cref="IMeterFactory"/>) and to the process-wide .NET runtime meter.
/// </summary>
public sealed class PrometheusExporter : IDisposable
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private static readonly string[] HostMeters = [PortalMetrics.MeterName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel"];
    private const string RuntimeMeter = "System.Runtime";

    // Prometheus' own defaults suit request latencies in seconds; instruments may advise their own (the sync's do).
    private static readonly double[] DefaultBuckets = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<Instrument, InstrumentState> _instruments = new();

    public PrometheusExporter(IMeterFactory meters)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            var ours = ReferenceEquals(instrument.Meter.Scope, meters) && HostMeters.Contains(instrument.Meter.Name, StringComparer.Ordinal);
            if (ours || instrument.Meter.Name == RuntimeMeter)
            {
                _instruments[instrument] = new InstrumentState(instrument);
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.MeasurementsCompleted = (instrument, _) => _instruments.TryRemove(instrument, out InstrumentState? _);
        _listener.SetMeasurementEventCallback<long>((i, value, tags, _) => Record(i, value, tags));
        _listener.SetMeasurementEventCallback<int>((i, value, tags, _) => Record(i, value, tags));
        _listener.SetMeasurementEventCallback<short>((i, value, tags, _) => Record(i, value, tags));
        _listener.SetMeasurementEventCallback<byte>((i, value, tags, _) => Record(i, value, tags));
        _listener.SetMeasurementEventCallback<double>((i, value, tags, _) => Record(i, value, tags));
        _listener.SetMeasurementEventCallback<float>((i, value, tags, _) => Record(i, value, tags));
        _listener.SetMeasurementEventCallback<decimal>((i, value, tags, _) => Record(i, (double)value, tags));
        _listener.Start();
    }

    /// <summary>The current values of every series, observable instruments read now.</summary>
    public string Render()
    {
        _listener.RecordObservableInstruments();
        var text = new StringBuilder();
        foreach (var group in _instruments.Values.GroupBy(s => s.Name).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            // Two meters may name an instrument alike (never in practice): the first one's series are written.
            group.First().WriteTo(text);
        }

        return text.ToString();
    }

    public void Dispose() => _listener.Dispose();

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (_instruments.TryGetValue(instrument, out var state))
        {
            state.Record(value, tags);
        }
    }

    private enum Kind
    {
        Counter,
        Gauge,
        Histogram,
    }

    private sealed class InstrumentState
    {
        private readonly Kind _kind;
        private readonly bool _cumulativeObservation;
        private readonly bool _summing;
        private readonly double[] _buckets;
        private readonly string _help;
        private readonly Dictionary<string, Series> _series = new(StringComparer.Ordinal);
        private readonly Lock _lock = new();

        public InstrumentState(Instrument instrument)
        {
            var type = instrument.GetType().GetGenericTypeDefinition();
            (_kind, _summing, _cumulativeObservation) = type.Name switch
            {
                "Counter`1" => (Kind.Counter, true, false),
                "ObservableCounter`1" => (Kind.Counter, false, true),
                "UpDownCounter`1" => (Kind.Gauge, true, false),
                "Histogram`1" => (Kind.Histogram, false, false),
                _ => (Kind.Gauge, false, false), // Gauge, ObservableGauge, ObservableUpDownCounter: the last value.
            };
            _buckets = Advice(instrument) ?? DefaultBuckets;
            Name = MetricName(instrument.Name, instrument.Unit, _kind);
            _help = (instrument.Description ?? instrument.Name).Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
        }

        public string Name { get; }

        public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var labels = Labels(tags);
            lock (_lock)
            {
                if (!_series.TryGetValue(labels, out var series))
                {
                    series = new Series(_kind == Kind.Histogram ? new long[_buckets.Length] : null);
                    _series[labels] = series;
                }

                switch (_kind)
                {
                    case Kind.Histogram:
                        series.Count++;
                        series.Value += value;
                        var bucket = Array.FindIndex(_buckets, bound => value <= bound);
                        if (bucket >= 0)
                        {
                            series.Buckets![bucket]++;
                        }

                        break;
                    case Kind.Counter when _cumulativeObservation:
                    case Kind.Gauge when !_summing:
                        series.Value = value;
                        break;
                    default:
                        series.Value += value;
                        break;
                }
            }
        }

        public void WriteTo(StringBuilder text)
        {
            lock (_lock)
            {
                if (_series.Count == 0)
                {
                    return;
                }

                var type = _kind switch { Kind.Counter => "counter", Kind.Histogram => "histogram", _ => "gauge" };
                // Version 0.0.4 names the sample itself (with _total) in HELP and TYPE; OpenMetrics would strip it.
                text.Append("# HELP ").Append(Name).Append(' ').Append(_help).Append('\n');
                text.Append("# TYPE ").Append(Name).Append(' ').Append(type).Append('\n');
                foreach (var (labels, series) in _series.OrderBy(s => s.Key, StringComparer.Ordinal))
                {
                    if (_kind != Kind.Histogram)
                    {
                        Line(text, Name, labels, null, series.Value);
                        continue;
                    }

                    long cumulative = 0;
                    for (var i = 0; i < _buckets.Length; i++)
                    {
                        cumulative += series.Buckets![i];
                        Line(text, Name + "_bucket", labels, Number(_buckets[i]), cumulative);
                    }

                    Line(text, Name + "_bucket", labels, "+Inf", series.Count);
                    Line(text, Name + "_sum", labels, null, series.Value);
                    Line(text, Name + "_count", labels, null, series.Count);
                }
            }
        }

        private static void Line(StringBuilder text, string name, string labels, string? le, double value)
        {
            text.Append(name);
            if (labels.Length > 0 || le is not null)
            {
                text.Append('{').Append(labels);
                if (le is not null)
                {
                    text.Append(labels.Length > 0 ? "," : "").Append("le=\"").Append(le).Append('"');
                }

                text.Append('}');
            }

            text.Append(' ').Append(Number(value)).Append('\n');
        }

        private static double[]? Advice(Instrument instrument) => instrument switch
        {
            Histogram<double> h => h.Advice?.HistogramBucketBoundaries?.ToArray(),
            Histogram<long> h => h.Advice?.HistogramBucketBoundaries?.Select(b => (double)b).ToArray(),
            Histogram<int> h => h.Advice?.HistogramBucketBoundaries?.Select(b => (double)b).ToArray(),
            _ => null,
        };
    }

    private sealed class Series(long[]? buckets)
    {
        public double Value { get; set; }

        public long Count { get; set; }

        public long[]? Buckets { get; } = buckets;
    }

    /// <summary><c>http.server.request.duration</c> in <c>s</c> becomes <c>http_server_request_duration_seconds</c>.</summary>
    private static string MetricName(string name, string? unit, Kind kind)
    {
        var metric = Sanitize(name);
        var suffix = unit switch
        {
            "s" => "_seconds",
            "ms" => "_milliseconds",
            "By" => "_bytes",
            _ => "",
        };
        if (suffix.Length > 0 && !metric.EndsWith(suffix, StringComparison.Ordinal))
        {
            metric += suffix;
        }

        return kind == Kind.Counter ? metric + "_total" : metric;
    }

    private static string Labels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.IsEmpty)
        {
            return "";
        }

        var pairs = new List<(string Key, string Value)>(tags.Length);
        foreach (var tag in tags)
        {
            pairs.Add((Sanitize(tag.Key), Convert.ToString(tag.Value, CultureInfo.InvariantCulture) ?? ""));
        }

        pairs.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        return string.Join(',', pairs.Select(p => $"{p.Key}=\"{Escape(p.Value)}\""));
    }

    private static string Escape(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private static string Sanitize(string name)
    {
        var chars = name.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (!(char.IsAsciiLetterOrDigit(chars[i]) || chars[i] == '_'))
            {
                chars[i] = '_';
            }
        }

        return chars.Length > 0 && char.IsAsciiDigit(chars[0]) ? "_" + new string(chars) : new string(chars);
    }

    private static string Number(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        double.NaN => "NaN",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };
}
