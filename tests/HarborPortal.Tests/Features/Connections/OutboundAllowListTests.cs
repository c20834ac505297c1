using HarborPortal.Features.Connections;
using Microsoft.Extensions.Options;

namespace HarborPortal.Tests.Features.Connections;

public sealed class OutboundAllowListTests
{
    [Fact]
    public async Task An_Empty_List_Allows_Anything()
    {
        var list = Create();

        Assert.Null(await list.CheckAsync("https://10.0.0.1", CancellationToken.None));
    }

    [Theory]
    [InlineData("https://harbor.example.com")]
    [InlineData("https://eu.registry.example.org:8443")]
    [InlineData("https://10.20.3.4")]
    [InlineData("https://192.0.2.7")]
    [InlineData("https://[2001:db8::5]")]
    public async Task A_Listed_Host_Wildcard_Address_Or_Range_Is_Allowed(string url)
    {
        var list = Create("harbor.example.com", "*.registry.example.org", "10.20.0.0/16", "192.0.2.7", "2001:db8::/32");

        Assert.Null(await list.CheckAsync(url, CancellationToken.None));
    }

    [Theory]
    [InlineData("https://169.254.169.254")]
    [InlineData("https://10.21.0.1")]
    [InlineData("https://localhost")]
    [InlineData("https://other.example.com")]
    public async Task Anything_Else_Is_Refused_With_The_Setting_Named(string url)
    {
        var list = Create("harbor.example.com", "10.20.0.0/16");

        var refusal = await list.CheckAsync(url, CancellationToken.None);

        Assert.NotNull(refusal);
        Assert.Contains("Connections:AllowedTargets", refusal, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_Host_Name_Is_Allowed_When_Every_Address_It_Resolves_To_Is()
    {
        Assert.Null(await Create("127.0.0.0/8", "::1").CheckAsync("https://localhost", CancellationToken.None));
    }

    [Theory]
    [InlineData("10.0.0.0/33")]
    [InlineData("not a host!")]
    public void Entries_That_Are_Not_Hosts_Or_Ranges_Are_Reported(string entry) =>
        Assert.Equal([entry], new ConnectionsOptions { AllowedTargets = ["harbor.example.com", entry] }.InvalidTargets());

    private static OutboundAllowList Create(params string[] targets) => new(Options.Create(new ConnectionsOptions { AllowedTargets = [.. targets] }));
}
