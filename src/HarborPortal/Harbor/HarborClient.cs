using HarborPortal.Features.Operations;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Authentication;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Polly.Timeout;

namespace HarborPortal.Harbor;

/// <summary>
/// Harbor's REST API (<c>/api/v2.0</c>), one method per call. Every call takes the connection's settings (connections
/// are rows, not configuration) and returns a <see cref="HarborResult{T}"/>: a value, or an expected failure
/// (unreachable, TLS, timeout, 401, 403, 404, 5xx) with the message to show.
/// </summary>
public sealed partial class HarborClient(HarborHttpClients clients, PortalMetrics metrics, ILogger<HarborClient> logger)
{
    private const int PageSize = 100;

    // Bounds a Harbor whose X-Total-Count keeps growing, so a listing always ends.
    private const int MaxPages = 10_000;

    private static readonly HarborJsonContext Json = HarborJsonContext.Default;

    /// <summary>GET /ping: Harbor core is reachable (proves nothing about credentials).</summary>
    public async Task<HarborResult<string>> PingAsync(HarborConnectionSettings connection, CancellationToken cancellationToken = default)
    {
        var (response, failure) = await SendAsync(connection, HttpMethod.Get, "ping", null, cancellationToken);
        using (response)
        {
            return failure ?? HarborResult<string>.Success((await response!.Content.ReadAsStringAsync(cancellationToken)).Trim().Trim('"'));
        }
    }

    /// <summary>GET /systeminfo. Invalid credentials silently give the anonymous variant (no <c>external_url</c>, …).</summary>
    public Task<HarborResult<HarborSystemInfo>> GetSystemInfoAsync(HarborConnectionSettings connection, CancellationToken cancellationToken = default) =>
        GetAsync(connection, "systeminfo", Json.HarborSystemInfo, null, cancellationToken);

    /// <summary>GET /users/current. A robot gets no profile (Harbor answers 412): that is a success with <c>IsRobot</c>.</summary>
    public async Task<HarborResult<HarborCurrentUser>> GetCurrentUserAsync(HarborConnectionSettings connection, CancellationToken cancellationToken = default)
    {
        var (response, failure) = await SendAsync(connection, HttpMethod.Get, "users/current", null, cancellationToken, passThrough: HttpStatusCode.PreconditionFailed);
        using (response)
        {
            if (failure is not null)
            {
                return failure;
            }

            if (response!.StatusCode == HttpStatusCode.PreconditionFailed)
            {
                var error = await ReadErrorAsync(response, cancellationToken);
                return error?.Message?.Contains("robot", StringComparison.OrdinalIgnoreCase) == true
                    ? HarborResult<HarborCurrentUser>.Success(new HarborCurrentUser(null, IsRobot: true))
                    : new HarborUnexpectedResponse(412, error?.Code, error?.Message, RequestId(response));
            }

            var user = await ReadAsync(response, Json.HarborUser, cancellationToken);
            return HarborResult<HarborCurrentUser>.Success(new HarborCurrentUser(user, IsRobot: false));
        }
    }

    /// <summary>
    /// GET /users/current/permissions. <paramref name="scope"/> is <c>/system</c> or <c>/project/{id}</c> (ids only).
    /// Always needs a valid sign-in (401 otherwise), so with <c>/system</c> it is the reliable credential check.
    /// </summary>
    public async Task<HarborResult<IReadOnlyList<HarborPermission>>> GetCurrentPermissionsAsync(HarborConnectionSettings connection, string scope = "/system", bool relative = false, CancellationToken cancellationToken = default)
    {
        var path = $"users/current/permissions?scope={Uri.EscapeDataString(scope)}&relative={(relative ? "true" : "false")}";
        var result = await GetAsync(connection, path, Json.ListHarborPermission, null, cancellationToken);
        return result.IsSuccess ? HarborResult<IReadOnlyList<HarborPermission>>.Success(result.Value ?? []) : result.Failure!;
    }

    /// <summary>Every project the connection sees (all pages). <paramref name="query"/> is Harbor's <c>q</c> (e.g. <c>name=~team</c>).</summary>
    public Task<HarborResult<IReadOnlyList<HarborProject>>> ListProjectsAsync(HarborConnectionSettings connection, string? query = null, CancellationToken cancellationToken = default) =>
        ListAllAsync(connection, "projects", query is null ? "" : $"q={EncodeQuery(query)}", Json.ListHarborProject, null, cancellationToken);

