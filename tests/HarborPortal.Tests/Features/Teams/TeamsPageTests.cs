using System.Net;
using AngleSharp.Html.Parser;
using HarborPortal.Features.Auth;
using HarborPortal.Features.Findings;
using HarborPortal.Features.Teams;
using HarborPortal.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Xunit.Abstractions;

namespace HarborPortal.Tests.Features.Teams;

public sealed class TeamsPageTests(ITestOutputHelper output)
{
    [Fact]
    public async Task An_Admin_Creates_Changes_And_Deletes_A_Team_And_Each_Change_Is_Audited()
    {
        await using var app = new PortalApplication(output: output);
        using var admin = app.CreateClientWithCookies();
        await app.SignInAsAsync(admin, "alex", PortalRoles.Admin);

        using var created = await PostAsync(admin, "/admin/teams/save", new() { ["name"] = "Payments", ["group"] = "payments-devs", ["projects"] = "team-a\nteam-b, team-a" });
        long id;
        await using (var db = app.CreateDbContext())
        {
            var team = await db.Teams.Include(t => t.Projects).SingleAsync();
            id = team.Id;
            Assert.Equal("payments-devs", team.AuthentikGroup);
            Assert.Equal(["team-a", "team-b"], team.Projects.Select(p => p.ProjectName).Order());
        }

        using var changed = await PostAsync(admin, "/admin/teams/save", new() { ["id"] = id.ToString(), ["name"] = "Payments", ["group"] = "payments-devs", ["projects"] = "team-b\nteam-c" });
        var page = new HtmlParser().ParseDocument(await admin.GetStringAsync("/admin/teams"));
        using var deleted = await PostAsync(admin, $"/admin/teams/{id}/delete", []);

        Assert.Equal("/admin/teams?saved=" + id, created.Headers.Location?.ToString());
        Assert.Contains("team-c", page.QuerySelector($"[data-team-id='{id}'] textarea")!.TextContent, StringComparison.Ordinal);
        Assert.Equal("/admin/teams?deleted=1", deleted.Headers.Location?.ToString());
        await using var check = app.CreateDbContext();
        Assert.Empty(await check.Teams.ToListAsync());
        Assert.Empty(await check.TeamProjects.ToListAsync());
        var audit = await check.AuditEvents.Where(e => e.Action.StartsWith("team.")).OrderBy(e => e.Id).ToListAsync();
        Assert.Equal(["team.create", "team.update", "team.delete"], audit.Select(e => e.Action));
        Assert.All(audit, e => Assert.Equal("alex", e.Actor));
        Assert.Equal("projects added: team-c; projects removed: team-a", audit[1].Details);
    }

    [Theory]
    [InlineData("", "payments-devs", "A team needs a name.")]
    [InlineData("Payments", " ", "Name the authentik group")]
    public async Task A_Team_Without_A_Name_Or_Group_Is_Refused_With_A_Clear_Message(string name, string group, string message)
    {
        await using var app = new PortalApplication(output: output);
        using var admin = app.CreateClientWithCookies();
        await app.SignInAsAsync(admin, "alex", PortalRoles.Admin);

        using var response = await PostAsync(admin, "/admin/teams/save", new() { ["name"] = name, ["group"] = group, ["projects"] = "team-a" });
        var page = new HtmlParser().ParseDocument(await admin.GetStringAsync(response.Headers.Location!.ToString()));

        Assert.Contains(message, page.QuerySelector("[data-testid=team-error]")!.TextContent, StringComparison.Ordinal);
        await using var db = app.CreateDbContext();
        Assert.Empty(await db.Teams.ToListAsync());
    }

    [Fact]
    public async Task Only_Admins_See_Or_Change_Teams_And_Every_Post_Needs_The_Antiforgery_Token()
    {
        await using var app = new PortalApplication(output: output);
        using var developer = app.CreateClientWithCookies();
        await app.SignInAsAsync(developer, "dana", PortalRoles.Developer, PortalRoles.Security);
        using var admin = app.CreateClientWithCookies();
        await app.SignInAsAsync(admin, "alex", PortalRoles.Admin);

        using var page = await developer.GetAsync("/admin/teams");
        using var post = await developer.PostAsync("/admin/teams/save", new FormUrlEncodedContent(new Dictionary<string, string> { ["name"] = "x", ["group"] = "y" }));
        await admin.GetStringAsync("/admin/teams");
        using var forged = await admin.PostAsync("/admin/teams/save", new FormUrlEncodedContent(new Dictionary<string, string> { ["name"] = "x", ["group"] = "y" }));

        Assert.Equal(HttpStatusCode.Forbidden, page.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, post.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        await using var db = app.CreateDbContext();
        Assert.Empty(await db.Teams.ToListAsync());
    }

    [Fact]
    public async Task A_Developers_Scope_Is_The_Projects_Of_The_Teams_Of_Their_Groups()
    {
        await using var app = new PortalApplication(output: output);
        app.CreateClient().Dispose();
        await using (var db = app.CreateDbContext())
        {
            db.Teams.AddRange(
                new Team { Name = "A", AuthentikGroup = "Team-A", Projects = [new() { ProjectName = "alpha" }, new() { ProjectName = "shared" }] },
                new Team { Name = "B", AuthentikGroup = "team-b", Projects = [new() { ProjectName = "beta" }, new() { ProjectName = "shared" }] },
                new Team { Name = "C", AuthentikGroup = "team-c", Projects = [new() { ProjectName = "gamma" }] });
            await db.SaveChangesAsync();
        }

        await using var context = app.CreateDbContext();
        var developer = ComponentRenderer.User("dana", PortalRoles.Developer);
        ((System.Security.Claims.ClaimsIdentity)developer.Identity!).AddClaims([new(PortalClaimTypes.Group, "team-a"), new(PortalClaimTypes.Group, "team-b")]);

        var scope = await TeamScopes.ForAsync(context, developer, CancellationToken.None);
        var security = await TeamScopes.ForAsync(context, ComponentRenderer.User("sam", PortalRoles.Security, PortalRoles.Developer), CancellationToken.None);
        var viewer = await TeamScopes.ForAsync(context, ComponentRenderer.User("vic", PortalRoles.Viewer), CancellationToken.None);
        var groupless = await TeamScopes.ForAsync(context, ComponentRenderer.User("gus", PortalRoles.Developer), CancellationToken.None);

        Assert.Equal(["alpha", "beta", "shared"], scope.ProjectNames);
        // Everything (the scope also carries who reads, for the queue's assignee=me).
        Assert.False(security.IsRestricted);
        Assert.False(viewer.IsRestricted);
        Assert.Equal([], groupless.ProjectNames);
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, string path, Dictionary<string, string> fields)
    {
        var token = await PortalApplication.GetAntiforgeryTokenAsync(client, "/admin/teams");
        fields["__RequestVerificationToken"] = token;
        var response = await client.PostAsync(path, new FormUrlEncodedContent(fields));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return response;
    }
}
