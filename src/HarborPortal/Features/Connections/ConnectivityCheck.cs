using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using HarborPortal.Harbor;
using Microsoft.Extensions.Options;
using ClientAuthKind = HarborPortal.Harbor.HarborAuthKind;

namespace HarborPortal.Features.Connections;

/// <summary>How a step ended: passed (✓), failed (✗), skipped after a blocking failure, or informational.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<CheckOutcome>))]
public enum CheckOutcome
{
    Passed,
    Failed,
    Skipped,
    Info,
}

/// <summary>One line of the checklist. <see cref="Hint"/> is the specific fix, on failures only.</summary>
public sealed record CheckStep(string Name, CheckOutcome Outcome, long DurationMs, string Detail, string? Hint = null)
{
    /// <summary>True for ✓, false for ✗, null for skipped and informational steps.</summary>
    public bool? Ok => Outcome switch
    {
        CheckOutcome.Passed => true,
        CheckOutcome.Failed => false,
        _ => null,
    };
}

/// <summary>What a run found: the steps in order, and whether none failed.</summary>
public sealed record ConnectivityReport(IReadOnlyList<CheckStep> Steps)
{
    public bool Ok => Steps.Count > 0 && Steps.All(s => s.Outcome != CheckOutcome.Failed);

    /// <summary>One line for the list: the first failing step and its hint, or who the portal is signed in as.</summary>
    public string Summary => Steps.FirstOrDefault(s => s.Outcome == CheckOutcome.Failed) is { } failed
        ? $"{failed.Name}: {failed.Hint ?? failed.Detail}"
        : Steps.FirstOrDefault(s => s.Name == ConnectivityCheck.Steps.Authentication)?.Detail ?? "All checks passed.";
}

/// <summary>The connection under test: the client's settings plus what the checklist needs to explain failures.</summary>
public sealed record ConnectivityTarget(HarborConnectionSettings Settings, string RobotPrefix = HarborConnection.DefaultRobotPrefix);

/// <summary>
/// Verifies a connection step by step, each proving one thing the portal needs, and says the specific fix when one
/// fails. Harbor does not fail loudly on bad credentials (anonymous 200s, a robot's 412), so authentication is proven
/// explicitly and each permission is probed with a real read.
/// </summary>
public sealed class ConnectivityCheck(HarborClient client, OutboundAllowList allowList, IOptions<HarborClientOptions> clientOptions)
{
    private HarborClient Client => client;

    private OutboundAllowList AllowList => allowList;

    private int MaxAttempts => clientOptions.Value.MaxAttempts;

    /// <summary>Step names, in order.</summary>
    public static class Steps
    {
        public const string DnsTcp = "DNS and TCP";
        public const string Tls = "TLS";
        public const string Ping = "Ping";
        public const string SystemInfo = "System info";
        public const string Authentication = "Authentication";
        public const string Projects = "List projects";
        public const string Repositories = "List repositories";
        public const string Artifacts = "List artifacts with scan overview";
        public const string Report = "Read a vulnerability report";
        public const string Scan = "Scan permission";

        public static readonly IReadOnlyList<string> All = [DnsTcp, Tls, Ping, SystemInfo, Authentication, Projects, Repositories, Artifacts, Report, Scan];
    }

    /// <summary>Runs every step in order; <paramref name="progress"/> gets the steps so far after each one (for live display).</summary>
    public async Task<ConnectivityReport> RunAsync(ConnectivityTarget target, Func<IReadOnlyList<CheckStep>, Task>? progress = null, CancellationToken cancellationToken = default)
    {
        var run = new Run(this, target, progress, cancellationToken);
        await run.ExecuteAsync();
        return new ConnectivityReport(run.Results);
    }

    private sealed class Run(ConnectivityCheck check, ConnectivityTarget target, Func<IReadOnlyList<CheckStep>, Task>? progress, CancellationToken cancellationToken)
    {
        private readonly HarborConnectionSettings _settings = target.Settings;
        private readonly HarborClient _client = check.Client;
        private HarborProject? _project;
        private HarborRepository? _repository;
        private HarborArtifact? _artifact;

