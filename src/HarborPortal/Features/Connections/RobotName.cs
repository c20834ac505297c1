namespace HarborPortal.Features.Connections;

/// <summary>
/// Harbor signs a robot in only by its full name, prefix included (<c>robot$name</c>, <c>robot$project+name</c>), and
/// a name without it fails silently as an anonymous request. These checks warn; they never block a save, because an
/// installation may have renamed its robots in ways the portal cannot know.
/// </summary>
public static class RobotName
{
    /// <summary>A warning to show next to the user name field, or null when the name looks right.</summary>
    public static RobotNameWarning? Check(HarborAuthKind authKind, string? userName, string? robotPrefix)
    {
        var name = userName?.Trim() ?? "";
        var prefix = string.IsNullOrWhiteSpace(robotPrefix) ? HarborConnection.DefaultRobotPrefix : robotPrefix.Trim();
        if (name.Length == 0)
        {
            return null;
        }

        if (authKind == HarborAuthKind.User)
        {
            return name.StartsWith(prefix, StringComparison.Ordinal)
                ? new RobotNameWarning($"\"{name}\" looks like a robot account: choose \"Robot account\" as the credential type.", null)
                : null;
        }

        if (name.StartsWith(prefix, StringComparison.Ordinal))
        {
            return null;
        }

        var suggestion = prefix + name;
        var plus = name.IndexOf('+', StringComparison.Ordinal);
        var kind = plus > 0 && plus < name.Length - 1
            ? $"a project robot (project \"{name[..plus]}\")"
            : "a system robot";
        return new RobotNameWarning(
            $"Harbor robots sign in with their full name, prefix \"{prefix}\" included. If this is {kind}, use \"{suggestion}\": without the prefix Harbor treats every request as anonymous.",
            suggestion);
    }
}

/// <param name="Message">What to tell the admin.</param>
/// <param name="SuggestedName">The full name to use instead, when there is one.</param>
public sealed record RobotNameWarning(string Message, string? SuggestedName);
