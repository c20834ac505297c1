using HarborPortal;
using HarborPortal.Features.AdminCli;

var builder = WebApplication.CreateBuilder(args);
builder.AddHarborPortal();

var app = builder.Build();

// `dotnet run -- admin …`: the same binary and configuration, a command instead of the web server.
if (AdminCommandLine.IsAdminCommand(args))
{
    return await AdminCommandLine.RunAsync(app, args, Console.Out, Console.Error);
}

await app.UseHarborPortalAsync();
await app.RunAsync();
return 0;
