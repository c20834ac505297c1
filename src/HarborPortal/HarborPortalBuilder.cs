using HarborPortal.Components;
using HarborPortal.Data;
using HarborPortal.Features.Account;
using HarborPortal.Features.AdminCli;
using HarborPortal.Features.Api;
using HarborPortal.Features.Audit;
using HarborPortal.Features.Auth;
using HarborPortal.Features.Connections;
using HarborPortal.Features.Dashboard;
using HarborPortal.Features.Demo;
using HarborPortal.Features.Findings;
using HarborPortal.Features.Imports;
using HarborPortal.Features.Jobs;
using HarborPortal.Features.Keys;
using HarborPortal.Features.Locations;
using HarborPortal.Features.Operations;
using HarborPortal.Features.Posture;
using HarborPortal.Features.Scanning;
using HarborPortal.Features.Webhooks;
using HarborPortal.Features.Schedules;
using HarborPortal.Features.Teams;
using HarborPortal.Features.ThreatData;
using HarborPortal.Features.Triage;
using HarborPortal.Harbor;
using HarborPortal.Web;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace HarborPortal;

/// <summary>The composition root, in reading order: what the portal is made of, then how a request flows through it.</summary>
public static class HarborPortalBuilder
{
    public static WebApplicationBuilder AddHarborPortal(this WebApplicationBuilder builder)
    {
        // `--demo`: first, because it moves the data directory that everything below reads.
        builder.AddDemoMode();

        var services = builder.Services;
        services.AddOptions<PortalOptions>().BindConfiguration(PortalOptions.SectionName);
        services.AddSingleton(TimeProvider.System);
        services.AddHttpContextAccessor();

        // The one database: SQLite by default, migrations applied at start.
        builder.AddPortalDatabase();

        // Keys that protect cookies, antiforgery tokens and stored tickets: on disk in the data directory (SQLite) or in the
        // database shared by every instance (PostgreSQL), so that restarts keep sessions; optionally encrypted with a certificate.
        var dataDirectory = (builder.Configuration.GetSection(PortalOptions.SectionName).Get<PortalOptions>() ?? new()).ResolveDataDirectory(builder.Environment.ContentRootPath);
        builder.AddPortalDataProtection(dataDirectory);

        // Sign-in: authentik over OIDC, the break-glass admin, personal API tokens; roles as policies.
        services.AddOptions<OidcOptions>().BindConfiguration(OidcOptions.SectionName);
        services.AddOptions<LocalAdminOptions>().BindConfiguration(LocalAdminOptions.SectionName);
        services.AddSingleton<LocalAdminAvailability>();
        // The break-glass admin: its account is made (or its password rotated from configuration) before the server listens.
        services.AddLocalAdmin();
        builder.AddPortalAuthentication();
        services.AddPortalAuthorization();
        services.AddCascadingAuthenticationState();

        // The Harbor API client: one pooled, rate-limited, retrying HttpClient per connection.
        services.AddHarborClient();

        // The append-only audit log.
        services.AddSingleton<AuditLog>();

        // Harbor connections: encrypted secrets, URL rules and the optional outbound allow-list.
        services.AddHarborConnections();

        // The sync engine: Harbor's vulnerability reports become findings, one run at a time per connection.
        services.AddScanning();
        services.AddHarborWebhooks();
        services.AddScanLocations();
        // Harbor's own security settings, checked after every full sync and on demand; failures become findings.
        services.AddPosture();

        // Sync schedules per connection: Quartz cron triggers, reconciled with their table at start.
        services.AddSchedules();

        // The findings queue: filters, facets, groups and type-ahead over a million findings; explained priority.
        services.AddFindings();
        // CISA KEV and EPSS feed the priority: daily fetches or uploads, off until an admin enables them.
        services.AddThreatData();
        // Trivy JSON and SARIF uploads: findings of their own source tools.
        services.AddImports();

        // The dashboard (`/`): figures over the findings, daily snapshots for the trend, scan coverage.
        services.AddDashboard();
        // Triage: decisions that follow new images, assignment, comments, the hourly expiry of risk acceptances.
        services.AddTriage();

        // Background jobs: Quartz with its store in the portal database.
        builder.AddPortalJobs();

        // Pages: Razor components rendered on the server (static SSR; htmx swaps fragments).
        services.AddRazorComponents();
        services.AddAntiforgery(options => options.HeaderName = "RequestVerificationToken");

        // The JSON API's errors are problem+json.
        services.AddProblemDetails();
        // The /api/v1 JSON API: its OpenAPI document, problem+json for exceptions, 401/403 instead of redirects.
        services.AddPortalApi();

        // `admin …` commands: their logs go to stderr so that stdout carries only the result.
        builder.AddAdminCommandLine();

        services.AddPortalHealthChecks();

        // Operations: correlation ids in the logs (requests and job runs), Prometheus metrics at /metrics.
        services.AddPortalOperations();

        // Behind a TLS-terminating proxy: trust X-Forwarded-* from the configured proxies only.
        services.AddPortalForwardedHeaders();

        return builder;
    }

