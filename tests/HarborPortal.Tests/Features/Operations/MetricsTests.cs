using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using HarborPortal.Features.Operations;
using HarborPortal.Features.Scanning;
using HarborPortal.Tests.Features.Scanning;
using HarborPortal.Tests.Infrastructure;
using Xunit.Abstractions;

namespace HarborPortal.Tests.Features.Operations;

// /metrics as a Prometheus scraper sees it: the text format, the sync's figures, and who may read them.
public sealed class MetricsTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_Sync_Shows_Up_As_Runs_Duration_And_Findings_Written()
    {
        await using var harness = await SyncHarness.StartAsync(output);

        var run = await harness.SyncAsync();
        var text = await ScrapeAsync(harness.App, "127.0.0.1");

        Assert.Equal(SyncRunStatus.Succeeded, run.Status);
        Assert.Contains("# TYPE harborportal_sync_runs_total counter", text, StringComparison.Ordinal);
        Assert.Equal(1, Value(text, "harborportal_sync_runs_total{connection=\"sim\",status=\"Succeeded\"}"));
        Assert.Equal(1, Value(text, "harborportal_sync_duration_seconds_count{connection=\"sim\",status=\"Succeeded\"}"));
        Assert.Equal(1, Value(text, "harborportal_sync_duration_seconds_bucket{connection=\"sim\",status=\"Succeeded\",le=\"+Inf\"}"));
        Assert.Equal(run.FindingsNew, Value(text, "harborportal_sync_findings_total{change=\"new\",connection=\"sim\"}"));
        Assert.True(run.FindingsNew > 0);

        // ASP.NET Core's own request metrics come along (the scrape itself is the request seen here).
        Assert.Contains("# TYPE http_server_request_duration_seconds histogram", await ScrapeAsync(harness.App, "127.0.0.1"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Harbor_Failing_Is_Counted_By_Host_And_Kind_Without_Its_Message()
    {
        await using var harness = await SyncHarness.StartAsync(output);
        harness.Simulator.Faults.FailNext(3, 500, $"/api/v2.0/projects/team-a/repositories/payments-api/artifacts/{SyncHarness.PaymentsDigest}");

        var run = await harness.SyncAsync();
        var text = await ScrapeAsync(harness.App, "127.0.0.1");

        Assert.Equal(SyncRunStatus.Partial, run.Status);
        var host = harness.Simulator.BaseAddress.Authority;
        Assert.Equal(1, Value(text, $"harborportal_harbor_errors_total{{host=\"{host}\",kind=\"server_error\"}}"));
        Assert.Equal(1, Value(text, "harborportal_sync_runs_total{connection=\"sim\",status=\"Partial\"}"));
        Assert.DoesNotContain("internal server error", text, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Only_Loopback_And_The_Allowed_Networks_May_Scrape()
    {
        using var app = new PortalApplication(new Dictionary<string, string?> { ["Metrics:AllowedNetworks:0"] = "10.20.0.0/16" }, output);

        Assert.Equal(HttpStatusCode.OK, (await SendAsync(app, "127.0.0.1")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(app, "::1")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(app, "10.20.3.4")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(app, "10.21.3.4")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(app, "203.0.113.9")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(app, null)).StatusCode);

        var ok = await SendAsync(app, "127.0.0.1");
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", ok.Content.Headers.ContentType!.ToString());
    }

    [Fact]
    public async Task Metrics_Can_Be_Switched_Off()
    {
        using var app = new PortalApplication(new Dictionary<string, string?> { ["Metrics:Enabled"] = "false" }, output);

        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(app, "127.0.0.1")).StatusCode);
    }

    [Fact]
    public void A_Network_That_Is_Not_CIDR_Stops_The_Start_With_Its_Reason()
    {
        using var app = new PortalApplication(new Dictionary<string, string?> { ["Metrics:AllowedNetworks:0"] = "10.20.0.0/99" }, output);

        var failure = Assert.ThrowsAny<Exception>(() => app.CreateClient());

        Assert.Contains("Metrics:AllowedNetworks", failure.ToString(), StringComparison.Ordinal);
    }

    private static async Task<HttpResponseMessage> SendAsync(PortalApplication app, string? clientAddress)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, OperationsSetup.MetricsPath);
        if (clientAddress is not null)
        {
            request.Headers.Add(PortalApplication.TestClientAddressHeader, clientAddress);
        }

        return await app.CreateClient().SendAsync(request);
    }

    private static async Task<string> ScrapeAsync(PortalApplication app, string clientAddress)
    {
        var response = await SendAsync(app, clientAddress);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    // The value of one series line ("name{labels} value"); fails when the series is missing.
    private static double Value(string text, string series)
    {
        var match = Regex.Match(text, "^" + Regex.Escape(series) + " (\\S+)$", RegexOptions.Multiline);
        Assert.True(match.Success, $"no series {series} in:\n{text}");
        return double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }
}
