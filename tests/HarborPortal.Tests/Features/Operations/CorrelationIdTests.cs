using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using HarborPortal.Features.Jobs;
using HarborPortal.Features.Operations;
using HarborPortal.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Quartz;
using Xunit.Abstractions;

namespace HarborPortal.Tests.Features.Operations;

// What an operator relies on to follow one request or one job run through the logs.
public sealed class CorrelationIdTests(ITestOutputHelper output) : IDisposable
{
    private readonly PortalApplication _app = new(output: output);

    public void Dispose() => _app.Dispose();

    [Fact]
    public async Task A_Well_Formed_Id_From_The_Proxy_Is_Echoed_And_Scopes_The_Requests_Log_Entries()
    {
        var client = _app.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/webhooks/harbor/999") { Content = JsonContent.Create(new { type = "PUSH_ARTIFACT" }) };
        request.Headers.Add(CorrelationIdMiddleware.HeaderName, "proxy-4f2a.9:1");

        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("proxy-4f2a.9:1", Assert.Single(response.Headers.GetValues(CorrelationIdMiddleware.HeaderName)));
        var refused = _app.Logs.Single(l => l.Category.EndsWith("WebhookReceiver", StringComparison.Ordinal) && l.Message.Contains("refused", StringComparison.Ordinal));
        Assert.Equal("proxy-4f2a.9:1", refused.Scopes![CorrelationIdMiddleware.ScopeKey]);
    }

    [Theory]
    [InlineData("has spaces")]
    [InlineData("<script>alert(1)</script>")]
    [InlineData("an-id-that-is-far-too-long-to-be-an-id-from-any-reverse-proxy-we-know-of")]
    public async Task An_Ill_Formed_Id_Is_Replaced_Never_Echoed(string sent)
    {
        var client = _app.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/webhooks/harbor/999") { Content = JsonContent.Create(new { type = "PUSH_ARTIFACT" }) };
        request.Headers.TryAddWithoutValidation(CorrelationIdMiddleware.HeaderName, sent);

        var response = await client.SendAsync(request);

        var id = Assert.Single(response.Headers.GetValues(CorrelationIdMiddleware.HeaderName));
        Assert.NotEqual(sent, id);
        Assert.True(CorrelationIdMiddleware.IsWellFormed(id), id);
        Assert.DoesNotContain(_app.Logs, l => l.Message.Contains(sent, StringComparison.Ordinal) || (l.Scopes?.Values.Contains(sent) ?? false));
        Assert.Contains(_app.Logs, l => l.Scopes is { } scopes && Equals(scopes.GetValueOrDefault(CorrelationIdMiddleware.ScopeKey), id));
    }

    [Fact]
    public async Task Problem_Details_And_Error_Pages_Quote_The_Same_Id()
    {
        var client = _app.CreateClientWithCookies();
        await _app.SignInAsAsync(client, "vera", "Viewer");

        var problem = await client.GetAsync("/api/v1/findings?severity=Apocalyptic");
        var page = await client.GetAsync("/no-such-page");

        Assert.Equal(HttpStatusCode.BadRequest, problem.StatusCode);
        var problemId = Assert.Single(problem.Headers.GetValues(CorrelationIdMiddleware.HeaderName));
        using (var json = JsonDocument.Parse(await problem.Content.ReadAsStringAsync()))
        {
            Assert.Equal(problemId, json.RootElement.GetProperty("traceId").GetString());
        }

        Assert.Equal(HttpStatusCode.NotFound, page.StatusCode);
        var pageId = Assert.Single(page.Headers.GetValues(CorrelationIdMiddleware.HeaderName));
        Assert.Contains($"<code>{pageId}</code>", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_Job_Runs_Log_Entries_Name_The_Job_And_The_Run()
    {
        _ = _app.CreateClient();
        var scheduler = await _app.Services.GetRequiredService<ISchedulerFactory>().GetScheduler();

        await scheduler.TriggerJob(HousekeepingJob.Key);
        var entry = await WaitForAsync(() => _app.Logs.FirstOrDefault(l => l.Message.StartsWith("Housekeeping deleted", StringComparison.Ordinal)));

        Assert.Equal("system.housekeeping", entry.Scopes!["Job"]);
        Assert.StartsWith("job-", (string)entry.Scopes[JobRunLogScopeFactory.ScopeKey]!, StringComparison.Ordinal);
        Assert.True(((string)entry.Scopes[JobRunLogScopeFactory.ScopeKey]!).Length > "job-".Length);
    }

    private static async Task<CapturedLog> WaitForAsync(Func<CapturedLog?> find)
    {
        for (var i = 0; i < 200; i++)
        {
            if (find() is { } found)
            {
                return found;
            }

            await Task.Delay(50);
        }

        throw new Xunit.Sdk.XunitException("the job's log entry did not appear within 10 seconds");
    }
}