        public List<CheckStep> Results { get; } = [];

        private Uri Url => _settings.BaseUrl;

        private string Seconds => _settings.Timeout.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture);

        public async Task ExecuteAsync()
        {
            (string Name, Func<Task<StepResult>> Body)[] steps =
            [
                (Steps.DnsTcp, DnsTcpAsync),
                (Steps.Tls, TlsAsync),
                (Steps.Ping, PingAsync),
                (Steps.SystemInfo, SystemInfoAsync),
                (Steps.Authentication, AuthenticationAsync),
                (Steps.Projects, ProjectsAsync),
                (Steps.Repositories, RepositoriesAsync),
                (Steps.Artifacts, ArtifactsAsync),
                (Steps.Report, ReportAsync),
                (Steps.Scan, ScanAsync),
            ];

            string? blockedBy = null;
            foreach (var (name, body) in steps)
            {
                if (blockedBy is not null)
                {
                    Results.Add(new CheckStep(name, CheckOutcome.Skipped, 0, $"Skipped: \"{blockedBy}\" did not pass."));
                    continue;
                }

                var watch = Stopwatch.StartNew();
                StepResult result;
                try
                {
                    result = await body();
                }
                catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    // An unexpected failure is still a red step with what happened, not a lost run.
                    result = StepResult.Fail($"Unexpected error: {exception.GetType().Name}: {exception.Message}", "Retry; if it persists, the portal's log has the details.", blocks: true);
                }

                Results.Add(new CheckStep(name, result.Outcome, watch.ElapsedMilliseconds, result.Detail, result.Hint));
                if (result.Blocks)
                {
                    blockedBy = name;
                }

                if (progress is not null)
                {
                    await progress(Results.ToList());
                }
            }
        }

        private async Task<StepResult> DnsTcpAsync()
        {
            var host = Url.IdnHost.Trim('[', ']');
            if (await check.AllowList.CheckAsync(Url.ToString(), cancellationToken) is { } refused)
            {
                return StepResult.Fail(refused, "Ask the portal's operator to add this host or its network to Connections:AllowedTargets, or use an allowed address.", blocks: true);
            }

            IPAddress[] addresses;
            using (var dnsTimeout = Timeout())
            {
                try
                {
                    addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, dnsTimeout.Token);
                }
                catch (SocketException exception)
                {
                    return StepResult.Fail($"{host} does not resolve: {exception.SocketErrorCode}.", $"Check the host name for typos; a name that only resolves inside another network (VPN, split DNS) must resolve from the portal's host too.", blocks: true);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    return StepResult.Fail($"Resolving {host} took longer than {Seconds} s.", "The portal's DNS server does not answer: check the host's resolver configuration.", blocks: true);
                }
            }

            if (addresses.Length == 0)
            {
                return StepResult.Fail($"{host} resolves to no address.", "Check the host name and its DNS records.", blocks: true);
            }

            // The allow-list again at connect time: the name may resolve elsewhere now than when the connection was saved.
            var allowed = addresses.Where(check.AllowList.IsAllowed).ToList();
            if (allowed.Count == 0)
            {
                return StepResult.Fail($"{host} resolves to {string.Join(", ", addresses.Select(a => a.ToString()))}, none of them in Connections:AllowedTargets.", "Ask the portal's operator to allow this network, or use an allowed address.", blocks: true);
            }

            var port = Url.Port;
            string? lastError = null;
            foreach (var address in allowed)
            {
                using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                using var timeout = Timeout();
                try
                {
                    await socket.ConnectAsync(address, port, timeout.Token);
                    return StepResult.Pass($"{host} → {address}; TCP port {port} accepts connections.");
                }
                catch (SocketException exception)
                {
                    lastError = exception.SocketErrorCode == SocketError.ConnectionRefused
                        ? $"{address}:{port} refused the connection"
                        : $"{address}:{port}: {exception.SocketErrorCode}";
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    lastError = $"{address}:{port} did not accept a connection within {Seconds} s";
                }
            }

            return StepResult.Fail($"{host} resolves ({string.Join(", ", allowed)}), but {lastError}.",
                $"Nothing answers on port {port}: check the port in the URL (Harbor usually serves HTTPS on 443, HTTP on 80) and any firewall between the portal and Harbor.",
                blocks: true);
        }

        private async Task<StepResult> TlsAsync()
        {
            var host = Url.IdnHost.Trim('[', ']');
            if (Url.Scheme == Uri.UriSchemeHttp)
            {
                // Plain HTTP given: find out whether this port actually speaks TLS (nothing is sent over it but a ClientHello).
                if (await SpeaksTlsAsync(host, Url.Port))
                {
                    return StepResult.Fail($"{Url.Authority} answers with TLS: this Harbor serves HTTPS on this port, not plain HTTP.",
                        $"Use https://{Url.Authority} (and upload the private CA if its certificate is not publicly trusted).", blocks: true);
                }

                return _settings.AllowInsecureHttp
                    ? StepResult.Info("Plain HTTP (allowed for this connection): no TLS, so credentials and reports cross the network unencrypted.")
                    : StepResult.Fail($"{Url} uses plain HTTP and this connection does not allow it; nothing was sent.",
                        "Use https:// if Harbor serves it; for a staging registry on a trusted network, tick \"Allow HTTP (insecure)\".", blocks: true);
            }

            var validator = new HarborTlsValidator(HarborHttpClients.LoadRoots(_settings.CaCertificatePem));
            X509Certificate2? presented = null;
            using var tcp = new TcpClient();
            using var timeout = Timeout();
            try
            {
                await tcp.ConnectAsync(host, Url.Port, timeout.Token);
                await using var ssl = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false);
                await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                {
                    TargetHost = host,
                    RemoteCertificateValidationCallback = (sender, certificate, chain, errors) =>
                    {
                        presented = certificate is null ? null : X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
                        return validator.Validate(sender, certificate, chain, errors);
                    },
                }, timeout.Token);
                return StepResult.Pass(Describe(presented!));
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return StepResult.Fail($"The TLS handshake did not finish within {Seconds} s.", $"Harbor did not answer within {Seconds} s: check that this port serves HTTPS and that nothing in between drops the traffic.", blocks: true);
            }
            catch (Exception exception) when (exception is AuthenticationException or IOException or SocketException)
            {
                if (presented is null)
                {
                    // No certificate ever arrived: the server did not speak TLS at all.
                    return await SpeaksPlainHttpAsync(host, Url.Port)
                        ? StepResult.Fail($"The TLS handshake failed: {Url.Authority} answers in plain HTTP.", $"This Harbor speaks plain HTTP: use http://{Url.Authority} and allow insecure HTTP (or enable HTTPS on Harbor).", blocks: true)
                        : StepResult.Fail($"The TLS handshake failed: {exception.Message}", "Check that this port serves HTTPS (Harbor's https port, usually 443).", blocks: true);
                }

                var problem = validator.LastFailure ?? exception.Message;
                var hint = problem.Contains("name mismatch", StringComparison.Ordinal)
                    ? $"Use the host name the certificate was issued for ({Names(presented)}) in the URL."
                    : problem.Contains("NotTimeValid", StringComparison.Ordinal)
                        ? $"Harbor's certificate is outside its validity ({presented.NotBefore:yyyy-MM-dd} to {presented.NotAfter:yyyy-MM-dd}): renew it on Harbor."
                        : string.IsNullOrWhiteSpace(_settings.CaCertificatePem)
                            ? "Upload the private CA (PEM) that signed Harbor's certificate under \"Advanced\" on this connection."
                            : "The uploaded CA did not sign this certificate: upload the CA that issued Harbor's certificate (the whole chain if there is an intermediate).";
                return StepResult.Fail($"Certificate {presented.Subject} (issuer {presented.Issuer}) is not trusted: {problem}", hint, blocks: true);
            }
            finally
            {
                presented?.Dispose();
            }
        }

        private async Task<StepResult> PingAsync()
        {
            var result = await _client.PingAsync(_settings, cancellationToken);
            return result.IsSuccess ? StepResult.Pass($"Harbor answers: {result.Value}") : FromFailure(result.Failure!, blocks: true);
        }

        private async Task<StepResult> SystemInfoAsync()
        {
            var result = await _client.GetSystemInfoAsync(_settings, cancellationToken);
            if (!result.IsSuccess)
            {
                return FromFailure(result.Failure!, blocks: IsTransport(result.Failure!));
            }

            var info = result.Value;
            return StepResult.Pass(info?.HarborVersion is { Length: > 0 } version
                ? $"Harbor {version}; authentication mode {info.AuthMode ?? "unknown"}."
                : "Harbor answers, but shows no version (it shows it to signed-in callers only; see Authentication).");
        }

        private async Task<StepResult> AuthenticationAsync()
        {
            var current = await _client.GetCurrentUserAsync(_settings, cancellationToken);
            if (!current.IsSuccess)
            {
                return current.Failure is HarborUnauthorized ? Unauthorized() : FromFailure(current.Failure!, blocks: true);
            }

            if (current.Value!.User is { } user)
            {
                return StepResult.Pass($"Signed in as the Harbor user \"{user.Username}\"{(user.SysadminFlag ? " (Harbor administrator)" : "")}.");
            }

            // 412 is Harbor's answer to a robot only (anonymous gets 401): the robot is signed in. Its permissions prove it again.
            var permissions = await _client.GetCurrentPermissionsAsync(_settings, "/system", cancellationToken: cancellationToken);
            if (!permissions.IsSuccess)
            {
                return permissions.Failure is HarborUnauthorized ? Unauthorized() : FromFailure(permissions.Failure!, blocks: true);
            }

            var detail = new StringBuilder($"Signed in as the robot \"{_settings.UserName}\" ({permissions.Value!.Count} system permission{(permissions.Value.Count == 1 ? "" : "s")})");
            detail.Append(await RobotExpiryAsync());
            return StepResult.Pass(detail.ToString());
        }

        private async Task<string> RobotExpiryAsync()
        {
            var name = _settings.UserName;
            var stored = name.StartsWith(target.RobotPrefix, StringComparison.Ordinal) ? name[target.RobotPrefix.Length..] : name;
            var plus = stored.IndexOf('+', StringComparison.Ordinal);
            HarborResult<IReadOnlyList<HarborRobot>> robots;
            if (plus > 0)
            {
                var project = await _client.GetProjectAsync(_settings, stored[..plus], cancellationToken);
                if (!project.IsSuccess)
                {
                    return "; its expiry is not visible to it (Harbor shows it with robot:list on the project).";
                }

                robots = await _client.ListProjectRobotsAsync(_settings, project.Value!.ProjectId, cancellationToken);
            }
            else
            {
                robots = await _client.ListSystemRobotsAsync(_settings, cancellationToken);
            }

            if (!robots.IsSuccess || robots.Value!.FirstOrDefault(r => r.Name == name) is not { } robot)
            {
                return "; its expiry is not visible to it (Harbor shows it with robot:list/robot:read).";
            }

            if (robot.ExpiresAtTime is not { } expires)
            {
                return "; it never expires.";
            }

            var days = (int)Math.Floor((expires - DateTimeOffset.UtcNow).TotalDays);
            return $"; it expires {expires.UtcDateTime:yyyy-MM-dd} ({days} day{(days == 1 ? "" : "s")} left{(days < 14 ? ": refresh its secret or extend it before then" : "")}).";
        }

        private StepResult Unauthorized()
        {
            var name = _settings.UserName;
            if (_settings.AuthKind == ClientAuthKind.Robot && !name.StartsWith(target.RobotPrefix, StringComparison.Ordinal))
            {
                var suggestion = target.RobotPrefix + name;
                return StepResult.Fail($"Harbor treated \"{name}\" as anonymous (HTTP 401): robots sign in with their full name, prefix \"{target.RobotPrefix}\" included.",
                    $"Use the robot's full name \"{suggestion}\" as the user name (Harbor shows it under Robot Accounts).", blocks: true);
            }

            return _settings.AuthKind == ClientAuthKind.Robot
                ? StepResult.Fail($"Harbor treated \"{name}\" as anonymous (HTTP 401): the secret is wrong, or the robot has expired or is disabled.",
                    "Wrong or expired secret: robots expire — the test passed yesterday, the sync 401s today. In Harbor (Robot Accounts) check the robot's expiry and that it is enabled, refresh its secret, and rotate it here.", blocks: true)
                : StepResult.Fail($"Harbor treated \"{name}\" as anonymous (HTTP 401): the password is wrong or the account cannot sign in with a password.",
                    "Wrong or expired password: check it by signing in to Harbor's web UI with it (OIDC/LDAP users need a CLI secret or a robot account instead), then rotate it here.", blocks: true);
        }

        private async Task<StepResult> ProjectsAsync()
        {
            var result = await _client.ListProjectsAsync(_settings, cancellationToken: cancellationToken);
            if (!result.IsSuccess)
            {
                return FromFailure(result.Failure!, blocks: true);
            }

            var projects = result.Value!;
            var privateProjects = projects.Where(p => !p.IsPublic).ToList();
            // Public projects prove nothing about permissions (anyone reads them): probe a private one with content when there is one.
            _project = privateProjects.FirstOrDefault(p => p.RepoCount > 0) ?? projects.FirstOrDefault(p => p.RepoCount > 0) ?? privateProjects.FirstOrDefault() ?? projects.FirstOrDefault();
            var detail = $"{projects.Count} project{(projects.Count == 1 ? "" : "s")} visible, {privateProjects.Count} private{(privateProjects.Count > 0 ? ": " + string.Join(", ", privateProjects.Take(5).Select(p => p.Name)) + (privateProjects.Count > 5 ? ", …" : "") : "")}.";
            if (privateProjects.Count == 0)
            {
                return StepResult.Fail(detail + " Only public projects are visible, as to an anonymous caller.",
                    _settings.AuthKind == ClientAuthKind.Robot
                        ? "The robot covers no private project: either a project robot in an empty or deleted project, or a system robot missing the \"*\" project selector (Harbor: Robot Accounts → edit → Projects: select all / \"*\")."
                        : "The user is a member of no private project: add it to the projects the portal should read.",
                    blocks: false);
            }

            return StepResult.Pass(detail);
        }

        private async Task<StepResult> RepositoriesAsync()
        {
            if (_project is null)
            {
                return StepResult.Info("No project visible: nothing to list.", blocks: true);
            }

            var result = await _client.ListRepositoriesAsync(_settings, _project.Name, cancellationToken);
            if (!result.IsSuccess)
            {
                return FromFailure(result.Failure!, blocks: true, permission: "repository:list");
            }

            var repositories = result.Value!;
            _repository = repositories.FirstOrDefault(r => r.ArtifactCount > 0) ?? repositories.FirstOrDefault();
            return _repository is null
                ? StepResult.Info($"Project {_project.Name} has no repositories yet: the artifact and report reads cannot be probed.", blocks: true)
                : StepResult.Pass($"{repositories.Count} repositor{(repositories.Count == 1 ? "y" : "ies")} in {(_project.IsPublic ? "public" : "private")} project {_project.Name}, e.g. {_repository.Name}.");
        }

        private async Task<StepResult> ArtifactsAsync()
        {
            var result = await _client.ListArtifactsAsync(_settings, _project!.Name, _repository!.NameInProject, withScanOverview: true, cancellationToken);
            if (!result.IsSuccess)
            {
                return FromFailure(result.Failure!, blocks: true, permission: "artifact:list");
            }

            var artifacts = result.Value!;
            _artifact = artifacts.FirstOrDefault(a => a.Overview?.ScanStatus == "Success") ?? artifacts.FirstOrDefault();
            var scanned = artifacts.Count(a => a.Overview is not null);
            return _artifact is null
                ? StepResult.Info($"{_repository.Name} has no artifacts: no report to read.", blocks: true)
                : StepResult.Pass($"{artifacts.Count} artifact{(artifacts.Count == 1 ? "" : "s")} in {_repository.Name}, {scanned} with a scan overview.");
        }

        private async Task<StepResult> ReportAsync()
        {
            var reference = $"{_repository!.Name}@{_artifact!.Digest[..Math.Min(_artifact.Digest.Length, 19)]}…";
            var result = await _client.GetVulnerabilityReportAsync(_settings, _project!.Name, _repository.NameInProject, _artifact.Digest, cancellationToken);
            if (!result.IsSuccess)
            {
                return result.Failure is HarborForbidden
                    ? StepResult.Fail($"Harbor refused the vulnerability report of {reference} (HTTP 403).",
                        "The robot lacks artifact-addition read: in Harbor (Robot Accounts → edit → permissions) grant \"Artifact Addition: Read\"; without it every vulnerability report is refused.", blocks: false)
                    : FromFailure(result.Failure!, blocks: false);
            }

            return result.Value is { } report
                ? StepResult.Pass($"Read the report of {reference}: {report.Vulnerabilities?.Count ?? 0} vulnerabilities ({report.MimeType}).")
                : StepResult.Info($"The report of {reference} is readable but empty: the artifact has not been scanned yet.");
        }

        private async Task<StepResult> ScanAsync()
        {
            var result = await _client.GetCurrentPermissionsAsync(_settings, $"/project/{_project!.ProjectId.ToString(CultureInfo.InvariantCulture)}", relative: true, cancellationToken);
            if (!result.IsSuccess)
            {
                return StepResult.Info($"Could not read the permissions on {_project.Name}: {result.Failure!.Message}");
            }

            var canScan = result.Value!.Any(p => p.Action == "create" && p.Resource.EndsWith("scan", StringComparison.Ordinal));
            return StepResult.Info(canScan
                ? $"Can trigger scans in {_project.Name} (scan:create)."
                : $"Cannot trigger scans in {_project.Name} (no scan:create): the portal reads existing results only. Grant \"Scan: Create\" if it should start scans.");
        }

        private StepResult FromFailure(HarborFailure failure, bool blocks, string? permission = null) => failure switch
        {
            HarborUnauthorized => Unauthorized(),
            HarborInsecureUrlRefused => StepResult.Fail(failure.Message, "Use https:// if Harbor serves it; for a staging registry on a trusted network, tick \"Allow HTTP (insecure)\".", blocks: true),
            HarborTlsFailure => StepResult.Fail(failure.Message, "Upload the private CA (PEM) that signed Harbor's certificate under \"Advanced\" on this connection.", blocks: true),
            HarborTimedOut => StepResult.Fail(failure.Message, $"Harbor did not answer within {Seconds} s (each of {check.MaxAttempts} attempts): check Harbor's load and health, and any proxy or firewall in between.", blocks: true),
            HarborUnreachable unreachable when unreachable.Reason.Contains("scheme", StringComparison.Ordinal) || unreachable.Reason.Contains("HTTPS port", StringComparison.Ordinal) =>
                StepResult.Fail(failure.Message, "The URL's scheme does not match the server: an HTTPS-only Harbor needs https://, a plain-HTTP one http:// with insecure HTTP allowed.", blocks: true),
            HarborUnreachable => StepResult.Fail(failure.Message, "Check that Harbor is running and reachable from the portal's host (address, port, firewall, proxy).", blocks: true),
            HarborRedirected redirected => StepResult.Fail(failure.Message, redirected.Location?.Scheme == Uri.UriSchemeHttps
                ? $"Harbor redirects to HTTPS: use https://{redirected.Location.Authority}."
                : "Use the URL Harbor redirects to.", blocks: true),
            HarborUnexpectedResponse { Status: 400 } bad when bad.HarborMessage?.Contains("HTTPS", StringComparison.OrdinalIgnoreCase) == true || bad.HarborMessage is null =>
                StepResult.Fail(failure.Message, "An HTTPS-only Harbor was given an http:// URL (\"plain HTTP request was sent to HTTPS port\"): use https://.", blocks: true),
            HarborServerError server => StepResult.Fail(failure.Message, $"Harbor answered HTTP {server.Status} after {check.MaxAttempts} attempts: Harbor itself is failing (check its core, database and Redis logs{(server.RequestId is null ? "" : $"; request id {server.RequestId}")}).", blocks: true),
            HarborForbidden forbidden => StepResult.Fail(failure.Message, $"Grant the account {forbidden.RequiredPermission ?? permission ?? "the missing permission"} in Harbor (see docs/harbor.md for the least-privilege robot).", blocks),
            _ => StepResult.Fail(failure.Message, "Harbor answered something the portal did not expect: check the URL points at Harbor itself, not a proxy's page.", blocks),
        };

        private static bool IsTransport(HarborFailure failure) =>
            failure is HarborUnreachable or HarborTlsFailure or HarborTimedOut or HarborInsecureUrlRefused or HarborRedirected or HarborServerError;

        private CancellationTokenSource Timeout()
        {
            var source = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            source.CancelAfter(_settings.Timeout);
            return source;
        }

        private async Task<bool> SpeaksTlsAsync(string host, int port)
        {
            using var tcp = new TcpClient();
            using var timeout = Timeout();
            var certificateSeen = false;
            try
            {
                await tcp.ConnectAsync(host, port, timeout.Token);
                await using var ssl = new SslStream(tcp.GetStream());
                // Detection only: the handshake is abandoned as soon as a certificate arrives, and nothing is sent over it.
                await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                {
                    TargetHost = host,
                    RemoteCertificateValidationCallback = (_, _, _, _) =>
                    {
                        certificateSeen = true;
                        return false;
                    },
                }, timeout.Token);
            }
            catch (Exception exception) when (exception is AuthenticationException or IOException or SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                // A refused handshake is the expected end of the probe.
            }

            return certificateSeen;
        }

        private async Task<bool> SpeaksPlainHttpAsync(string host, int port)
        {
            using var tcp = new TcpClient();
            using var timeout = Timeout();
            try
            {
                await tcp.ConnectAsync(host, port, timeout.Token);
                var stream = tcp.GetStream();
                await stream.WriteAsync(Encoding.ASCII.GetBytes($"HEAD /api/v2.0/ping HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"), timeout.Token);
                var buffer = new byte[5];
                var read = await stream.ReadAtLeastAsync(buffer, 5, throwOnEndOfStream: false, timeout.Token);
                return read == 5 && Encoding.ASCII.GetString(buffer) == "HTTP/";
            }
            catch (Exception exception) when (exception is IOException or SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                return false;
            }
        }

        private static string Names(X509Certificate2 certificate)
        {
            var names = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().SelectMany(e => e.EnumerateDnsNames()).ToList();
            return names.Count > 0 ? string.Join(", ", names) : certificate.GetNameInfo(X509NameType.DnsName, forIssuer: false);
        }

        private static string Describe(X509Certificate2 certificate)
        {
            var days = (int)Math.Floor((certificate.NotAfter.ToUniversalTime() - DateTime.UtcNow).TotalDays);
            return $"Certificate {certificate.Subject}, issued by {certificate.Issuer}, valid until {certificate.NotAfter.ToUniversalTime():yyyy-MM-dd} ({days} day{(days == 1 ? "" : "s")} left{(days < 30 ? ": renew it soon" : "")}); chain and host name verified.";
        }
    }

    private sealed record StepResult(CheckOutcome Outcome, string Detail, string? Hint, bool Blocks)
    {
        public static StepResult Pass(string detail) => new(CheckOutcome.Passed, detail, null, false);

        public static StepResult Info(string detail, bool blocks = false) => new(CheckOutcome.Info, detail, null, blocks);

        public static StepResult Fail(string detail, string hint, bool blocks) => new(CheckOutcome.Failed, detail, hint, blocks);
    }
}
