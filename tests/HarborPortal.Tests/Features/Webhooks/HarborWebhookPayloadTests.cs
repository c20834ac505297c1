using System.Text;
using HarborPortal.Features.Scanning;
using HarborPortal.Features.Webhooks;
using HarborPortal.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace HarborPortal.Tests.Features.Webhooks;

// Harbor's payloads as the reference documents them (examples/webhook-*.json), read down to what the portal keeps.
public sealed class HarborWebhookPayloadTests
{
    private const string PaymentsDigest = "sha256:02551b79862b7096e1a0daec3d24dd514b70d4e29fa853debb27b905551f44df";

    private const string PushDefault = """
        {
          "type": "PUSH_ARTIFACT",
          "occur_at": 1741594462,
          "operator": "robot$team-a+ci-pusher",
          "event_data": {
            "resources": [
              {
                "digest": "sha256:02551b79862b7096e1a0daec3d24dd514b70d4e29fa853debb27b905551f44df",
                "tag": "1.8.2",
                "resource_url": "harbor.example.com/team-a/payments-api:1.8.2"
              }
            ],
            "repository": {
              "date_created": 1717317011,
              "name": "payments-api",
              "namespace": "team-a",
              "repo_full_name": "team-a/payments-api",
              "repo_type": "private"
            }
          }
        }
        """;

    private const string ScanCompletedCloudEvent = """
        {
          "specversion": "1.0",
          "id": "8f0d6c1e-2b8a-4a55-9a39-6f7c1de0b2a4",
          "source": "/projects/2/webhook/policies/3",
          "type": "harbor.scan.completed",
          "datacontenttype": "application/json",
          "time": "2025-03-10T08:14:32Z",
          "data": {
            "resources": [
              {
                "digest": "sha256:02551b79862b7096e1a0daec3d24dd514b70d4e29fa853debb27b905551f44df",
                "tag": "1.8.2",
                "resource_url": "harbor.example.com/team-a/payments-api:1.8.2",
                "scan_overview": {
                  "application/vnd.security.vulnerability.report; version=1.1": {
                    "report_id": "5c62190e-cd6a-4d65-8111-d4f3db3ebe90",
                    "scan_status": "Success",
                    "severity": "Critical",
                    "duration": 6,
                    "summary": { "total": 12, "fixable": 7, "summary": { "Critical": 2, "High": 5, "Low": 4, "Medium": 1 } },
                    "start_time": "2025-03-10T08:14:25.104518Z",
                    "end_time": "2025-03-10T08:14:31.872094Z",
                    "scanner": { "name": "Trivy", "vendor": "Aqua Security", "version": "v0.58.2" },
                    "complete_percent": 100
                  }
                }
              }
            ],
            "repository": { "name": "payments-api", "namespace": "team-a", "repo_full_name": "team-a/payments-api", "repo_type": "private" },
            "scan": { "scan_type": "vulnerability" }
          },
          "operator": "robot$team-a+ci-pusher",
          "requestid": "22be2449-1917-4423-a7fe-143c3b9396df"
        }
        """;

    // A failed scan: empty severity, null summary, no scanner — nothing of which the portal reads.
    private const string ScanFailedDefault = """
        {
          "type": "SCANNING_FAILED",
          "occur_at": 1739286112,
          "operator": "alice",
          "event_data": {
            "resources": [
              {
                "digest": "sha256:be6634e0be03ac3063847483b184a38afac029a38464bab95ba318a5d6e225cf",
                "tag": "1.8.1",
                "resource_url": "harbor.example.com/team-a/payments-api:1.8.1",
                "scan_overview": {
                  "application/vnd.security.vulnerability.report; version=1.1": {
                    "report_id": "74140932-9fe9-4453-a442-79096537adf9", "scan_status": "Error", "severity": "", "duration": 3, "summary": null,
                    "start_time": "2025-02-11T15:01:48.019377Z", "end_time": "2025-02-11T15:01:51.337802Z", "complete_percent": 0
                  }
                }
              }
            ],
            "repository": { "name": "payments-api", "namespace": "team-a", "repo_full_name": "team-a/payments-api", "repo_type": "private" },
            "scan": { "scan_type": "vulnerability" }
          }
        }
        """;

    // An untagged artifact's delete: the tag is the digest.
    private const string DeleteUntagged = """
        {
          "type": "DELETE_ARTIFACT",
          "occur_at": 1741797909,
          "operator": "alice",
          "event_data": {
            "resources": [
              {
                "digest": "sha256:991e5b930fd9f8bfd9904b057b8860e4a9c3ba6d63c93f5fb3770bf0ab592f77",
                "tag": "sha256:991e5b930fd9f8bfd9904b057b8860e4a9c3ba6d63c93f5fb3770bf0ab592f77",
                "resource_url": "harbor.example.com/team-a/payments-api@sha256:991e5b930fd9f8bfd9904b057b8860e4a9c3ba6d63c93f5fb3770bf0ab592f77"
              }
            ],
            "repository": { "date_created": 1717317011, "name": "payments-api", "namespace": "team-a", "repo_full_name": "team-a/payments-api", "repo_type": "private" }
          }
        }
        """;

