using System.Collections.Concurrent;
using System.IO.Compression;
using HarborPortal.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace HarborPortal.Tests.Features.ThreatData;

/// <summary>A tiny web server on loopback that serves the fixture files (or fails) as CISA's and EPSS's sites would.</summary>
public sealed class FeedServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, (int Status, byte[] Body)> _files = new(StringComparer.Ordinal);

    private FeedServer(WebApplication app, string baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    public string BaseUrl { get; }

    public static string Fixture(string name) => Path.Combine(RepositoryPaths.Root, "tests", "HarborPortal.Tests", "Features", "ThreatData", "Fixtures", name);

    public static byte[] Gzip(byte[] content)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest))
        {
            gzip.Write(content);
        }

        return buffer.ToArray();
    }

    public static async Task<FeedServer> StartAsync()
    {
        var baseUrl = $"http://127.0.0.1:{FreePort.Next()}";
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(baseUrl);
        var app = builder.Build();
        var server = new FeedServer(app, baseUrl);
        app.Run(async context =>
        {
            if (!server._files.TryGetValue(context.Request.Path.Value ?? "", out var file))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }

            context.Response.StatusCode = file.Status;
            await context.Response.Body.WriteAsync(file.Body);
        });
        await app.StartAsync();
        server.Serve("/feeds/known_exploited_vulnerabilities.json", File.ReadAllBytes(Fixture("known_exploited_vulnerabilities.json")));
        server.Serve("/feeds/epss_scores-current.csv.gz", Gzip(File.ReadAllBytes(Fixture("epss_scores-current.csv"))));
        server.Serve("/feeds/epss_scores-current.csv", File.ReadAllBytes(Fixture("epss_scores-current.csv")));
        server.Serve("/feeds/malformed.json", File.ReadAllBytes(Fixture("malformed_kev.json")));
        server.Serve("/feeds/broken", "Internal error"u8.ToArray(), StatusCodes.Status500InternalServerError);
        server.Serve("/feeds/huge.json", new byte[256 * 1024]);
        return server;
    }

    public string Url(string path) => BaseUrl + path;

    public void Serve(string path, byte[] body, int status = StatusCodes.Status200OK) => _files[path] = (status, body);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