    /// <summary>One project by name (<c>project:read</c>). A missing project is 403/401 for non-admins, as in Harbor.</summary>
    public Task<HarborResult<HarborProject>> GetProjectAsync(HarborConnectionSettings connection, string projectName, CancellationToken cancellationToken = default) =>
        GetAsync(connection, $"projects/{Uri.EscapeDataString(projectName)}", Json.HarborProject, "project:read", cancellationToken);

    /// <summary>Every repository of a project (all pages; <c>repository:list</c>). Names come back with the project prefix.</summary>
    public Task<HarborResult<IReadOnlyList<HarborRepository>>> ListRepositoriesAsync(HarborConnectionSettings connection, string projectName, CancellationToken cancellationToken = default) =>
        ListAllAsync(connection, $"projects/{Uri.EscapeDataString(projectName)}/repositories", "", Json.ListHarborRepository, "repository:list", cancellationToken);

    /// <summary>
    /// One page of the projects the connection sees, by name. <paramref name="nameContains"/> narrows it on Harbor's side
    /// (<c>q=name=~…</c>, a substring match), so a Harbor with thousands of projects is never listed whole.
    /// </summary>
    public Task<HarborResult<HarborPage<HarborProject>>> ListProjectsPageAsync(HarborConnectionSettings connection, int page, int pageSize, string? nameContains = null, CancellationToken cancellationToken = default) =>
        GetPageAsync(connection, "projects", $"with_detail=false&sort=name{NameFilter(nameContains)}", page, pageSize, Json.ListHarborProject, null, cancellationToken);

    /// <summary>
    /// One page of a project's repositories by name (<c>repository:list</c>); <paramref name="nameContains"/> is matched by
    /// Harbor against the full name (<c>team-a/payments/api</c>). Names come back with the project prefix.
    /// </summary>
    public Task<HarborResult<HarborPage<HarborRepository>>> ListRepositoriesPageAsync(HarborConnectionSettings connection, string projectName, int page, int pageSize, string? nameContains = null, CancellationToken cancellationToken = default) =>
        GetPageAsync(connection, $"projects/{Uri.EscapeDataString(projectName)}/repositories", $"sort=name{NameFilter(nameContains)}", page, pageSize, Json.ListHarborRepository, "repository:list", cancellationToken);

    /// <summary>
    /// Every artifact of a repository (all pages; <c>artifact:list</c>). <paramref name="repositoryName"/> is the name
    /// within the project (<see cref="HarborRepository.NameInProject"/>, e.g. <c>app/api</c>). A missing repository gives an empty list.
    /// </summary>
    public Task<HarborResult<IReadOnlyList<HarborArtifact>>> ListArtifactsAsync(HarborConnectionSettings connection, string projectName, string repositoryName, bool withScanOverview = true, CancellationToken cancellationToken = default) =>
        ListAllAsync(connection, ArtifactsPath(projectName, repositoryName), $"with_tag=true&with_scan_overview={(withScanOverview ? "true" : "false")}", Json.ListHarborArtifact, "artifact:list", cancellationToken);

    /// <summary>
    /// One artifact by digest or tag (<c>artifact:read</c>), with its tags and, when asked, its scan overview.
    /// <paramref name="repositoryName"/> is the name within the project. A missing artifact or repository is a
    /// <see cref="HarborNotFound"/>.
    /// </summary>
    public Task<HarborResult<HarborArtifact>> GetArtifactAsync(HarborConnectionSettings connection, string projectName, string repositoryName, string reference, bool withScanOverview = true, CancellationToken cancellationToken = default) =>
        GetAsync(connection, $"{ArtifactsPath(projectName, repositoryName)}/{Uri.EscapeDataString(reference)}?with_tag=true&with_scan_overview={(withScanOverview ? "true" : "false")}",
            Json.HarborArtifact, "artifact:read", cancellationToken);

    /// <summary>
    /// The vulnerability report of an artifact (<c>artifact-addition:read</c>), in whichever report type Harbor has;
    /// null when there is none yet (Harbor answers <c>{}</c>: never scanned, scan running, or no report in either type).
    /// </summary>
    public async Task<HarborResult<HarborVulnerabilityReport?>> GetVulnerabilityReportAsync(HarborConnectionSettings connection, string projectName, string repositoryName, string reference, CancellationToken cancellationToken = default)
    {
        var path = $"{ArtifactsPath(projectName, repositoryName)}/{Uri.EscapeDataString(reference)}/additions/vulnerabilities";
        var result = await GetAsync(connection, path, Json.DictionaryStringHarborVulnerabilityReport, "artifact-addition:read", cancellationToken);
        if (!result.IsSuccess)
        {
            return result.Failure!;
        }

        var reports = result.Value;
        var mime = reports is null ? null
            : reports.ContainsKey(HarborReportTypes.Generic11) ? HarborReportTypes.Generic11
            : reports.ContainsKey(HarborReportTypes.Native10) ? HarborReportTypes.Native10
            : reports.Keys.FirstOrDefault();
        return HarborResult<HarborVulnerabilityReport?>.Success(mime is null ? null : reports![mime] with { MimeType = mime });
    }