    [Theory]
    [InlineData(PushDefault, "PUSH_ARTIFACT", HarborEventKind.ArtifactPushed, false, PaymentsDigest)]
    [InlineData(ScanCompletedCloudEvent, "harbor.scan.completed", HarborEventKind.ScanCompleted, true, PaymentsDigest)]
    [InlineData(ScanFailedDefault, "SCANNING_FAILED", HarborEventKind.ScanFailed, false, "sha256:be6634e0be03ac3063847483b184a38afac029a38464bab95ba318a5d6e225cf")]
    [InlineData(DeleteUntagged, "DELETE_ARTIFACT", HarborEventKind.ArtifactDeleted, false, "sha256:991e5b930fd9f8bfd9904b057b8860e4a9c3ba6d63c93f5fb3770bf0ab592f77")]
    public void The_Reference_Payloads_Name_Their_Artifact(string json, string type, HarborEventKind kind, bool cloudEvent, string digest)
    {
        var parsed = Parse(json);

        Assert.Null(parsed.Error);
        var webhook = parsed.Event!;
        Assert.Equal(type, webhook.Type);
        Assert.Equal(kind, webhook.Kind);
        Assert.Equal(cloudEvent, webhook.IsCloudEvent);
        Assert.Equal(new ArtifactRef("team-a", "team-a/payments-api", digest), Assert.Single(webhook.Artifacts));
    }

    [Fact]
    public void A_Nested_Repository_Keeps_Its_Project_And_Full_Name()
    {
        var json = PushDefault
            .Replace("\"name\": \"payments-api\"", "\"name\": \"tools/migrator\"", StringComparison.Ordinal)
            .Replace("\"repo_full_name\": \"team-a/payments-api\"", "\"repo_full_name\": \"team-a/tools/migrator\"", StringComparison.Ordinal);

        Assert.Equal(new ArtifactRef("team-a", "team-a/tools/migrator", PaymentsDigest), Assert.Single(Parse(json).Event!.Artifacts));
    }

    [Fact]
    public void The_Full_Name_Is_Composed_When_Harbor_Leaves_It_Out_And_The_Project_Taken_From_It_When_The_Namespace_Is_Missing()
    {
        var withoutFullName = PushDefault.Replace("\"repo_full_name\": \"team-a/payments-api\",", "", StringComparison.Ordinal);
        var withoutNamespace = PushDefault.Replace("\"namespace\": \"team-a\",", "", StringComparison.Ordinal).Replace("\"name\": \"payments-api\",", "", StringComparison.Ordinal);

        Assert.Equal("team-a/payments-api", Assert.Single(Parse(withoutFullName).Event!.Artifacts).RepositoryName);
        Assert.Equal("team-a", Assert.Single(Parse(withoutNamespace).Event!.Artifacts).ProjectName);
    }

    [Fact]
    public void Resources_Naming_The_Same_Digest_Twice_Give_One_Reference()
    {
        var json = PushDefault.Replace("\"resources\": [", $"\"resources\": [{{\"digest\": \"{PaymentsDigest}\", \"tag\": \"latest\"}},", StringComparison.Ordinal);

        Assert.Single(Parse(json).Event!.Artifacts);
    }

    [Theory]
    [InlineData("PULL_ARTIFACT")]
    [InlineData("SCANNING_STOPPED")]
    [InlineData("QUOTA_EXCEED")]
    [InlineData("TAG_RETENTION")]
    [InlineData("harbor.artifact.pushed")] // a CloudEvents type in the Default format is not Harbor's
    public void Other_Event_Types_Are_Read_But_Not_Handled(string type)
    {
        var parsed = Parse(PushDefault.Replace("\"PUSH_ARTIFACT\"", $"\"{type}\"", StringComparison.Ordinal));

        Assert.Null(parsed.Error);
        Assert.False(parsed.Event!.IsHandled);
        Assert.Empty(parsed.Event.Artifacts);
    }

