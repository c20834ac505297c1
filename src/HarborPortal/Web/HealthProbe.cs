namespace HarborPortal.Web;

/// <summary>
/// <c>HarborPortal healthcheck [url]</c>: the container's HEALTHCHECK. The runtime image has no curl or wget,
/// so the binary probes itself: exit 0 when the URL answers 2xx within 5 seconds, 1 otherwise.
/// </summary>
public static class HealthProbe
{
    public static bool IsHealthCheckCommand(string[] args) => args.Length > 0 && args[0] == "healthcheck";

    public static async Task<int> RunAsync(string[] args)
    {
        var url = args.Length > 1 ? args[1] : "http://127.0.0.1:8080/healthz";
        try
        {
            using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            using var response = await client.GetAsync(url);
            Console.WriteLine($"{url}: {(int)response.StatusCode}");
            return response.IsSuccessStatusCode ? 0 : 1;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or UriFormatException or InvalidOperationException)
        {
            Console.Error.WriteLine($"{url}: {ex.Message}");
            return 1;
        }
    }
}
