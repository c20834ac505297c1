namespace HarborPortal.Harbor;

/// <summary>An expected way for a Harbor call to fail; each carries the message a user sees.</summary>
public abstract record HarborFailure
{
    public abstract string Message { get; }
}

/// <summary>The URL is <c>http://</c> and the connection does not allow insecure HTTP; nothing was sent.</summary>
public sealed record HarborInsecureUrlRefused(Uri Url) : HarborFailure
{
    public override string Message => $"{Url} uses plain HTTP; use https:// or allow insecure HTTP for this connection.";
}

/// <summary>DNS, TCP or the connection itself failed (no HTTP answer).</summary>
public sealed record HarborUnreachable(string Reason) : HarborFailure
{
    public override string Message => $"Harbor cannot be reached: {Reason}";
}

/// <summary>The TLS handshake failed; <see cref="Reason"/> names the certificate problem.</summary>
public sealed record HarborTlsFailure(string Reason) : HarborFailure
{
    public override string Message => $"Harbor's certificate is not trusted: {Reason}";
}

/// <summary>No answer within the connection's timeout (after every attempt).</summary>
public sealed record HarborTimedOut(TimeSpan Timeout) : HarborFailure
{
    public override string Message => $"Harbor did not answer within {Timeout.TotalSeconds:0.#} s.";
}

/// <summary>Harbor answered with an error status; <see cref="Code"/> and <see cref="HarborMessage"/> come from its error body.</summary>
public abstract record HarborErrorResponse(int Status, string? Code, string? HarborMessage, string? RequestId) : HarborFailure
{
    protected string Detail => HarborMessage is null ? $"HTTP {Status}" : $"HTTP {Status} {Code}: {HarborMessage}";
}

/// <summary>401: the request was anonymous (Harbor degrades bad credentials to anonymous) and the resource needs a sign-in.</summary>
public sealed record HarborUnauthorized(string? Code, string? HarborMessage, string? RequestId) : HarborErrorResponse(401, Code, HarborMessage, RequestId)
{
    public override string Message => $"Harbor refused the credentials (wrong or expired secret, or a robot name without its prefix) — {Detail}";
}

/// <summary>403: signed in but missing <see cref="RequiredPermission"/> (e.g. <c>artifact-addition:read</c>).</summary>
public sealed record HarborForbidden(string? RequiredPermission, string? Code, string? HarborMessage, string? RequestId) : HarborErrorResponse(403, Code, HarborMessage, RequestId)
{
    public override string Message => RequiredPermission is null
        ? $"Harbor denied the request — {Detail}"
        : $"The account lacks the permission {RequiredPermission} — {Detail}";
}

public sealed record HarborNotFound(string? Code, string? HarborMessage, string? RequestId) : HarborErrorResponse(404, Code, HarborMessage, RequestId)
{
    public override string Message => $"Not found in Harbor — {Detail}";
}

/// <summary>5xx after every retry (Harbor scrubs these to <c>internal server error</c>).</summary>
public sealed record HarborServerError(int Status, string? Code, string? HarborMessage, string? RequestId) : HarborErrorResponse(Status, Code, HarborMessage, RequestId)
{
    public override string Message => $"Harbor failed — {Detail}";
}

/// <summary>A redirect, typically an <c>http://</c> URL for a Harbor that only serves HTTPS.</summary>
public sealed record HarborRedirected(int Status, Uri? Location, string? RequestId) : HarborErrorResponse(Status, null, null, RequestId)
{
    public override string Message => $"Harbor redirects to {Location?.ToString() ?? "another address"}; use that URL.";
}

/// <summary>Any other status (400, 409, 412, 422, 429 after retries, …).</summary>
public sealed record HarborUnexpectedResponse(int Status, string? Code, string? HarborMessage, string? RequestId) : HarborErrorResponse(Status, Code, HarborMessage, RequestId)
{
    public override string Message => $"Harbor answered {Detail}";
}

/// <summary>The outcome of a Harbor call: a value or an expected <see cref="HarborFailure"/>.</summary>
public sealed record HarborResult<T>
{
    private HarborResult(T? value, HarborFailure? failure)
    {
        Value = value;
        Failure = failure;
    }

    public T? Value { get; }

    public HarborFailure? Failure { get; }

    public bool IsSuccess => Failure is null;

    public static HarborResult<T> Success(T value) => new(value, null);

    public static HarborResult<T> Fail(HarborFailure failure) => new(default, failure);

    public static implicit operator HarborResult<T>(HarborFailure failure) => Fail(failure);

    /// <summary>The value, or a <see cref="HarborApiException"/> for callers (jobs) that let failures surface.</summary>
    public T GetValueOrThrow() => Failure is null ? Value! : throw new HarborApiException(Failure);
}

/// <summary>A Harbor failure as an exception: status, Harbor's error code and message, and its request id.</summary>
public sealed class HarborApiException(HarborFailure failure) : Exception(failure.Message)
{
    public HarborFailure Failure { get; } = failure;

    public int? Status => (Failure as HarborErrorResponse)?.Status;

    public string? Code => (Failure as HarborErrorResponse)?.Code;

    public string? HarborMessage => (Failure as HarborErrorResponse)?.HarborMessage;

    public string? RequestId => (Failure as HarborErrorResponse)?.RequestId;
}
