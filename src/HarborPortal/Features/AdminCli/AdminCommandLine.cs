namespace HarborPortal.Features.AdminCli;

/// <summary>The <c>admin …</c> commands of the same binary, for operators and automation.</summary>
public static class AdminCommandLine
{
    public static bool IsAdminCommand(string[] args) => args.Length > 0 && args[0] == "admin";

    public static Task<int> RunAsync(WebApplication app, string[] args, TextWriter output, TextWriter error)
    {
        error.WriteLine("Usage: admin migrate");
        return Task.FromResult(2);
    }
}
