using System.Text.RegularExpressions;

namespace HarborPortal.Features.Imports;

/// <summary>
/// The image an uploaded report is about: <c>project/repository@sha256:…</c> or <c>project/repository:tag</c>, optionally
/// prefixed by the registry's host (which must then be the connection's).
/// </summary>
public sealed partial record ImageReference(string? RegistryHost, string ProjectName, string RepositoryName, string? Tag, string? Digest)
{
    public const string Expected = "project/repository@sha256:… (or project/repository:tag when a Trivy report lists the tag's digest)";

    public static ImageReference? Parse(string? text, out string? error)
    {
        text = text?.Trim() ?? "";
        error = null;
        if (text.Length == 0)
        {
            error = $"Name the image the report is about: {Expected}.";
            return null;
        }

        string? digest = null;
        var at = text.IndexOf('@', StringComparison.Ordinal);
        var name = text;
        if (at >= 0)
        {
            digest = text[(at + 1)..];
            name = text[..at];
            if (!DigestPattern().IsMatch(digest))
            {
                error = $"'{digest}' is not an image digest: it must be sha256: followed by 64 lower-case hex characters.";
                return null;
            }
        }

        string? tag = null;
        var lastSlash = name.LastIndexOf('/');
        var colon = name.IndexOf(':', lastSlash + 1);
        if (colon >= 0)
        {
            tag = name[(colon + 1)..];
            name = name[..colon];
            if (!TagPattern().IsMatch(tag))
            {
                error = $"'{tag}' is not a valid tag.";
                return null;
            }
        }

        var segments = name.Split('/').ToList();
        string? host = null;
        // A first segment with a dot or a port is a registry host (Docker's rule), never a Harbor project name.
        if (segments.Count > 0 && (segments[0].Contains('.', StringComparison.Ordinal) || segments[0].Contains(':', StringComparison.Ordinal) || segments[0] == "localhost"))
        {
            host = segments[0].ToLowerInvariant();
            segments.RemoveAt(0);
        }

        if (segments.Count < 2)
        {
            error = $"'{text}' needs a project and a repository: {Expected}.";
            return null;
        }

        if (segments.FirstOrDefault(s => !PathComponentPattern().IsMatch(s)) is { } bad)
        {
            error = $"'{bad}' is not a valid project or repository name (lower-case letters, digits and . _ - between them).";
            return null;
        }

        if (digest is null && tag is null)
        {
            error = $"'{text}' has neither a digest nor a tag: {Expected}.";
            return null;
        }

        return new ImageReference(host, segments[0], string.Join('/', segments), tag, digest);
    }

    /// <summary>The digest of this repository in references such as <c>harbor.example.com/team-a/api@sha256:…</c>.</summary>
    public IEnumerable<string> DigestsIn(IEnumerable<string>? repoDigests) =>
        (repoDigests ?? []).Select(r => r.Split('@', 2)).Where(p => p.Length == 2 && NamesThisRepository(p[0])).Select(p => p[1]);

    /// <summary>The tags of this repository in references such as <c>harbor.example.com/team-a/api:1.2</c>.</summary>
    public IEnumerable<string> TagsIn(IEnumerable<string>? repoTags)
    {
        foreach (var reference in repoTags ?? [])
        {
            var colon = reference.LastIndexOf(':');
            if (colon > reference.LastIndexOf('/') && NamesThisRepository(reference[..colon]))
            {
                yield return reference[(colon + 1)..];
            }
        }
    }

    public string Describe(string digest) => $"{RepositoryName}@{digest}";

    private bool NamesThisRepository(string name) =>
        name.Equals(RepositoryName, StringComparison.Ordinal) || name.EndsWith("/" + RepositoryName, StringComparison.Ordinal);

    [GeneratedRegex("^sha256:[0-9a-f]{64}$")]
    private static partial Regex DigestPattern();

    [GeneratedRegex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")]
    private static partial Regex TagPattern();

    [GeneratedRegex("^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")]
    private static partial Regex PathComponentPattern();
}