    public static async Task UseHarborPortalAsync(this WebApplication app)
    {
        await app.MigrateDatabaseAsync();
        await app.PrepareDataProtectionKeysAsync();

        app.UseForwardedHeaders();
        app.UseCorrelationIds();

        // Errors: API callers get problem+json; people get a page that says what happened, never how.
        app.UsePortalErrorPages();
        if (!app.Environment.IsDevelopment())
        {
            app.UseHsts();
        }

        var oidc = app.Services.GetRequiredService<IOptions<OidcOptions>>().Value;
        app.UseSecurityHeaders(oidc.IsConfigured && Uri.TryCreate(oidc.Authority, UriKind.Absolute, out var authority) ? authority.GetLeftPart(UriPartial.Authority) : null);

        app.UseStaticFiles();
        app.UseRouting();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseAdminArea();
        app.UseAntiforgery();
        app.RejectInvalidAntiforgeryTokens();

        app.MapPortalHealthChecks();
        app.MapMetrics();
        // Login through authentik, logout (also back-channel from authentik), session revoke.
        app.MapAuthEndpoints();
        app.MapJobsEndpoints();
        // POST /account/login/local: the break-glass admin's sign-in form.
        app.MapLocalAdminEndpoints();
        // POST /account/tokens…: a user's own API tokens, from the account page.
        app.MapAccountEndpoints();
        // /api/v1: the JSON API (role policies, cookie reads only, OpenAPI document).
        app.MapApiEndpoints();
        // /admin/connections form posts and /api/v1/connections (Admin only; the API writes with tokens only).
        app.MapConnectionEndpoints();
        app.MapSyncEndpoints();
        app.MapPostureEndpoints();
        app.MapHarborWebhooks();
        app.MapLocationsEndpoints();
        app.MapScheduleEndpoints();
        // /findings fragments (view, type-ahead, counts) and /api/v1/findings, scoped by team.
        app.MapFindingsEndpoints();
        app.MapImportEndpoints();
        // GET /api/v1/dashboard: the dashboard's figures as JSON, scoped by team.
        app.MapDashboardEndpoints();
        // /findings/export.csv|json and /api/v1/findings/export: the queue's view as a file, streamed.
        app.MapFindingsExportEndpoints();
        app.MapTriageEndpoints();
        app.MapTeamsEndpoints();
        app.MapThreatDataEndpoints();
        app.MapRazorComponents<App>();
    }

    private static async Task MigrateDatabaseAsync(this WebApplication app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
        await db.Database.MigrateAsync();
        if (db.Database.IsSqlite())
        {
            // Write-ahead logging: readers never wait for the writer, so pages stay quick while a job writes.
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;");
        }
    }
}
