using AngleSharp.Html.Dom;
using AngleSharp.Html.Parser;

namespace HarborPortal.Tests.Features.Connections;

/// <summary>Drives the connection pages' forms as a browser without JavaScript would: GET the page, post the form.</summary>
internal static class ConnectionPages
{
    public static async Task<IHtmlDocument> GetPageAsync(HttpClient client, string path) =>
        new HtmlParser().ParseDocument(await client.GetStringAsync(path));

    /// <summary>Posts the form marked <c>data-testid=<paramref name="form"/></c> on <paramref name="path"/> with its hidden fields plus these.</summary>
    public static async Task<HttpResponseMessage> PostFormAsync(HttpClient client, string path, string form, IDictionary<string, string> fields)
    {
        var page = await GetPageAsync(client, path);
        var element = page.QuerySelector($"form[data-testid={form}]") ?? throw new InvalidOperationException($"{path} has no form {form}.");
        var content = new MultipartFormDataContent();
        foreach (var hidden in element.QuerySelectorAll("input[type=hidden]").Where(i => !fields.ContainsKey(i.GetAttribute("name")!)))
        {
            content.Add(new StringContent(hidden.GetAttribute("value") ?? ""), hidden.GetAttribute("name")!);
        }

        foreach (var (name, value) in fields)
        {
            content.Add(new StringContent(value), name);
        }

        return await client.PostAsync(path, content);
    }

    public static Dictionary<string, string> NewConnection(string name, string secret, string url = "https://Harbor.Example.com/harbor/projects", string user = "robot$harbor-portal") => new()
    {
        ["Model.Name"] = name,
        ["Model.Url"] = url,
        ["Model.AuthKind"] = "Robot",
        ["Model.UserName"] = user,
        ["Model.Secret"] = secret,
        ["Model.RobotPrefix"] = "robot$",
        ["Model.Enabled"] = "true",
        ["Model.CaCertificatePem"] = "",
    };

    /// <summary>Creates a connection through the form; returns its id.</summary>
    public static async Task<long> CreateAsync(HttpClient client, string name, string secret, string url = "https://harbor.example.com", string user = "robot$harbor-portal")
    {
        using var response = await PostFormAsync(client, "/admin/connections/new", "connection-form", NewConnection(name, secret, url, user));
        Assert.Equal(System.Net.HttpStatusCode.Redirect, response.StatusCode);
        var location = response.Headers.Location!.PathAndQuery;
        Assert.Matches(@"^/admin/connections/\d+\?saved=created(&verifying=\d+)?$", location);
        return long.Parse(location["/admin/connections/".Length..location.IndexOf('?', StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture);
    }
}
