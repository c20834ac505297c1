namespace HarborPortal.Features.Connections;

/// <summary>The rules a connection must meet that need neither the database nor the network.</summary>
public static class ConnectionRules
{
    public const int MaxNameLength = 128;
    public const int MaxUserNameLength = 256;
    public const int MaxRobotPrefixLength = 64;
    public const int MaxSecretLength = 1024;

    /// <summary>The form fields, as the page's validation messages and the API's problem details name them.</summary>
    public static class Fields
    {
        public const string Name = nameof(ConnectionForm.Name);
        public const string Url = nameof(ConnectionForm.Url);
        public const string UserName = nameof(ConnectionForm.UserName);
        public const string Secret = nameof(ConnectionForm.Secret);
        public const string RobotPrefix = nameof(ConnectionForm.RobotPrefix);
        public const string CaCertificatePem = nameof(ConnectionForm.CaCertificatePem);
        public const string AuthKind = nameof(ConnectionForm.AuthKind);
    }

    /// <summary>Adds an error per broken rule; returns the normalised URL when the URL is valid.</summary>
    public static string? Validate(ConnectionForm form, bool secretRequired, ValidationErrors errors)
    {
        var name = form.Name?.Trim() ?? "";
        if (name.Length == 0)
        {
            errors.Add(Fields.Name, "Give the connection a name, e.g. the registry's host or its team.");
        }
        else if (name.Length > MaxNameLength)
        {
            errors.Add(Fields.Name, $"The name is longer than {MaxNameLength} characters.");
        }

        if (!Enum.IsDefined(form.AuthKind))
        {
            errors.Add(Fields.AuthKind, "Choose a robot account or a user.");
        }

        var userName = form.UserName?.Trim() ?? "";
        if (userName.Length == 0)
        {
            errors.Add(Fields.UserName, form.AuthKind == HarborAuthKind.Robot ? "Enter the robot account's full name, e.g. robot$harbor-portal." : "Enter the Harbor user name.");
        }
        else if (userName.Length > MaxUserNameLength)
        {
            errors.Add(Fields.UserName, $"The user name is longer than {MaxUserNameLength} characters.");
        }

        ValidateSecret(form.Secret, secretRequired, errors);

        var prefix = form.RobotPrefix?.Trim() ?? "";
        if (prefix.Length > MaxRobotPrefixLength || prefix.Any(char.IsWhiteSpace))
        {
            errors.Add(Fields.RobotPrefix, $"The robot prefix is at most {MaxRobotPrefixLength} characters, without spaces (Harbor's default is robot$).");
        }

        if (!CaCertificates.TryParse(form.CaCertificatePem, out _, out var caError))
        {
            errors.Add(Fields.CaCertificatePem, caError!);
        }

        if (!RegistryUrl.TryNormalize(form.Url, form.AllowInsecureHttp, out var url, out var urlError))
        {
            errors.Add(Fields.Url, urlError);
            return null;
        }

        return url;
    }

    public static void ValidateSecret(string? secret, bool required, ValidationErrors errors)
    {
        if (string.IsNullOrEmpty(secret))
        {
            if (required)
            {
                errors.Add(Fields.Secret, "Enter the robot secret or the password.");
            }
        }
        else if (secret.Length > MaxSecretLength)
        {
            errors.Add(Fields.Secret, $"The secret is longer than {MaxSecretLength} characters.");
        }
        else if (secret.Trim().Length != secret.Length)
        {
            // A pasted secret often drags a space or newline along, and Harbor would then refuse it.
            errors.Add(Fields.Secret, "The secret starts or ends with a space or line break: paste it again without it.");
        }
    }
}

/// <summary>Validation errors by field, in the order found.</summary>
public sealed class ValidationErrors
{
    private readonly Dictionary<string, List<string>> _errors = [];

    public bool Any => _errors.Count > 0;

    public void Add(string field, string message)
    {
        if (!_errors.TryGetValue(field, out var messages))
        {
            _errors[field] = messages = [];
        }

        messages.Add(message);
    }

    public IEnumerable<KeyValuePair<string, List<string>>> All => _errors;

    /// <summary>For <c>TypedResults.ValidationProblem</c>: field names in the API's camelCase.</summary>
    public Dictionary<string, string[]> ToProblemErrors() =>
        _errors.ToDictionary(e => System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(e.Key), e => e.Value.ToArray());
}
