using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace HarborPortal.HarborSimulator;

/// <summary>
/// A Harbor v2.x stand-in on a loopback port: <see cref="StartAsync"/> it, point a client at <see cref="BaseAddress"/>,
/// change its state or inject faults while the test runs, dispose it at the end.
/// </summary>
public sealed partial class HarborSimulator : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly SimulatorState _state;
    private readonly HarborSimulatorOptions _options;
    private readonly SimulatorCertificates? _certificates;
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentQueue<SimulatedRequest> _requests = new();
    private int _inFlight;
    private int _maxInFlight;

    private HarborSimulator(WebApplication app, SimulatorState state, HarborSimulatorOptions options, SimulatorCertificates? certificates)
    {
        _app = app;
        _state = state;
        _options = options;
        _certificates = certificates;
    }

    /// <summary>The server's root, e.g. <c>https://127.0.0.1:41234/</c>; the API lives under <c>api/v2.0/</c>.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>The generated CA in PEM (null over HTTP): what an admin would upload for a Harbor with a private CA.</summary>
    public string? CaCertificatePem => _certificates?.Ca.ExportCertificatePem();

    /// <summary>Faults to inject into the following requests.</summary>
    public SimulatorFaults Faults { get; } = new();

    /// <summary>The most requests that were being handled at once since start or <see cref="ResetStatistics"/>.</summary>
    public int MaxConcurrentRequests => Volatile.Read(ref _maxInFlight);

    /// <summary>Requests received since start or <see cref="ResetStatistics"/>, oldest first.</summary>
    public IReadOnlyList<SimulatedRequest> Requests => [.. _requests];

    public string RobotPrefix
    {
        get { lock (_gate) { return _state.RobotPrefix; } }
    }

    public static async Task<HarborSimulator> StartAsync(HarborSimulatorOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new HarborSimulatorOptions();
        var state = options.State ?? SimulatorState.Load(options.Scenario);
        var certificates = options.Https ? SimulatorCertificates.Create() : null;

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, options.Port, listen =>
        {
            if (certificates is not null)
            {
                listen.UseHttps(certificates.Server);
            }
        }));
        var app = builder.Build();
        var simulator = new HarborSimulator(app, state, options, certificates);
        app.Run(simulator.HandleAsync);
        await app.StartAsync(cancellationToken);

        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        simulator.BaseAddress = new Uri(address.TrimEnd('/') + "/");
        return simulator;
    }

    public void ResetStatistics()
    {
        _requests.Clear();
        Volatile.Write(ref _maxInFlight, Volatile.Read(ref _inFlight));
    }

    /// <summary>Changes the state under the simulator's lock (any change: add data, flip flags).</summary>
    public void Mutate(Action<SimulatorState> change)
    {
        lock (_gate)
        {
            change(_state);
        }
    }

    /// <summary>Reads the state under the simulator's lock.</summary>
    public T Read<T>(Func<SimulatorState, T> read)
    {
        lock (_gate)
        {
            return read(_state);
        }
    }

    /// <summary>Adds a robot; its login name is <see cref="RobotPrefix"/> + <see cref="SimRobot.Name"/>.</summary>
    public SimRobot AddRobot(SimRobot robot)
    {
        lock (_gate)
        {
            if (robot.Id == 0)
            {
                robot.Id = _state.Robots.Count == 0 ? 1 : _state.Robots.Max(r => r.Id) + 1;
            }

            _state.Robots.Add(robot);
            return robot;
        }
    }

    /// <summary>Makes a robot expired (expires_at one minute ago).</summary>
    public void ExpireRobot(string storedName) =>
        Mutate(s => FindRobot(s, storedName).ExpiresAt = DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeSeconds());

    public void DisableRobot(string storedName, bool disabled = true) => Mutate(s => FindRobot(s, storedName).Disable = disabled);

    public void SetProjectPublic(string projectName, bool isPublic) =>
        Mutate(s => (s.Projects.FirstOrDefault(p => p.Name == projectName) ?? throw new ArgumentException($"No project {projectName}.")).Public = isPublic);

    public SimProject AddProject(string name, bool isPublic = false)
    {
        lock (_gate)
        {
            var project = new SimProject { ProjectId = _state.Projects.Count == 0 ? 1 : _state.Projects.Max(p => p.ProjectId) + 1, Name = name, Public = isPublic, CreationTime = DateTimeOffset.UtcNow };
            _state.Projects.Add(project);
            return project;
        }
    }

    /// <summary>Adds a repository by its full name (<c>team/app/api</c>); the project must exist.</summary>
    public SimRepository AddRepository(string fullName)
    {
        lock (_gate)
        {
            var repository = new SimRepository { Id = _state.Repositories.Count == 0 ? 1 : _state.Repositories.Max(r => r.Id) + 1, Name = fullName, CreationTime = DateTimeOffset.UtcNow };
            if (_state.Projects.All(p => p.Name != repository.ProjectName))
            {
                throw new ArgumentException($"No project {repository.ProjectName}.");
            }

            _state.Repositories.Add(repository);
            return repository;
        }
    }

    /// <summary>Adds a scanned artifact with one tag; its report lists <paramref name="vulnerabilitySet"/> (none = clean).</summary>
    public SimArtifact AddArtifact(string repositoryFullName, string tag, string? vulnerabilitySet = null, string? scanStatus = "Success")
    {
        lock (_gate)
        {
            var id = _state.Artifacts.Count == 0 ? 1 : _state.Artifacts.Max(a => a.Id) + 1;
            var artifact = new SimArtifact
            {
                Id = id,
                Repository = repositoryFullName,
                Digest = "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes($"{repositoryFullName}:{tag}:{id}"))),
                Tags = [tag],
                PushTime = DateTimeOffset.UtcNow,
                ScanStatus = scanStatus,
                VulnerabilitySet = vulnerabilitySet,
                ScanStartTime = DateTimeOffset.UtcNow.AddSeconds(-5),
                ScanEndTime = DateTimeOffset.UtcNow,
            };
            _state.Artifacts.Add(artifact);
            return artifact;
        }
    }

    private static SimRobot FindRobot(SimulatorState state, string storedName) =>
        state.Robots.FirstOrDefault(r => r.Name == storedName) ?? throw new ArgumentException($"No robot {storedName}.");

    /// <summary>POSTs a webhook as Harbor's job service does: JSON, the policy's auth header verbatim, no signature, 3 s timeout.</summary>
    public static async Task<HttpStatusCode> SendWebhookAsync(Uri target, JsonNode payload, string? authHeader = null, bool cloudEvents = false, CancellationToken cancellationToken = default)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        using var request = new HttpRequestMessage(HttpMethod.Post, target)
        {
            Content = new StringContent(payload.ToJsonString(), Encoding.UTF8, cloudEvents ? "application/cloudevents+json" : "application/json"),
        };
        if (!string.IsNullOrEmpty(authHeader))
        {
            request.Headers.TryAddWithoutValidation("Authorization", authHeader);
        }

        using var response = await client.SendAsync(request, cancellationToken);
        return response.StatusCode;
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5)))
        {
            await _app.StopAsync(timeout.Token);
        }

        await _app.DisposeAsync();
        _certificates?.Dispose();
        _stopping.Dispose();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var inFlight = Interlocked.Increment(ref _inFlight);
        int seen;
        while (inFlight > (seen = Volatile.Read(ref _maxInFlight)) && Interlocked.CompareExchange(ref _maxInFlight, inFlight, seen) != seen)
        {
        }

        try
        {
            var rawTarget = context.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget;
            _requests.Enqueue(new SimulatedRequest(
                context.Request.Method,
                rawTarget,
                context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase)));
            var requestId = context.Request.Headers["X-Request-Id"].ToString();
            context.Response.Headers["X-Request-Id"] = string.IsNullOrEmpty(requestId) ? Guid.NewGuid().ToString() : requestId;

            var (delay, fault, status, retryAfter) = Faults.Next(context.Request.Path.Value ?? "/");
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, context.RequestAborted);
            }

            switch (fault)
            {
                case SimulatorFaults.FaultKind.Reset:
                    context.Abort();
                    return;
                case SimulatorFaults.FaultKind.Fail:
                    if (retryAfter is { } after)
                    {
                        context.Response.Headers.RetryAfter = ((int)Math.Ceiling(after.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                    }

                    await WriteAsync(context, ErrorForStatus(status));
                    return;
            }

            var reply = await RouteAsync(context, rawTarget);
            await WriteAsync(context, reply);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client gave up (its timeout); nothing left to answer.
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private static async Task WriteAsync(HttpContext context, Reply reply)
    {
        context.Response.StatusCode = reply.Status;
        foreach (var (name, value) in reply.Headers)
        {
            context.Response.Headers[name] = value;
        }

        if (reply.Text is not null)
        {
            context.Response.ContentType = "text/plain";
            await context.Response.WriteAsync(reply.Text);
        }
        else if (reply.Json is not null)
        {
            var isError = reply.Status >= 400;
            context.Response.ContentType = isError ? "application/json; charset=utf-8" : "application/json";
            await context.Response.WriteAsync(reply.Json.ToJsonString() + (isError ? "\n" : ""));
        }
        else
        {
            context.Response.ContentLength = 0;
        }
    }
}

/// <summary>A request as the simulator received it: method, raw target (path and query as sent), headers.</summary>
public sealed record SimulatedRequest(string Method, string RawTarget, IReadOnlyDictionary<string, string> Headers);
