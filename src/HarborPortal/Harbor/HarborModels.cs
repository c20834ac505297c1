using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace HarborPortal.Harbor;

// Harbor's REST shapes (reference §5, §7). Lists inside objects are null when empty and dates may be the zero date
// (read as null), so collections here are nullable and every date is DateTimeOffset?.

/// <summary>GET /systeminfo. Anonymous callers get only the first few fields.</summary>
public sealed record HarborSystemInfo
{
    public string? AuthMode { get; init; }
    public bool? PrimaryAuthMode { get; init; }
    public bool? SelfRegistration { get; init; }
    public string? OidcProviderName { get; init; }
    public string? BannerMessage { get; init; }
    public string? HarborVersion { get; init; }
    public DateTimeOffset? CurrentTime { get; init; }
    public string? ExternalUrl { get; init; }
    public string? RegistryUrl { get; init; }
    public string? ProjectCreationRestriction { get; init; }
    public bool? HasCaRoot { get; init; }
    public bool? ReadOnly { get; init; }
    public bool? NotificationEnable { get; init; }
}

/// <summary>GET /users/current for a user.</summary>
public sealed record HarborUser
{
    public int UserId { get; init; }
    public string Username { get; init; } = "";
    public string? Email { get; init; }
    public string? Realname { get; init; }
    public bool SysadminFlag { get; init; }
    public bool AdminRoleInAuth { get; init; }
    public DateTimeOffset? CreationTime { get; init; }
}

/// <summary>Who the connection is signed in as: a user profile, or a robot (Harbor answers 412 instead of a profile for robots).</summary>
public sealed record HarborCurrentUser(HarborUser? User, bool IsRobot);

/// <summary>One entry of GET /users/current/permissions.</summary>
public sealed record HarborPermission(string Resource, string Action);

public sealed record HarborProject
{
    public int ProjectId { get; init; }
    public string Name { get; init; } = "";
    public int OwnerId { get; init; }
    public string? OwnerName { get; init; }
    public int RepoCount { get; init; }
    public long? RegistryId { get; init; }
    public DateTimeOffset? CreationTime { get; init; }
    public DateTimeOffset? UpdateTime { get; init; }
    public IReadOnlyList<int>? CurrentUserRoleIds { get; init; }

    /// <summary>Values are strings as Harbor stores them; an absent key means Harbor's default (§5.1).</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }

    public HarborCveAllowlist? CveAllowlist { get; init; }

    [JsonIgnore]
    public bool IsPublic => Metadata?.GetValueOrDefault("public") is { } value && value.Equals("true", StringComparison.OrdinalIgnoreCase);
}

public sealed record HarborCveAllowlist
{
    public int? Id { get; init; }
    public int? ProjectId { get; init; }

    /// <summary>Unix seconds; null = never expires.</summary>
    public long? ExpiresAt { get; init; }

    public IReadOnlyList<HarborCveAllowlistItem>? Items { get; init; }
    public DateTimeOffset? CreationTime { get; init; }
    public DateTimeOffset? UpdateTime { get; init; }
}

public sealed record HarborCveAllowlistItem(string CveId);

public sealed record HarborRepository
{
    public long Id { get; init; }
    public long ProjectId { get; init; }

    /// <summary>The full name, project included: <c>team/app/api</c>.</summary>
    public string Name { get; init; } = "";

    public string? Description { get; init; }
    public long ArtifactCount { get; init; }
    public long PullCount { get; init; }
    public DateTimeOffset? CreationTime { get; init; }
    public DateTimeOffset? UpdateTime { get; init; }

    /// <summary>The project part of <see cref="Name"/> (before the first slash).</summary>
    [JsonIgnore]
    public string ProjectName => Name.Split('/', 2)[0];

    /// <summary>The name within the project (after the first slash) — what artifact calls take.</summary>
    [JsonIgnore]
    public string NameInProject => Name.Split('/', 2) is [_, var rest] ? rest : Name;
}

public sealed record HarborArtifact
{
    public long Id { get; init; }
    public string? Type { get; init; }
    public string? MediaType { get; init; }
    public string? ManifestMediaType { get; init; }
    public string? ArtifactType { get; init; }
    public long ProjectId { get; init; }
    public long RepositoryId { get; init; }
    public string? RepositoryName { get; init; }
    public string Digest { get; init; } = "";
    public long Size { get; init; }
    public DateTimeOffset? PushTime { get; init; }

    /// <summary>Null when never pulled (Harbor sends the zero date).</summary>
    public DateTimeOffset? PullTime { get; init; }

    public IReadOnlyList<HarborTag>? Tags { get; init; }
    public IReadOnlyList<HarborReference>? References { get; init; }
    public IReadOnlyDictionary<string, string>? Annotations { get; init; }
    public JsonElement? ExtraAttrs { get; init; }

