using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace HarborPortal.HarborSimulator;

// Endpoint handlers; each runs under the state lock and returns the reply to write.
public sealed partial class HarborSimulator
{
    private const string ZeroTime = "0001-01-01T00:00:00.000Z";

    private static readonly string[] SeverityOrder = ["None", "Unknown", "Low", "Medium", "High", "Critical"];

    private static string Time(DateTimeOffset? time) =>
        time is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture) : ZeroTime;

    private static string DoubleEncode(string repository) => Uri.EscapeDataString(Uri.EscapeDataString(repository));

    private bool VersionAtLeast(int major, int minor) =>
        Version.TryParse(_options.Version.TrimStart('v').Split('-')[0], out var v) && v >= new Version(major, minor);

    private static Reply Health() => new(200, new JsonObject
    {
        ["status"] = "healthy",
        ["components"] = new JsonArray(
            new JsonObject { ["name"] = "core", ["status"] = "healthy" },
            new JsonObject { ["name"] = "database", ["status"] = "healthy" },
            new JsonObject { ["name"] = "registry", ["status"] = "healthy" },
            new JsonObject { ["name"] = "trivy", ["status"] = "healthy" }),
    });

    private Reply SystemInfo(Caller? caller)
    {
        var info = new JsonObject
        {
            ["auth_mode"] = _state.AuthMode,
            ["banner_message"] = "",
            ["oidc_provider_name"] = _state.AuthMode == "oidc_auth" ? "authentik" : "",
            ["primary_auth_mode"] = false,
            ["self_registration"] = false,
        };
        var version = $"{_options.Version}-0c4f2d8e";
        if (caller is null)
        {
            // Since 2.13 the version is only shown to authenticated callers.
            if (!VersionAtLeast(2, 13))
            {
                info["harbor_version"] = version;
            }

            return new Reply(200, info);
        }

        var external = _options.ExternalUrl ?? BaseAddress.ToString().TrimEnd('/');
        info["current_time"] = Time(DateTimeOffset.UtcNow);
        info["external_url"] = external;
        info["harbor_version"] = version;
        info["has_ca_root"] = _certificates is not null;
        info["notification_enable"] = true;
        info["project_creation_restriction"] = "adminonly";
        info["read_only"] = false;
        info["registry_storage_provider_name"] = "filesystem";
        info["registry_url"] = new Uri(external).Authority;
        return new Reply(200, info);
    }

    private static Reply CurrentUser(Caller? caller) => caller switch
    {
        null => Unauthorized(),
        { Robot: not null } => Error(412, "PRECONDITION", "get current user not available for security context: robot"),
        { User: { } user } => new Reply(200, new JsonObject
        {
            ["admin_role_in_auth"] = false,
            ["creation_time"] = "2024-05-20T07:41:09.000Z",
            ["email"] = string.IsNullOrEmpty(user.Email) ? null : user.Email,
            ["realname"] = string.IsNullOrEmpty(user.Realname) ? null : user.Realname,
            ["sysadmin_flag"] = user.Sysadmin,
            ["update_time"] = "2024-05-20T07:41:09.000Z",
            ["user_id"] = user.UserId,
            ["username"] = user.Username,
        }.WithoutNulls()),
        _ => Unauthorized(),
    };

    private Reply CurrentPermissions(HttpContext context, Caller? caller)
    {
        if (caller is null)
        {
            return Unauthorized();
        }

        var scope = context.Request.Query["scope"].ToString();
        var relative = string.Equals(context.Request.Query["relative"], "true", StringComparison.OrdinalIgnoreCase);
        var result = new JsonArray();
        void Add(string prefix, string resource, string action) => result.Add(new JsonObject
        {
            ["action"] = action,
            ["resource"] = relative ? (resource.Length == 0 ? "." : resource) : (resource.Length == 0 ? prefix : $"{prefix}/{resource}"),
        });

        if (scope == "/system")
        {
            var grants = caller.IsAdmin
                ? [new SimAccess("project", "list"), new SimAccess("project", "create"), new SimAccess("scan-all", "read"), new SimAccess("garbage-collection", "read"), new SimAccess("robot", "list"), new SimAccess("catalog", "read")]
                : caller.Robot?.Permissions.Where(s => s.Kind == "system").SelectMany(s => s.Access) ?? [];
            foreach (var access in grants.Distinct())
            {
                Add("/system", access.Resource, access.Action);
            }
        }
        else if (scope.StartsWith("/project/", StringComparison.Ordinal)
            && int.TryParse(scope["/project/".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var projectId)
            && _state.Projects.FirstOrDefault(p => p.ProjectId == projectId) is { } project)
        {
            var grants = new List<SimAccess>();
            if (caller.IsAdmin || (caller.User?.Projects.Contains(project.Name) ?? false))
            {
                grants.AddRange(RecommendedProjectAccess);
            }
            else if (caller.Robot is { } robot)
            {
                grants.AddRange(robot.Permissions.Where(s => s.Kind == "project" && (s.Namespace == "*" || s.Namespace == project.Name)).SelectMany(s => s.Access));
            }

            if (project.Public)
            {
                grants.AddRange(PublicGrants.Select(g => new SimAccess(g.Item1, g.Item2)));
            }

            foreach (var access in grants.Distinct())
            {
                Add($"/project/{projectId}", access.Resource == "project" ? "" : access.Resource, access.Action);
            }
        }

        return new Reply(200, result);
    }

    private static readonly SimAccess[] RecommendedProjectAccess =
    [
        new("project", "read"), new("metadata", "list"), new("repository", "list"), new("repository", "read"), new("repository", "pull"),
        new("artifact", "list"), new("artifact", "read"), new("artifact-addition", "read"), new("scan", "create"), new("scan", "read"),
        new("tag", "list"), new("tag-retention", "read"), new("robot", "list"),
    ];

    private Reply ListProjects(HttpContext context, Caller? caller)
    {
        if (!TryFilter(context, out var filter, out var bad))
        {
            return bad;
        }

        var query = context.Request.Query;
        var projects = _state.Projects.Where(p => Sees(caller, p) && filter.Matches("name", p.Name));
        if (query["name"].ToString() is { Length: > 0 } name)
        {
            projects = projects.Where(p => p.Name.Contains(name, StringComparison.Ordinal));
        }

        if (bool.TryParse(query["public"], out var isPublic))
        {
            projects = projects.Where(p => p.Public == isPublic);
        }

        var withDetail = !string.Equals(query["with_detail"], "false", StringComparison.OrdinalIgnoreCase);
        return Page(context, projects.OrderBy(p => p.Name, StringComparer.Ordinal).ToList(), p => ProjectJson(p, caller, withDetail));
    }

    private Reply GetProject(HttpContext context, Caller? caller, string nameOrId) =>
        TryProject(caller, FindProject(context, nameOrId), nameOrId, "project", "read", out var project, out var refusal)
            ? new Reply(200, ProjectJson(project, caller, withDetail: true))
            : refusal;

    private Reply GetMetadata(HttpContext context, Caller? caller, string nameOrId)
    {
        if (!TryProject(caller, FindProject(context, nameOrId), nameOrId, "metadata", "list", out var project, out var refusal))
        {
            return refusal;
        }

        var metadata = new JsonObject { ["public"] = project.Public ? "true" : "false" };
        foreach (var (key, value) in project.Metadata)
        {
            metadata[key] = value;
        }

        return new Reply(200, metadata);
    }

    private Reply ListRepositories(HttpContext context, Caller? caller, string projectName)
    {
        if (!TryProject(caller, _state.Projects.FirstOrDefault(p => p.Name == projectName), projectName, "repository", "list", out var project, out var refusal))
        {
            return refusal;
        }

        if (!TryFilter(context, out var filter, out var bad))
        {
            return bad;
        }

        var repositories = _state.Repositories
            .Where(r => r.ProjectName == project.Name && filter.Matches("name", r.Name))
            .OrderByDescending(r => r.CreationTime).ThenByDescending(r => r.Id).ToList();
        return Page(context, repositories, r => RepositoryJson(r, project));
    }

    private Reply ListAllRepositories(HttpContext context, Caller? caller)
    {
        if (!TryFilter(context, out var filter, out var bad))
        {
            return bad;
        }

        var visible = _state.Projects.Where(p => Sees(caller, p)).ToDictionary(p => p.Name);
        var repositories = _state.Repositories
            .Where(r => visible.ContainsKey(r.ProjectName) && filter.Matches("name", r.Name))
            .OrderByDescending(r => r.CreationTime).ThenByDescending(r => r.Id).ToList();
        return Page(context, repositories, r => RepositoryJson(r, visible[r.ProjectName]));
    }

    private Reply GetRepository(Caller? caller, string projectName, string repositoryName)
    {
        if (!TryProject(caller, _state.Projects.FirstOrDefault(p => p.Name == projectName), projectName, "repository", "read", out var project, out var refusal))
        {
            return refusal;
        }

        var repository = _state.Repositories.FirstOrDefault(r => r.Name == $"{projectName}/{repositoryName}");
        return repository is null
            ? Error(404, "NOT_FOUND", $"repository {projectName}/{repositoryName} not found")
            : new Reply(200, RepositoryJson(repository, project));
    }

    private Reply ListArtifacts(HttpContext context, Caller? caller, string projectName, string repositoryName)
    {
        if (!TryProject(caller, _state.Projects.FirstOrDefault(p => p.Name == projectName), projectName, "artifact", "list", out var project, out var refusal))
        {
            return refusal;
        }

        if (!TryFilter(context, out _, out var bad))
        {
            return bad;
        }

        // A repository that does not exist is an empty filter result, not a 404 (§4.10).
        var fullName = $"{projectName}/{repositoryName}";
        var artifacts = _state.Artifacts.Where(a => a.Repository == fullName)
            .OrderByDescending(a => a.PushTime).ThenByDescending(a => a.Id).ToList();
        var flags = ArtifactFlags.From(context, AcceptedReportTypes(context));
        return Page(context, artifacts, a => ArtifactJson(a, project, repositoryName, flags));
    }

    private Reply GetArtifact(HttpContext context, Caller? caller, string projectName, string repositoryName, string reference)
    {
        if (!TryProject(caller, _state.Projects.FirstOrDefault(p => p.Name == projectName), projectName, "artifact", "read", out var project, out var refusal))
        {
            return refusal;
        }

        return FindArtifact(projectName, repositoryName, reference, out var artifact, out var notFound)
            ? new Reply(200, ArtifactJson(artifact, project, repositoryName, ArtifactFlags.From(context, AcceptedReportTypes(context))))
            : notFound;
    }

    private Reply GetVulnerabilities(HttpContext context, Caller? caller, string projectName, string repositoryName, string reference)
    {
        if (!TryProject(caller, _state.Projects.FirstOrDefault(p => p.Name == projectName), projectName, "artifact-addition", "read", out var project, out var refusal))
        {
            return refusal;
        }

        if (!_state.ScannerConfigured)
        {
            return Error(404, "NOT_FOUND", $"no scanner registration configured for project: {project.ProjectId}");
        }

        if (!FindArtifact(projectName, repositoryName, reference, out var artifact, out var notFound))
        {
            return notFound;
        }

        var body = new JsonObject();
        if (artifact.ScanStatus == "Success" && AcceptedReportTypes(context).FirstOrDefault(artifact.ReportMimeTypes.Contains) is { } mime)
        {
            body[mime] = ReportJson(artifact);
        }

        return new Reply(200, body);
    }

    private Reply Scan(Caller? caller, string projectName, string repositoryName, string reference)
    {
        if (!TryProject(caller, _state.Projects.FirstOrDefault(p => p.Name == projectName), projectName, "scan", "create", out var project, out var refusal))
        {
            return refusal;
        }

        if (!FindArtifact(projectName, repositoryName, reference, out var artifact, out var notFound))
        {
            return notFound;
        }

        if (!_state.ScannerConfigured)
        {
            return Error(412, "PRECONDITION", $"no available scanner for project: {project.ProjectId}");
        }

        if (artifact.ScanStatus is "Running" or "Pending")
        {
            return Error(409, "CONFLICT", $"a previous scan process is {artifact.ScanStatus}");
        }

        artifact.ScanStatus = "Running";
        artifact.ReportId = Guid.NewGuid().ToString();
        artifact.ScanStartTime = DateTimeOffset.UtcNow;
        artifact.ScanEndTime = null;
        _ = CompleteScanAsync(artifact);
        return new Reply(202);
    }

    private async Task CompleteScanAsync(SimArtifact artifact)
    {
        try
        {
            await Task.Delay(_options.ScanDuration, _stopping.Token);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        lock (_gate)
        {
            artifact.ScanStatus = "Success";
            artifact.ScanEndTime = DateTimeOffset.UtcNow;
        }
    }

    private bool FindArtifact(string projectName, string repositoryName, string reference, out SimArtifact artifact, out Reply notFound)
    {
        var fullName = $"{projectName}/{repositoryName}";
        var isDigest = reference.StartsWith("sha256:", StringComparison.Ordinal);
        artifact = _state.Artifacts.FirstOrDefault(a => a.Repository == fullName && (isDigest ? a.Digest == reference : a.Tags.Contains(reference)))!;
        notFound = Error(404, "NOT_FOUND", $"artifact {fullName}{(isDigest ? "@" : ":")}{reference} not found");
        return artifact is not null;
    }

    private List<SimScanner> ScannerRegistrations() =>
        _state.Scanners ?? (_state.ScannerConfigured ? [new SimScanner()] : []);

    private static JsonObject ScannerJson(SimScanner scanner) => new()
    {
        ["adapter"] = scanner.Name,
        ["auth"] = "",
        ["capabilities"] = new JsonObject { ["support_sbom"] = true, ["support_vulnerability"] = true },
        ["create_time"] = "2024-05-20T07:41:09.000Z",
        ["description"] = "",
        ["disabled"] = scanner.Disabled,
        ["health"] = scanner.Health,
        ["is_default"] = scanner.IsDefault,
        ["name"] = scanner.Name,
        ["skip_certVerify"] = false,
        ["update_time"] = "2024-05-20T07:41:09.000Z",
        ["url"] = scanner.Url,
        ["use_internal_addr"] = true,
        ["uuid"] = scanner.Uuid,
        ["vendor"] = scanner.Vendor,
        ["version"] = scanner.Version,
    };

    // GET /scanners: system scanner:list (admins; robots only when granted).
    private Reply ListScanners(HttpContext context, Caller? caller)
    {
        if (caller is null)
        {
            return Unauthorized();
        }

        return CanSystem(caller, "scanner", "list")
            ? Page(context, ScannerRegistrations(), ScannerJson)
            : Error(403, "FORBIDDEN", caller.Name);
    }

    // GET /projects/{p}/scanner: the project's registration (the system default here); no scanner = 200 with no body.
    private Reply GetProjectScanner(HttpContext context, Caller? caller, string nameOrId)
    {
        if (!TryProject(caller, FindProject(context, nameOrId), nameOrId, "scanner", "read", out _, out var refusal))
        {
            return refusal;
        }

        return ScannerRegistrations().FirstOrDefault(s => s.IsDefault) is { } scanner ? new Reply(200, ScannerJson(scanner)) : new Reply(200);
    }

    private Reply ListRobots(HttpContext context, Caller? caller)
    {
        if (caller is null)
        {
            return Unauthorized();
        }

        if (!TryFilter(context, out var filter, out var bad))
        {
            return bad;
        }

        var level = filter.Value("Level") ?? "system";
        IEnumerable<SimRobot> robots;
        if (level == "project")
        {
            if (filter.Value("ProjectID") is not { } idText)
            {
                return Error(400, "BAD_REQUEST", "must with project ID when to query project robots");
            }

            if (!int.TryParse(idText, NumberStyles.None, CultureInfo.InvariantCulture, out var projectId) || projectId <= 0)
            {
                return Error(400, "BAD_REQUEST", "ProjectID must be a positive integer");
            }

            var project = _state.Projects.FirstOrDefault(p => p.ProjectId == projectId);
            if (!TryProject(caller, project, idText, "robot", "list", out var found, out var refusal))
            {
                return refusal;
            }

            robots = _state.Robots.Where(r => r.Level == "project" && r.Name.StartsWith(found.Name + "+", StringComparison.Ordinal));
        }
        else if (level == "system")
        {
            if (!CanSystem(caller, "robot", "list"))
            {
                return Error(403, "FORBIDDEN", caller.Name);
            }

            robots = _state.Robots.Where(r => r.Level == "system");
        }
        else
        {
            return Error(400, "BAD_REQUEST", "bad request error level input");
        }

        return Page(context, robots.OrderBy(r => r.Name, StringComparer.Ordinal).ToList(), RobotJson);
    }

    private Reply GetRobot(Caller? caller, string id)
    {
        if (caller is null)
        {
            return Unauthorized();
        }

        var robot = long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var robotId) ? _state.Robots.FirstOrDefault(r => r.Id == robotId) : null;
        if (robot is null)
        {
            return caller.IsAdmin ? Error(404, "NOT_FOUND", $"robot {id} not found") : Error(403, "FORBIDDEN", caller.Name);
        }

        var allowed = robot.Level == "system"
            ? CanSystem(caller, "robot", "read")
            : _state.Projects.FirstOrDefault(p => robot.Name.StartsWith(p.Name + "+", StringComparison.Ordinal)) is { } project && Can(caller, project, "robot", "read");
        return allowed ? new Reply(200, RobotJson(robot)) : Error(403, "FORBIDDEN", caller.Name);
    }

    private Reply GetRetention(Caller? caller, string id)
    {
        if (caller is null)
        {
            return Unauthorized();
        }

        if (!_state.Retentions.TryGetValue(id, out var policy))
        {
            return Error(404, "NOT_FOUND", $"retention policy {id} not found");
        }

        var projectId = policy["scope"]?["ref"]?.GetValue<int>();
        var project = _state.Projects.FirstOrDefault(p => p.ProjectId == projectId);
        return project is not null && Can(caller, project, "tag-retention", "read") ? new Reply(200, policy.DeepClone()) : Deny(caller);
    }

    private Reply Catalog(HttpContext context, Caller? caller)
    {
        if (!CanSystem(caller, "catalog", "read"))
        {
            var refusal = Error(401, "UNAUTHORIZED", "unauthorized to list catalog");
            refusal.Headers["Www-Authenticate"] = "Basic realm=\"harbor\"";
            refusal.Headers["Docker-Distribution-Api-Version"] = "registry/2.0";
            return refusal;
        }

        var names = _state.Repositories.Where(r => _state.Artifacts.Any(a => a.Repository == r.Name))
            .Select(r => r.Name).Order(StringComparer.Ordinal).ToList();
        var last = context.Request.Query["last"].ToString();
        var start = 0;
        if (last.Length > 0)
        {
            var index = names.IndexOf(last);
            if (index < 0)
            {
                return Error(400, "BAD_REQUEST", $"the last: {last} should be a valid value");
            }

            start = index + 1;
        }

        var n = int.TryParse(context.Request.Query["n"], NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) ? parsed : names.Count;
        var page = names.Skip(start).Take(n).ToList();
        var reply = new Reply(200, new JsonObject { ["repositories"] = new JsonArray([.. page.Select(p => (JsonNode?)p)]) });
        if (start + n < names.Count && page.Count > 0)
        {
            reply.Headers["Link"] = $"</v2/_catalog?last={page[^1]}&n={n}>; rel=\"next\"";
        }

        return reply;
    }

    // Harbor's pagination (§1.6): defaults 1/10, max 100, X-Total-Count always, Link with sorted and unescaped query.
    private static Reply Page<T>(HttpContext context, IReadOnlyList<T> items, Func<T, JsonNode> map)
    {
        var query = context.Request.Query;
        long page = 1, size = 10;
        if ((query.ContainsKey("page") && !long.TryParse(query["page"], NumberStyles.None, CultureInfo.InvariantCulture, out page))
            || (query.ContainsKey("page_size") && !long.TryParse(query["page_size"], NumberStyles.None, CultureInfo.InvariantCulture, out size)))
        {
            return Error(422, "UNPROCESSABLE_ENTITY", "validation failure list:\npage or page_size in query must be of type int64");
        }

        if (size > 100)
        {
            return Error(422, "UNPROCESSABLE_ENTITY", "validation failure list:\npage_size in query should be less than or equal to 100");
        }

        page = Math.Max(page, 1);
        var total = items.Count;
        var slice = size == 0 ? items : items.Skip((int)Math.Min((page - 1) * size, total)).Take((int)size);
        var reply = new Reply(200, new JsonArray([.. slice.Select(map)]));
        reply.Headers["X-Total-Count"] = total.ToString(CultureInfo.InvariantCulture);

        if (size > 0)
        {
            var links = new List<string>();
            if (page > 1 && (page - 1) * size < total)
            {
                links.Add($"<{LinkTarget(context, page - 1, size)}>; rel=\"prev\"");
            }

            if (page * size < total)
            {
                links.Add($"<{LinkTarget(context, page + 1, size)}>; rel=\"next\"");
            }

            if (links.Count > 0)
            {
                reply.Headers["Link"] = string.Join(" , ", links);
            }
        }

        return reply;
    }

    private static string LinkTarget(HttpContext context, long page, long size)
    {
        var values = context.Request.Query.ToDictionary(q => q.Key, q => q.Value.ToString(), StringComparer.Ordinal);
        values["page"] = page.ToString(CultureInfo.InvariantCulture);
        values["page_size"] = size.ToString(CultureInfo.InvariantCulture);

        // Go's url.Values.Encode sorts keys; Harbor then unescapes the result, so values appear raw.
        var query = string.Join("&", values.OrderBy(v => v.Key, StringComparer.Ordinal).Select(v => $"{v.Key}={v.Value}"));
        return $"{context.Request.Path}?{query}";
    }

    // The q filter (§1.7): comma-separated key=value (exact) or key=~value (fuzzy) terms, the value URL-decoded a second time.
    private static bool TryFilter(HttpContext context, out Filter filter, out Reply bad)
    {
        filter = new Filter([]);
        bad = null!;
        var q = context.Request.Query["q"].ToString();
        if (q.Length == 0)
        {
            return true;
        }

        var terms = new Dictionary<string, (string Value, bool Fuzzy)>(StringComparer.Ordinal);
        foreach (var term in WebUtility.UrlDecode(q).Split(','))
        {
            var equals = term.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0 || equals == term.Length - 1)
            {
                bad = Error(400, "BAD_REQUEST", "the query string must contain \"=\" and the key/value cannot be empty");
                return false;
            }

            var value = term[(equals + 1)..];
            var fuzzy = value.StartsWith('~');
            terms[term[..equals].Trim()] = (fuzzy ? value[1..] : value.Trim('\'', '"'), fuzzy);
        }

        filter = new Filter(terms);
        return true;
    }

    private sealed record Filter(Dictionary<string, (string Value, bool Fuzzy)> Terms)
    {
        public bool Matches(string key, string candidate) =>
            !Terms.TryGetValue(key, out var term)
            || (term.Fuzzy ? candidate.Contains(term.Value, StringComparison.Ordinal) : candidate == term.Value);

        public string? Value(string key) => Terms.TryGetValue(key, out var term) ? term.Value : null;
    }

    // X-Accept-Vulnerabilities (§6.2): exact matches only, in order; default by version when absent.
    private List<string> AcceptedReportTypes(HttpContext context)
    {
        var header = context.Request.Headers["X-Accept-Vulnerabilities"].ToString();
        if (header.Length == 0)
        {
            return VersionAtLeast(2, 6) ? [HarborMimeTypes.Report11, HarborMimeTypes.Report10] : [HarborMimeTypes.Report10];
        }

        var accepted = header.Split(',').Select(t => t.Trim()).Where(t => t is HarborMimeTypes.Report11 or HarborMimeTypes.Report10).Distinct().ToList();
        return accepted.Count > 0 ? accepted : [HarborMimeTypes.Report10];
    }
}

internal static class JsonNodeExtensions
{
    public static JsonObject WithoutNulls(this JsonObject node)
    {
        foreach (var key in node.Where(p => p.Value is null).Select(p => p.Key).ToList())
        {
            node.Remove(key);
        }

        return node;
    }
}
