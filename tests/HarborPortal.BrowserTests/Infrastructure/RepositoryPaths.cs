namespace HarborPortal.BrowserTests.Infrastructure;

/// <summary>Paths inside the repository, found from the test binaries by walking up to <c>HarborPortal.sln</c>.</summary>
public static class RepositoryPaths
{
    private static readonly Lazy<string> LazyRoot = new(FindRoot);

    public static string Root => LazyRoot.Value;

    /// <summary>Failure screenshots and traces (git-ignored; the same folder <c>build/test.sh</c> passes to <c>dotnet test</c>).</summary>
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

        throw new InvalidOperationException($"Could not find HarborPortal.sln above {AppContext.BaseDirectory}.");
    }
}
