using Microsoft.AspNetCore.Mvc.Testing;

namespace HarborPortal.Tests;

public sealed class SmokeTests
{
    [Fact]
    public async Task Healthz_Answers_Ok()
    {
        await using var factory = new WebApplicationFactory<Program>();
        using var client = factory.CreateClient();
        var response = await client.GetAsync("/healthz");
        response.EnsureSuccessStatusCode();
    }
}