    /// <summary>POST …/scan (<c>scan:create</c>): Harbor accepts (202) and scans asynchronously; poll the artifact's overview.</summary>
    public async Task<HarborResult<bool>> ScanArtifactAsync(HarborConnectionSettings connection, string projectName, string repositoryName, string reference, CancellationToken cancellationToken = default)
    {
        var path = $"{ArtifactsPath(projectName, repositoryName)}/{Uri.EscapeDataString(reference)}/scan";
        var (response, failure) = await SendAsync(connection, HttpMethod.Post, path, "scan:create", cancellationToken);
        response?.Dispose();
        return failure ?? HarborResult<bool>.Success(true);
    }

    /// <summary>System robots (system <c>robot:list</c>, Harbor 2.12+ for robots).</summary>
    public Task<HarborResult<IReadOnlyList<HarborRobot>>> ListSystemRobotsAsync(HarborConnectionSettings connection, CancellationToken cancellationToken = default) =>
        ListAllAsync(connection, "robots", "", Json.ListHarborRobot, "robot:list", cancellationToken);

    /// <summary>Robots of one project, by numeric project id (<c>robot:list</c> on that project).</summary>
    public Task<HarborResult<IReadOnlyList<HarborRobot>>> ListProjectRobotsAsync(HarborConnectionSettings connection, int projectId, CancellationToken cancellationToken = default) =>
        ListAllAsync(connection, "robots", $"q={EncodeQuery($"Level=project,ProjectID={projectId.ToString(CultureInfo.InvariantCulture)}")}", Json.ListHarborRobot, "robot:list", cancellationToken);

    /// <summary>GET /system/scanAll/schedule; null = scan-all disabled (empty body). 412 means no scanner is configured.</summary>
    public Task<HarborResult<HarborSchedule>> GetScanAllScheduleAsync(HarborConnectionSettings connection, CancellationToken cancellationToken = default) =>
        GetAsync(connection, "system/scanAll/schedule", Json.HarborSchedule, "scan-all:read", cancellationToken);

    /// <summary>GET /system/gc/schedule; null = not scheduled (empty body).</summary>
    public Task<HarborResult<HarborGcSchedule>> GetGcScheduleAsync(HarborConnectionSettings connection, CancellationToken cancellationToken = default) =>
        GetAsync(connection, "system/gc/schedule", Json.HarborGcSchedule, "garbage-collection:read", cancellationToken);

    /// <summary>GET /retentions/{id}; the id is a project's <c>retention_id</c> metadata.</summary>
    public Task<HarborResult<HarborRetentionPolicy>> GetRetentionPolicyAsync(HarborConnectionSettings connection, long policyId, CancellationToken cancellationToken = default) =>
        GetAsync(connection, $"retentions/{policyId.ToString(CultureInfo.InvariantCulture)}", Json.HarborRetentionPolicy, "tag-retention:read", cancellationToken);

    /// <summary>GET /system/CVEAllowlist (any signed-in caller).</summary>
    public Task<HarborResult<HarborCveAllowlist>> GetSystemCveAllowlistAsync(HarborConnectionSettings connection, CancellationToken cancellationToken = default) =>
        GetAsync(connection, "system/CVEAllowlist", Json.HarborCveAllowlist, null, cancellationToken);

    /// <summary>GET /configurations: Harbor administrators only (robots always get 403).</summary>
    public Task<HarborResult<Dictionary<string, HarborConfigurationValue>>> GetConfigurationsAsync(HarborConnectionSettings connection, CancellationToken cancellationToken = default) =>
        GetAsync(connection, "configurations", Json.DictionaryStringHarborConfigurationValue, "Harbor administrator", cancellationToken);

    /// <summary>Every scanner registration (system <c>scanner:list</c>: administrators, or a robot granted it).</summary>
    public Task<HarborResult<IReadOnlyList<HarborScannerRegistration>>> ListScannersAsync(HarborConnectionSettings connection, CancellationToken cancellationToken = default) =>
        ListAllAsync(connection, "scanners", "", Json.ListHarborScannerRegistration, "scanner:list", cancellationToken);