    /// <summary>Keyed by report mime type (§5.4); absent = never scanned or no report in an accepted type.</summary>
    public IReadOnlyDictionary<string, HarborScanOverview>? ScanOverview { get; init; }

    /// <summary>The overview in whichever report type Harbor returned, the newer type first.</summary>
    [JsonIgnore]
    public HarborScanOverview? Overview => ScanOverview is null ? null
        : ScanOverview.GetValueOrDefault(HarborReportTypes.Generic11) ?? ScanOverview.GetValueOrDefault(HarborReportTypes.Native10) ?? ScanOverview.Values.FirstOrDefault();

    [JsonIgnore]
    public bool IsIndex => References is { Count: > 0 };
}

public sealed record HarborTag
{
    public long Id { get; init; }
    public string Name { get; init; } = "";
    public DateTimeOffset? PushTime { get; init; }
    public DateTimeOffset? PullTime { get; init; }
    public bool Immutable { get; init; }
}

public sealed record HarborReference
{
    public long ParentId { get; init; }
    public long ChildId { get; init; }
    public string ChildDigest { get; init; } = "";
    public HarborPlatform? Platform { get; init; }
}

public sealed record HarborPlatform(string? Architecture, string? Os, string? Variant);

public sealed record HarborScanOverview
{
    public string? ReportId { get; init; }

    /// <summary>Pending, Running, Success, Error, Stopped, Scheduled.</summary>
    public string? ScanStatus { get; init; }

    /// <summary>Overall severity, only on Success: None, Unknown, Low, Medium, High, Critical.</summary>
    public string? Severity { get; init; }

    public long? Duration { get; init; }
    public DateTimeOffset? StartTime { get; init; }
    public DateTimeOffset? EndTime { get; init; }
    public int? CompletePercent { get; init; }
    public HarborScanner? Scanner { get; init; }
    public HarborVulnerabilitySummary? Summary { get; init; }
}

public sealed record HarborVulnerabilitySummary
{
    public int Total { get; init; }
    public int Fixable { get; init; }
    public IReadOnlyDictionary<string, int>? Summary { get; init; }
}

public sealed record HarborScanner(string? Name, string? Vendor, string? Version);

/// <summary>The body of <c>additions/vulnerabilities</c> for the report type Harbor chose (<see cref="MimeType"/>).</summary>
public sealed record HarborVulnerabilityReport
{
    [JsonIgnore]
    public string MimeType { get; init; } = "";

    public string? GeneratedAt { get; init; }
    public HarborScanner? Scanner { get; init; }
    public string? Severity { get; init; }
    public IReadOnlyList<HarborVulnerability>? Vulnerabilities { get; init; }
}

public sealed record HarborVulnerability
{
    public string Id { get; init; } = "";
    public string Package { get; init; } = "";
    public string Version { get; init; } = "";

    /// <summary>Empty when there is no fix.</summary>
    public string? FixVersion { get; init; }

    public string? Severity { get; init; }
    public string? Status { get; init; }
    public string? Description { get; init; }

    /// <summary>May be <c>[""]</c> when the scanner gave none.</summary>
    public IReadOnlyList<string>? Links { get; init; }

    public IReadOnlyList<string>? ArtifactDigests { get; init; }
    public HarborCvss? PreferredCvss { get; init; }
    public IReadOnlyList<string>? CweIds { get; init; }
    public JsonElement? VendorAttributes { get; init; }
}

public sealed record HarborCvss
{
    /// <summary>0 can mean "no v3 score" (§7).</summary>
    [JsonPropertyName("score_v3")]
    public double? ScoreV3 { get; init; }

    [JsonPropertyName("score_v2")]
    public double? ScoreV2 { get; init; }

    [JsonPropertyName("vector_v3")]
    public string? VectorV3 { get; init; }

    [JsonPropertyName("vector_v2")]
    public string? VectorV2 { get; init; }
}

public sealed record HarborRobot
{
    public long Id { get; init; }

    /// <summary>With the prefix: <c>robot$harbor-portal</c>, <c>robot$team-a+ci</c>.</summary>
    public string Name { get; init; } = "";

    public string? Description { get; init; }
    public string? Level { get; init; }
    public long Duration { get; init; }

    /// <summary>Unix seconds; -1 = never.</summary>
    public long ExpiresAt { get; init; }

    public bool Disable { get; init; }
    public bool Editable { get; init; }
    public IReadOnlyList<HarborRobotPermission>? Permissions { get; init; }
    public DateTimeOffset? CreationTime { get; init; }
    public DateTimeOffset? UpdateTime { get; init; }

    [JsonIgnore]
    public DateTimeOffset? ExpiresAtTime => ExpiresAt == -1 ? null : DateTimeOffset.FromUnixTimeSeconds(ExpiresAt);
}

public sealed record HarborRobotPermission(string Kind, string Namespace, IReadOnlyList<HarborAccess>? Access);

public sealed record HarborAccess(string Resource, string Action, string? Effect);

