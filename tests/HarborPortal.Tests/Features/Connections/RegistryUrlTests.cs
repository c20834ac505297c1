using HarborPortal.Features.Connections;

namespace HarborPortal.Tests.Features.Connections;

public sealed class RegistryUrlTests
{
    [Theory]
    [InlineData("https://harbor.example.com", "https://harbor.example.com")]
    [InlineData("  https://harbor.example.com  ", "https://harbor.example.com")]
    public void Surrounding_Spaces_Are_Trimmed(string input, string expected) => AssertNormalizes(input, expected);

    [Theory]
    [InlineData("harbor.example.com", "https://harbor.example.com")]
    [InlineData("harbor.example.com:8443", "https://harbor.example.com:8443")]
    [InlineData("localhost:8080/harbor/projects", "https://localhost:8080")]
    public void A_Url_Without_Scheme_Gets_Https(string input, string expected) => AssertNormalizes(input, expected);

    [Fact]
    public void The_Host_Is_Lower_Cased() => AssertNormalizes("HTTPS://Harbor.Example.COM", "https://harbor.example.com");

    [Theory]
    [InlineData("https://harbor.example.com/harbor/projects")]
    [InlineData("https://harbor.example.com/harbor/projects/3/repositories")]
    [InlineData("https://harbor.example.com/harbor/projects/3/repositories/team%2Fapp/artifacts-tab")]
    [InlineData("https://harbor.example.com/api/v2.0")]
    [InlineData("https://harbor.example.com/api/v2.0/projects")]
    [InlineData("https://harbor.example.com/account/sign-in")]
    [InlineData("https://harbor.example.com/v2/")]
    public void Harbor_Portal_And_Api_Paths_Are_Stripped(string input) => AssertNormalizes(input, "https://harbor.example.com");

    [Theory]
    [InlineData("https://harbor.example.com/", "https://harbor.example.com")]
    [InlineData("https://harbor.example.com///", "https://harbor.example.com")]
    [InlineData("https://example.com/registry/", "https://example.com/registry")]
    [InlineData("https://example.com/registry/harbor/projects", "https://example.com/registry")]
    public void Trailing_Slashes_Are_Stripped_And_A_Proxy_Prefix_Is_Kept(string input, string expected) => AssertNormalizes(input, expected);

    [Theory]
    [InlineData("https://harbor.example.com:8443/harbor", "https://harbor.example.com:8443")]
    [InlineData("https://10.1.2.3:4443", "https://10.1.2.3:4443")]
    [InlineData("https://[::1]:8443", "https://[::1]:8443")]
    public void A_Port_Is_Kept(string input, string expected) => AssertNormalizes(input, expected);

    [Theory]
    [InlineData("ftp://harbor.example.com", "ftp:")]
    [InlineData("javascript:alert(1)", "javascript:")]
    [InlineData("file:///etc/passwd", "file:")]
    [InlineData("mailto:admin@example.com", "mailto:")]
    public void Other_Schemes_Are_Refused_By_Name(string input, string named) => Assert.Contains(named, Refusal(input), StringComparison.Ordinal);

    [Theory]
    [InlineData("https://admin:secret@harbor.example.com")]
    [InlineData("https://robot$portal@harbor.example.com")]
    public void Credentials_In_The_Url_Are_Refused(string input) => Assert.Contains("credential fields", Refusal(input), StringComparison.Ordinal);

    [Theory]
    [InlineData("https://harbor.example.com/harbor/projects?page=2")]
    [InlineData("https://harbor.example.com/#/projects")]
    public void Query_Strings_And_Fragments_Are_Refused(string input) => Assert.Contains("query string or fragment", Refusal(input), StringComparison.Ordinal);

    [Theory]
    [InlineData("https://")]
    [InlineData("https:///harbor")]
    public void A_Url_Without_Host_Is_Refused(string input) => Assert.NotNull(Refusal(input));

    [Theory]
    [InlineData("https://harbor example.com")]
    [InlineData("harbor.example.com\n/x")]
    public void Whitespace_Inside_Is_Refused(string input) => Assert.Contains("space", Refusal(input), StringComparison.Ordinal);

    [Theory]
    [InlineData("!!!")]
    [InlineData("https://-harbor-.example.com")]
    [InlineData("https://har*bor.example.com")]
    [InlineData("")]
    [InlineData("   ")]
    public void Garbage_Is_Refused(string input) => Assert.NotNull(Refusal(input));

    [Fact]
    public void Http_Is_Refused_Unless_Allowed_And_The_Message_Says_How()
    {
        Assert.Contains("Allow HTTP (insecure)", Refusal("http://harbor.staging.local"), StringComparison.Ordinal);
        Assert.True(RegistryUrl.TryNormalize("http://harbor.staging.local/harbor/projects", allowInsecureHttp: true, out var url, out _));
        Assert.Equal("http://harbor.staging.local", url);
    }

    private static void AssertNormalizes(string input, string expected)
    {
        Assert.True(RegistryUrl.TryNormalize(input, allowInsecureHttp: false, out var url, out var error), error);
        Assert.Equal(expected, url);
    }

    private static string Refusal(string input)
    {
        Assert.False(RegistryUrl.TryNormalize(input, allowInsecureHttp: false, out var url, out var error), $"accepted as {url}");
        return error;
    }
}