    [Theory]
    [InlineData("{", "not valid JSON")]
    [InlineData("\"PUSH_ARTIFACT\"", "not a JSON object")]
    [InlineData("{\"type\": \"\"}", "no valid \"type\"")]
    [InlineData("{\"type\": \"PUSH ARTIFACT\"}", "no valid \"type\"")]
    [InlineData("{\"type\": \"PUSH_ARTIFACT\", \"event_data\": []}", "not an object")]
    [InlineData("{\"type\": \"PUSH_ARTIFACT\", \"event_data\": {\"resources\": {}}}", "not an array")]
    [InlineData("{\"type\": \"PUSH_ARTIFACT\", \"event_data\": {\"resources\": [{\"digest\": \"sha256:ABC\"}], \"repository\": {\"repo_full_name\": \"team-a/x\"}}}", "digest")]
    [InlineData("{\"type\": \"PUSH_ARTIFACT\", \"event_data\": {\"resources\": [{}], \"repository\": {\"repo_full_name\": \"team-a/x\"}}}", "digest")]
    [InlineData("{\"type\": \"PUSH_ARTIFACT\", \"event_data\": {\"resources\": [{\"digest\": \"" + PaymentsDigest + "\"}], \"repository\": {\"repo_full_name\": \"Team-A/x\"}}}", "project")]
    [InlineData("{\"type\": \"PUSH_ARTIFACT\", \"event_data\": {\"resources\": [{\"digest\": \"" + PaymentsDigest + "\"}], \"repository\": {\"repo_full_name\": \"team-a/../x\"}}}", "repository name")]
    [InlineData("{\"type\": \"PUSH_ARTIFACT\", \"event_data\": {\"resources\": [{\"digest\": \"" + PaymentsDigest + "\"}], \"repository\": {\"repo_full_name\": \"team-a\"}}}", "names no project")]
    [InlineData("{\"type\": \"PUSH_ARTIFACT\", \"event_data\": {\"resources\": [{\"digest\": \"" + PaymentsDigest + "\"}], \"repository\": {\"namespace\": \"team-a\", \"name\": \"y\", \"repo_full_name\": \"team-a/x\"}}}", "does not match")]
    [InlineData("{\"specversion\": \"1.0\", \"type\": \"harbor.artifact.pushed\", \"data\": \"x\"}", "not an object")]
    [InlineData("{\"specversion\": 1, \"type\": \"harbor.artifact.pushed\"}", "specversion")]
    public void Malformed_Payloads_Say_What_Is_Wrong(string json, string expected)
    {
        var parsed = Parse(json);

        Assert.Null(parsed.Event);
        Assert.Contains(expected, parsed.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Too_Many_Resources_Or_Too_Deep_A_Document_Is_Malformed()
    {
        var resources = string.Join(",", Enumerable.Range(0, HarborWebhookPayload.MaxResources + 1).Select(_ => $"{{\"digest\": \"{PaymentsDigest}\"}}"));
        var many = $"{{\"type\": \"PUSH_ARTIFACT\", \"event_data\": {{\"resources\": [{resources}], \"repository\": {{\"repo_full_name\": \"team-a/x\"}}}}}}";
        var deep = "{\"type\": \"PUSH_ARTIFACT\", \"x\": " + string.Concat(Enumerable.Repeat("[", 100)) + string.Concat(Enumerable.Repeat("]", 100)) + "}";

        Assert.Contains("More than", Parse(many).Error, StringComparison.Ordinal);
        Assert.Contains("not valid JSON", Parse(deep).Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Secrets_Are_Random_Stored_As_A_Hash_And_Match_Only_Exactly()
    {
        var secret = WebhookSecrets.Generate();
        var other = WebhookSecrets.Generate();
        var hash = WebhookSecrets.Hash(secret);

        Assert.Matches("^hpwh_[0-9A-Za-z]{40}$", secret);
        Assert.NotEqual(secret, other);
        Assert.Matches("^[0-9a-f]{64}$", hash);
        Assert.True(WebhookSecrets.Matches(secret, hash));
        Assert.True(WebhookSecrets.Matches($" {secret} ", hash));
        Assert.False(WebhookSecrets.Matches(other, hash));
        Assert.False(WebhookSecrets.Matches("Bearer " + secret, hash));
        Assert.False(WebhookSecrets.Matches(hash, hash));
        Assert.False(WebhookSecrets.Matches(secret, null));
        Assert.False(WebhookSecrets.Matches(null, hash));
        Assert.False(WebhookSecrets.Matches(secret, "not hex"));
        Assert.False(WebhookSecrets.Matches(new string('a', 10_000), hash));
    }

    [Fact]
    public void The_Throttle_Allows_A_Burst_Per_Connection_Then_Refills_At_The_Configured_Rate()
    {
        var clock = new TestClock();
        var throttle = new WebhookThrottle(Options.Create(new WebhookOptions { BurstLimit = 3, PerMinute = 60 }), clock);

        for (var i = 0; i < 3; i++)
        {
            Assert.True(throttle.TryAcquire(1, out _));
        }

        Assert.False(throttle.TryAcquire(1, out var retryAfter));
        Assert.Equal(TimeSpan.FromSeconds(1), retryAfter);
        // Another connection has its own bucket.
        Assert.True(throttle.TryAcquire(2, out _));

        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True(throttle.TryAcquire(1, out _));
        Assert.False(throttle.TryAcquire(1, out _));

        // A long quiet spell refills the bucket, never beyond the burst.
        clock.Advance(TimeSpan.FromHours(1));
        for (var i = 0; i < 3; i++)
        {
            Assert.True(throttle.TryAcquire(1, out _));
        }

        Assert.False(throttle.TryAcquire(1, out _));
    }

    private static WebhookParseResult Parse(string json) => HarborWebhookPayload.Parse(Encoding.UTF8.GetBytes(json));
}