    /// <summary>The scanner a project uses (its own or the system default; <c>scanner:read</c>); null = no scanner (empty body).</summary>
    public Task<HarborResult<HarborScannerRegistration>> GetProjectScannerAsync(HarborConnectionSettings connection, string projectName, CancellationToken cancellationToken = default) =>
        GetAsync(connection, $"projects/{Uri.EscapeDataString(projectName)}/scanner", Json.HarborScannerRegistration, "scanner:read", cancellationToken);

    /// <summary>A repository name as Harbor wants it in a path: encoded twice (<c>app/api</c> → <c>app%252Fapi</c>, §1.8).</summary>
    public static string EncodeRepositoryName(string repositoryName) => Uri.EscapeDataString(Uri.EscapeDataString(repositoryName));

    private static string ArtifactsPath(string projectName, string repositoryName) =>
        $"projects/{Uri.EscapeDataString(projectName)}/repositories/{EncodeRepositoryName(repositoryName)}/artifacts";

    // Harbor decodes q a second time: encode for HTTP, after pre-encoding what must survive that second decode (§1.7).
    private static string EncodeQuery(string query) => Uri.EscapeDataString(query.Replace("%", "%25", StringComparison.Ordinal).Replace("+", "%2B", StringComparison.Ordinal));

    private async Task<HarborResult<T>> GetAsync<T>(HarborConnectionSettings connection, string path, JsonTypeInfo<T> type, string? permission, CancellationToken cancellationToken)
    {
        var (response, failure) = await SendAsync(connection, HttpMethod.Get, path, permission, cancellationToken);
        using (response)
        {
            return failure ?? HarborResult<T>.Success((await ReadAsync(response!, type, cancellationToken))!);
        }
    }

    private static string NameFilter(string? nameContains) =>
        string.IsNullOrEmpty(nameContains) ? "" : $"&q={EncodeQuery("name=~" + nameContains)}";

    private async Task<HarborResult<HarborPage<T>>> GetPageAsync<T>(
        HarborConnectionSettings connection, string path, string query, int page, int pageSize, JsonTypeInfo<List<T>> type, string? permission, CancellationToken cancellationToken)
    {
        page = Math.Max(page, 1);
        pageSize = Math.Clamp(pageSize, 1, PageSize);
        var target = $"{path}?{query}&page={page.ToString(CultureInfo.InvariantCulture)}&page_size={pageSize.ToString(CultureInfo.InvariantCulture)}";
        var (response, failure) = await SendAsync(connection, HttpMethod.Get, target, permission, cancellationToken);
        using (response)
        {
            if (failure is not null)
            {
                return failure;
            }

            var items = await ReadAsync(response!, type, cancellationToken) ?? [];
            // Harbor always sends X-Total-Count; without it, what this page proves (one more when it is full).
            var total = response!.Headers.TryGetValues("X-Total-Count", out var values)
                && long.TryParse(values.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var count)
                ? count
                : ((long)(page - 1) * pageSize) + items.Count + (items.Count == pageSize ? 1 : 0);
            return HarborResult<HarborPage<T>>.Success(new HarborPage<T>(items, total, page, pageSize));
        }
    }

    // Pages with page/page_size until X-Total-Count is reached; never follows Link, whose query is unescaped and whose host is Harbor's view of itself.
    private async Task<HarborResult<IReadOnlyList<T>>> ListAllAsync<T>(HarborConnectionSettings connection, string path, string query, JsonTypeInfo<List<T>> type, string? permission, CancellationToken cancellationToken)
    {
        var all = new List<T>();
        for (var page = 1; page <= MaxPages; page++)
        {
            var target = $"{path}?{(query.Length > 0 ? query + "&" : "")}page={page.ToString(CultureInfo.InvariantCulture)}&page_size={PageSize.ToString(CultureInfo.InvariantCulture)}";
            var (response, failure) = await SendAsync(connection, HttpMethod.Get, target, permission, cancellationToken);
            using (response)
            {
                if (failure is not null)
                {
                    return failure;
                }

                var items = await ReadAsync(response!, type, cancellationToken) ?? [];
                all.AddRange(items);
                var total = response!.Headers.TryGetValues("X-Total-Count", out var values)
                    && long.TryParse(values.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var count) ? count : (long?)null;
                if (items.Count == 0 || (total is { } t ? all.Count >= t : items.Count < PageSize))
                {
                    break;
                }
            }
        }

        return HarborResult<IReadOnlyList<T>>.Success(all);
    }

