using HarborPortal.Data;
using HarborPortal.Features.Connections;
using HarborPortal.Features.Findings;
using HarborPortal.Features.Teams;
using HarborPortal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace HarborPortal.Tests.Features.Findings;

/// <summary>
/// A small queue with known answers: 72 findings over two connections, three projects (team-a, team-b, team-c), six
/// repositories, twelve images, ten vulnerabilities and five packages, every severity, both statuses, two source tools.
/// Tests compare the queue with the same rows filtered and sorted in memory.
/// </summary>
public static class FindingSeeds
{
    public static readonly DateTimeOffset Now = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);
    public static readonly string[] Packages = ["openssl", "libssl3", "zlib1g", "curl", "busybox"];
    public const string Import = "Trivy (import)";

    public static Finding Create(int i, string? project = null, string? vulnerability = null)
    {
        project ??= $"team-{(char)('a' + i % 3)}";
        var repository = $"{project}/app{i / 3 % 2}";
        var digest = $"sha256:{i % 12:x2}{new string('0', 62)}";
        vulnerability ??= $"CVE-2024-{i % 10:0000}";
        var severity = (Severity)(i % 6);
        var package = Packages[i % 5];
        var finding = new Finding
        {
            // The index in the key keeps identities unique and 64 characters long (PostgreSQL enforces the column's length).
            Identity = Finding.IdentityOf(1, repository, digest, vulnerability, package, "1.0." + i),
            ConnectionId = project == "team-c" ? 2 : 1,
            ProjectName = project,
            RepositoryName = repository,
            Digest = digest,
            Tags = $"v{i % 12},latest",
            VulnerabilityId = vulnerability,
            PackageName = package,
            InstalledVersion = "1.0." + i,
            FixedVersion = i % 2 == 0 ? "1.1." + i : "",
            Severity = severity,
            CvssScore = severity == Severity.Unknown ? null : Math.Round(1 + i % 6 * 1.7 + i % 4 * 0.1, 1),
            CvssVector = i % 4 == 0 ? "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" : "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N",
            Title = $"{package}: something bad #{i}",
            Description = $"A flaw in {package} (finding {i}).",
            Links = $"https://avd.aquasec.com/nvd/{vulnerability.ToLowerInvariant()}",
            SourceTool = i % 9 == 8 ? Import : Finding.HarborSource,
            ScannerName = "Trivy",
            ScannerVersion = "v0.50.1",
            Status = i % 7 == 0 ? FindingStatus.Resolved : FindingStatus.Open,
            ResolvedReason = i % 7 == 0 ? Finding.NoLongerReported : null,
            FirstSeenAt = new DateTimeOffset(2025, 1, 1, 8, 0, 0, TimeSpan.Zero).AddDays(i),
            LastSeenAt = new DateTimeOffset(2025, 3, 1, 8, 0, 0, TimeSpan.Zero).AddHours(i * 7 % 50),
            ResolvedAt = i % 7 == 0 ? Now.AddDays(-1) : null,
            ProjectIsPublic = project == "team-b",
            ImagePushedAt = Now.AddDays(-(i % 3 == 0 ? 5 : 90)),
        };
        PriorityRules.Apply(finding, PriorityContext.For(finding, Now));
        return finding;
    }

    /// <summary>Inserts the 72 findings (and the two connections) and returns them as stored, ids and computed columns included.</summary>
    public static async Task<List<Finding>> SeedAsync(PortalApplication app, int count = 72)
    {
        await using var db = app.CreateDbContext();
        return await SeedAsync(db, count);
    }

    /// <inheritdoc cref="SeedAsync(PortalApplication, int)"/>
    public static async Task<List<Finding>> SeedAsync(PortalDbContext db, int count = 72)
    {
        if (!await db.HarborConnections.AnyAsync())
        {
            foreach (var name in new[] { "harbor-prod", "harbor-stage" })
            {
                db.HarborConnections.Add(new HarborConnection
                {
                    Name = name,
                    BaseUrl = $"https://{name}.example.test",
                    UserName = "robot$portal",
                    ProtectedSecret = "unused",
                    CreatedAt = Now,
                    UpdatedAt = Now,
                });
            }
        }

        db.Findings.AddRange(Enumerable.Range(0, count).Select(i => Create(i)));
        await db.SaveChangesAsync();
        return await db.Findings.AsNoTracking().OrderBy(f => f.Id).ToListAsync();
    }

    public static async Task AddTeamAsync(PortalApplication app, string name, string group, params string[] projects)
    {
        await using var db = app.CreateDbContext();
        db.Teams.Add(new Team { Name = name, AuthentikGroup = group, Projects = [.. projects.Select(p => new TeamProject { ProjectName = p })], UpdatedAt = Now });
        await db.SaveChangesAsync();
    }

    /// <summary>The order the queue promises: the sort key, then the id, both in the asked direction.</summary>
    public static IEnumerable<Finding> Sorted(IEnumerable<Finding> findings, FindingSortKey sort, bool ascending)
    {
        Func<Finding, double> key = sort switch
        {
            FindingSortKey.Priority => f => (int)f.Priority,
            FindingSortKey.Severity => f => (int)f.Severity,
            FindingSortKey.Cvss => f => f.CvssScore ?? -1,
            FindingSortKey.FirstSeen => f => f.FirstSeenAt.UtcTicks,
            FindingSortKey.LastSeen => f => f.LastSeenAt.UtcTicks,
            _ => throw new ArgumentOutOfRangeException(nameof(sort)),
        };
        return ascending ? findings.OrderBy(key).ThenBy(f => f.Id) : findings.OrderByDescending(key).ThenByDescending(f => f.Id);
    }

    public static PortalDbContext Context(PortalApplication app) => app.CreateDbContext();
}
