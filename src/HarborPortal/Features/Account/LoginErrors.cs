namespace HarborPortal.Features.Account;

/// <summary>
/// The login page's <c>?error=</c> codes and what the user reads for each. Details (which check failed)
/// go to the log and the audit trail, never to the page.
/// </summary>
public static class LoginErrors
{
    public const string AccessDenied = "access_denied";
    public const string InvalidState = "state";
    public const string InvalidToken = "token";
    public const string ProviderUnavailable = "provider_unavailable";
    public const string NoMappedGroup = "not_mapped";
    public const string InvalidCredentials = "invalid_credentials";
    public const string LockedOut = "locked";
    public const string SessionEnded = "session_ended";

    public static string? Describe(string? code) => code switch
    {
        null or "" => null,
        AccessDenied => "Sign-in was cancelled or refused by the identity provider.",
        InvalidState => "The sign-in attempt expired or did not start here. Please try again.",
        InvalidToken => "The identity provider's answer could not be verified. Please try again; if it keeps failing, tell an administrator.",
        ProviderUnavailable => "The identity provider could not be reached. Please try again in a moment.",
        NoMappedGroup => "Your account is not in any group that has access to HarborPortal. Ask an administrator to add you.",
        InvalidCredentials => "Invalid user name or password.",
        LockedOut => "Too many failed attempts: this account is locked for 15 minutes.",
        SessionEnded => "Your session has ended. Please log in again.",
        _ => "Sign-in failed. Please try again.",
    };

    public static bool IsLocalUrl(string? url) =>
        !string.IsNullOrEmpty(url)
        && url[0] == '/'
        && (url.Length == 1 || (url[1] != '/' && url[1] != '\\'))
        && !url.Contains("://", StringComparison.Ordinal);
}