    private async Task<(HttpResponseMessage? Response, HarborFailure? Failure)> SendAsync(
        HarborConnectionSettings connection, HttpMethod method, string pathAndQuery, string? permission, CancellationToken cancellationToken, HttpStatusCode? passThrough = null)
    {
        if (connection.BaseUrl.Scheme == Uri.UriSchemeHttp && !connection.AllowInsecureHttp)
        {
            return (null, new HarborInsecureUrlRefused(connection.BaseUrl));
        }

        var entry = clients.Get(connection);
        using var request = new HttpRequestMessage(method, "api/v2.0/" + pathAndQuery);

        // Harbor never challenges (no WWW-Authenticate), so the credentials go with every request.
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{connection.UserName}:{connection.Secret}")));
        request.Headers.Add("X-Is-Resource-Name", "true");
        request.Headers.Add("X-Accept-Vulnerabilities", HarborReportTypes.AcceptBoth);

        HttpResponseMessage response;
        try
        {
            response = await entry.Client.SendAsync(request, cancellationToken);
        }
        catch (TimeoutRejectedException)
        {
            return Failed(new HarborTimedOut(connection.Timeout));
        }
        catch (HttpRequestException exception) when (exception.InnerException is AuthenticationException)
        {
            return Failed(new HarborTlsFailure(entry.Tls.LastFailure ?? exception.InnerException.Message));
        }
        catch (HttpRequestException exception)
        {
            return Failed(new HarborUnreachable(exception.HttpRequestError switch
            {
                HttpRequestError.NameResolutionError => $"the host name {connection.BaseUrl.Host} does not resolve (DNS).",
                HttpRequestError.ConnectionError => $"no connection to {connection.BaseUrl.Authority} ({exception.Message}).",
                HttpRequestError.SecureConnectionError => $"the TLS handshake failed ({exception.Message}); is this an HTTPS port?",
                HttpRequestError.InvalidResponse => $"the answer is not HTTP ({exception.Message}); does the URL's scheme match the server (http/https)?",
                _ => $"the connection failed ({exception.Message}).",
            }));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Failed(new HarborTimedOut(connection.Timeout));
        }

        if (response.IsSuccessStatusCode || response.StatusCode == passThrough)
        {
            return (response, null);
        }

        using (response)
        {
            var status = (int)response.StatusCode;
            var error = status is >= 300 and < 400 ? null : await ReadErrorAsync(response, cancellationToken);
            var requestId = RequestId(response);
            return Failed(status switch
            {
                >= 300 and < 400 => new HarborRedirected(status, response.Headers.Location, requestId),
                401 => new HarborUnauthorized(error?.Code, error?.Message, requestId),
                403 => new HarborForbidden(error?.Code == "FORBIDDEN" ? permission : null, error?.Code, error?.Message, requestId),
                404 => new HarborNotFound(error?.Code, error?.Message, requestId),
                >= 500 => new HarborServerError(status, error?.Code, error?.Message, requestId),
                _ => new HarborUnexpectedResponse(status, error?.Code, error?.Message, requestId),
            });
        }

        (HttpResponseMessage?, HarborFailure?) Failed(HarborFailure failure)
        {
            // Only the method, the path and the outcome: never headers, so never the Authorization header.
            Log.CallFailed(logger, method.Method, connection.BaseUrl.Authority, pathAndQuery.Split('?')[0], failure.Message);
            metrics.HarborCallFailed(connection.BaseUrl.Authority, failure);
            return (null, failure);
        }
    }

    private static string? RequestId(HttpResponseMessage response) =>
        response.Headers.TryGetValues("X-Request-Id", out var values) ? values.FirstOrDefault() : null;

    // Harbor answers some reads with 200 and no body at all (unset schedules): that reads as null.
    private static async Task<T?> ReadAsync<T>(HttpResponseMessage response, JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        return body.Length == 0 || body.AsSpan().Trim(" \r\n\t"u8).IsEmpty ? default : JsonSerializer.Deserialize(body, type);
    }

    private static async Task<HarborErrorItem?> ReadErrorAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            return (await ReadAsync(response, Json.HarborErrorEnvelope, cancellationToken))?.Errors?.FirstOrDefault();
        }
        catch (JsonException)
        {
            // A proxy's HTML error page, not Harbor's envelope.
            return null;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Harbor {Method} {Host}/api/v2.0/{Path} failed: {Failure}")]
        public static partial void CallFailed(ILogger logger, string method, string host, string path, string failure);
    }
}
