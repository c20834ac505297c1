using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace HarborPortal.HarborSimulator;

// Routing, authentication and authorisation, as Harbor core does them (reference §1.3, §1.8, §2, §14).
public sealed partial class HarborSimulator
{
    // What every caller, anonymous included, may do in a public project (§2.5).
    private static readonly HashSet<(string, string)> PublicGrants =
    [
        ("project", "read"), ("label", "read"), ("label", "list"), ("repository", "list"), ("repository", "pull"),
        ("scan", "read"), ("scanner", "read"), ("tag", "list"), ("artifact", "read"), ("artifact", "list"),
        ("artifact-addition", "read"), ("accessory", "list"),
    ];

    private async Task<Reply> RouteAsync(HttpContext context, string rawTarget)
    {
        var rawPath = rawTarget.Split('?', 2)[0];

        // nginx decodes the path once (so %2F splits segments), core decodes each segment again: hence double encoding.
        var segments = Uri.UnescapeDataString(rawPath).Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString).ToArray();
        var caller = await AuthenticateAsync(context);
        var get = HttpMethods.IsGet(context.Request.Method);

        lock (_gate)
        {
            if (segments is ["v2", "_catalog"] && get)
            {
                return Catalog(context, caller);
            }

            if (segments.Length < 3 || segments[0] != "api" || segments[1] != "v2.0")
            {
                return NotFound(context);
            }

            return segments[2..] switch
            {
                ["ping"] when get => new Reply(200, Text: "Pong"),
                ["health"] when get => Health(),
                ["systeminfo"] when get => SystemInfo(caller),
                ["users", "current"] when get => CurrentUser(caller),
                ["users", "current", "permissions"] when get => CurrentPermissions(context, caller),
                ["projects"] when get => ListProjects(context, caller),
                ["projects", var p] when get => GetProject(context, caller, p),
                ["projects", var p, "metadatas"] when get => GetMetadata(context, caller, p),
                ["projects", var p, "scanner"] when get => GetProjectScanner(context, caller, p),
                ["scanners"] when get => ListScanners(context, caller),
                ["projects", var p, "repositories"] when get => ListRepositories(context, caller, p),
                ["projects", var p, "repositories", var r] when get => GetRepository(caller, p, r),
                ["projects", var p, "repositories", var r, "artifacts"] when get => ListArtifacts(context, caller, p, r),
                ["projects", var p, "repositories", var r, "artifacts", var a] when get => GetArtifact(context, caller, p, r, a),
                ["projects", var p, "repositories", var r, "artifacts", var a, "additions", "vulnerabilities"] when get => GetVulnerabilities(context, caller, p, r, a),
                ["projects", var p, "repositories", var r, "artifacts", var a, "scan"] when HttpMethods.IsPost(context.Request.Method) => Scan(caller, p, r, a),
                ["repositories"] when get => ListAllRepositories(context, caller),
                ["robots"] when get => ListRobots(context, caller),
                ["robots", var id] when get => GetRobot(caller, id),
                ["system", "gc", "schedule"] when get => SystemRead(caller, "garbage-collection", () => Optional(_state.GcSchedule)),
                ["system", "scanAll", "schedule"] when get => SystemRead(caller, "scan-all", () => _state.ScannerConfigured
                    ? Optional(_state.ScanAllSchedule)
                    : Error(412, "PRECONDITION", "no scanner is configured, it's not possible to scan")),
                ["system", "CVEAllowlist"] when get => caller is null ? Unauthorized() : new Reply(200, _state.SystemCveAllowlist?.DeepClone() ?? new JsonObject
                {
                    ["creation_time"] = ZeroTime, ["items"] = new JsonArray(), ["update_time"] = ZeroTime,
                }),
                ["configurations"] when get => caller is null ? Unauthorized() : caller.IsAdmin
                    ? new Reply(200, _state.Configurations?.DeepClone() ?? new JsonObject())
                    : Error(403, "FORBIDDEN", caller.Name),
                ["retentions", var id] when get => GetRetention(caller, id),
                _ => NotFound(context),
            };
        }
    }

    private sealed record Caller(string Name, SimUser? User, SimRobot? Robot)
    {
        public bool IsAdmin => User?.Sysadmin == true;
    }

    // Bad credentials never fail the request by themselves: the caller simply stays anonymous (§1.3).
    private async Task<Caller?> AuthenticateAsync(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
        }
        catch (FormatException)
        {
            return null;
        }

        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            return null;
        }

        var (name, secret) = (decoded[..colon], decoded[(colon + 1)..]);
        lock (_gate)
        {
            if (name.StartsWith(_state.RobotPrefix, StringComparison.Ordinal))
            {
                var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
                var robot = _state.Robots.FirstOrDefault(r => r.Name == name[_state.RobotPrefix.Length..] && r.Secret == secret);
                if (robot is not null && !robot.Disable && (robot.ExpiresAt == -1 || robot.ExpiresAt > now))
                {
                    return new Caller(name, null, robot);
                }
            }

            var user = _state.Users.FirstOrDefault(u => u.Username == name && u.Password == secret);
            if (user is not null)
            {
                return new Caller(name, user, null);
            }
        }

        // Harbor's db_auth sleeps after a failed login before answering (as the anonymous caller).
        if (_options.FailedLoginDelay > TimeSpan.Zero)
        {
            await Task.Delay(_options.FailedLoginDelay, context.RequestAborted);
        }

        return null;
    }

    private static bool Can(Caller? caller, SimProject project, string resource, string action)
    {
        if (caller?.IsAdmin == true || (project.Public && PublicGrants.Contains((resource, action))))
        {
            return true;
        }

        if (caller?.User is { } user)
        {
            return user.Projects.Contains(project.Name);
        }

        return caller?.Robot is { } robot && robot.Permissions.Any(scope =>
            scope.Kind == "project"
            && (scope.Namespace == project.Name || scope.Namespace == "*")
            && scope.Access.Any(a => a.Resource == resource && (a.Action == action || (resource == "repository" && action == "pull" && a.Action == "push"))));
    }

    private static bool CanSystem(Caller? caller, string resource, string action) =>
        caller?.IsAdmin == true
        || (caller?.Robot is { } robot && robot.Permissions.Any(scope => scope.Kind == "system" && scope.Access.Any(a => a.Resource == resource && a.Action == action)));

    private static bool Sees(Caller? caller, SimProject project) =>
        caller?.IsAdmin == true
        || project.Public
        || (caller?.User?.Projects.Contains(project.Name) ?? false)
        || (caller?.Robot?.Permissions.Any(s => s.Kind == "project" && (s.Namespace == "*" || s.Namespace == project.Name)) ?? false);

    // Project-scoped refusals: 401 for anonymous, 403 otherwise — also for projects that do not exist (§1.5).
    private static Reply Deny(Caller? caller) => caller is null ? Unauthorized() : Error(403, "FORBIDDEN", "forbidden");

    private static Reply Unauthorized() => Error(401, "UNAUTHORIZED", "unauthorized");

    private static Reply Error(int status, string code, string message) =>
        new(status, new JsonObject { ["errors"] = new JsonArray(new JsonObject { ["code"] = code, ["message"] = message }) });

    private static Reply ErrorForStatus(int status) => status switch
    {
        >= 500 => Error(status, "UNKNOWN", "internal server error"),
        429 => Error(429, "TOO_MANY_REQUEST", "too many requests"),
        401 => Unauthorized(),
        403 => Error(403, "FORBIDDEN", "forbidden"),
        404 => Error(404, "NOT_FOUND", "not found"),
        _ => Error(status, "BAD_REQUEST", "bad request"),
    };

    private static Reply NotFound(HttpContext context) => Error(404, "NOT_FOUND", $"path {context.Request.Path} was not found");

    private static Reply Optional(JsonObject? body) => body is null ? new Reply(200) : new Reply(200, body.DeepClone());

    private Reply SystemRead(Caller? caller, string resource, Func<Reply> read) =>
        caller is null ? Unauthorized() : CanSystem(caller, resource, "read") ? read() : Error(403, "FORBIDDEN", caller.Name);

    private SimProject? FindProject(HttpContext context, string nameOrId)
    {
        var byName = string.Equals(context.Request.Headers["X-Is-Resource-Name"], "true", StringComparison.OrdinalIgnoreCase);
        return !byName && int.TryParse(nameOrId, NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            ? _state.Projects.FirstOrDefault(p => p.ProjectId == id)
            : _state.Projects.FirstOrDefault(p => p.Name == nameOrId);
    }

    // Looks the project up and checks one permission; a refusal comes back as the reply.
    private bool TryProject(Caller? caller, SimProject? project, string displayName, string resource, string action, out SimProject found, out Reply refusal)
    {
        found = project!;
        refusal = null!;
        if (project is null)
        {
            refusal = caller?.IsAdmin == true ? Error(404, "NOT_FOUND", $"project {displayName} not found") : Deny(caller);
            return false;
        }

        if (!Can(caller, project, resource, action))
        {
            refusal = Deny(caller);
            return false;
        }

        return true;
    }

    private sealed record Reply(int Status, JsonNode? Json = null, string? Text = null)
    {
        public Dictionary<string, string> Headers { get; } = [];
    }
}
