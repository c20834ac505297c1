namespace HarborPortal.Tests.Infrastructure;

public static class RepositoryPaths
{
    /// <summary>The repository root: the first folder above the test binaries holding <c>HarborPortal.sln</c>.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>Failure screenshots and traces (git-ignored; the folder <c>build/test.sh</c> passes to <c>dotnet test</c>).</summary>
    public static string TestResults => Path.Combine(Root, "TestResults");

    /// <summary>The README's screenshots (committed).</summary>
    public static string DocsScreenshots => Path.Combine(Root, "docs", "screenshots");

    /// <summary>A test or page name made safe for a file name.</summary>
    public static string FileName(string name) =>
        string.Concat(name.Select(c => Path.GetInvalidFileNameChars().Contains(c) || c is ' ' or '(' or ')' or '"' ? '_' : c));

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "HarborPortal.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"HarborPortal.sln not found above {AppContext.BaseDirectory}");
    }

    /// <summary>The build configuration of these tests (Debug or Release), so a publish reuses that build.</summary>
    public static string Configuration { get; } =
        typeof(RepositoryPaths).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyConfigurationAttribute), false)
            .OfType<System.Reflection.AssemblyConfigurationAttribute>().FirstOrDefault()?.Configuration ?? "Debug";
}