/// <summary>Scan-all schedule (<c>schedule.next_scheduled_time</c> is never filled by Harbor for scan-all).</summary>
public sealed record HarborSchedule
{
    public long Id { get; init; }
    public string? Status { get; init; }
    public HarborScheduleDetail? Schedule { get; init; }
    public DateTimeOffset? CreationTime { get; init; }
    public DateTimeOffset? UpdateTime { get; init; }
}

public sealed record HarborScheduleDetail(string? Type, string? Cron, DateTimeOffset? NextScheduledTime);

/// <summary>GC schedule; <see cref="JobKind"/> holds the cron string and <see cref="JobParameters"/> is a JSON string (Harbor quirks).</summary>
public sealed record HarborGcSchedule
{
    public long Id { get; init; }
    public string? JobKind { get; init; }
    public string? JobParameters { get; init; }
    public string? JobStatus { get; init; }
    public HarborScheduleDetail? Schedule { get; init; }
    public DateTimeOffset? CreationTime { get; init; }
    public DateTimeOffset? UpdateTime { get; init; }
}

public sealed record HarborRetentionPolicy
{
    public long Id { get; init; }
    public string? Algorithm { get; init; }
    public JsonElement? Scope { get; init; }
    public JsonElement? Trigger { get; init; }

    /// <summary>Empty = no effective retention.</summary>
    public IReadOnlyList<JsonElement>? Rules { get; init; }
}

/// <summary>A scanner registration (<c>GET /scanners</c>, <c>GET /projects/{p}/scanner</c>); the credential is never returned.</summary>
public sealed record HarborScannerRegistration
{
    public string? Uuid { get; init; }
    public string? Name { get; init; }
    public string? Url { get; init; }
    public bool Disabled { get; init; }
    public bool IsDefault { get; init; }

    /// <summary><c>healthy</c>, <c>unhealthy</c>, or empty when Harbor did not ping the adapter.</summary>
    public string? Health { get; init; }

    public string? Vendor { get; init; }
    public string? Version { get; init; }
}

public sealed record HarborConfigurationValue(JsonElement Value, bool Editable);

/// <summary>Harbor's vulnerability report mime types (exact strings, space after the semicolon).</summary>
public static class HarborReportTypes
{
    public const string Generic11 = "application/vnd.security.vulnerability.report; version=1.1";
    public const string Native10 = "application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0";

    /// <summary>The <c>X-Accept-Vulnerabilities</c> value the client always sends: both types, newest first.</summary>
    public const string AcceptBoth = Generic11 + ", " + Native10;
}

internal sealed record HarborErrorEnvelope(IReadOnlyList<HarborErrorItem>? Errors);

internal sealed record HarborErrorItem(string? Code, string? Message);

/// <summary>Reads Harbor's zero date (<c>0001-01-01T00:00:00.000Z</c>, "never") as null.</summary>
internal sealed class HarborTimeConverter : JsonConverter<DateTimeOffset?>
{
    public override bool HandleNull => true;

    public override DateTimeOffset? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            return reader.TokenType == JsonTokenType.Null ? null : throw new JsonException("Expected a date string.");
        }

        var text = reader.GetString();
        return string.IsNullOrEmpty(text) || !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value) || value.Year <= 1
            ? null
            : value;
    }

    public override void Write(Utf8JsonWriter writer, DateTimeOffset? value, JsonSerializerOptions options)
    {
        if (value is { } time)
        {
            writer.WriteStringValue(time);
        }
        else
        {
            writer.WriteNullValue();
        }
    }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    NumberHandling = JsonNumberHandling.AllowReadingFromString,
    Converters = [typeof(HarborTimeConverter)])]
[JsonSerializable(typeof(HarborSystemInfo))]
[JsonSerializable(typeof(HarborUser))]
[JsonSerializable(typeof(List<HarborPermission>))]
[JsonSerializable(typeof(List<HarborProject>))]
[JsonSerializable(typeof(HarborProject))]
[JsonSerializable(typeof(List<HarborRepository>))]
[JsonSerializable(typeof(List<HarborArtifact>))]
[JsonSerializable(typeof(HarborArtifact))]
[JsonSerializable(typeof(Dictionary<string, HarborVulnerabilityReport>))]
[JsonSerializable(typeof(List<HarborRobot>))]
[JsonSerializable(typeof(HarborSchedule))]
[JsonSerializable(typeof(HarborGcSchedule))]
[JsonSerializable(typeof(HarborRetentionPolicy))]
[JsonSerializable(typeof(HarborCveAllowlist))]
[JsonSerializable(typeof(Dictionary<string, HarborConfigurationValue>))]
[JsonSerializable(typeof(List<HarborScannerRegistration>))]
[JsonSerializable(typeof(HarborScannerRegistration))]
[JsonSerializable(typeof(HarborErrorEnvelope))]
internal sealed partial class HarborJsonContext : JsonSerializerContext;
