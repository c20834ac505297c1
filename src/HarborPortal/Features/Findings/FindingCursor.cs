using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace HarborPortal.Features.Findings;

/// <summary>
/// Where a page ends: the sort value and tie-break of its last row, plus the order it belongs to. Opaque to callers
/// (base64url), so that its shape can change; a cursor from another order or grouping is refused, not misread.
/// </summary>
public sealed record FindingCursor(string View, string Value, string Key)
{
    private const string Version = "1";

    public string Encode() =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes(string.Join('\n', Version, View, Value, Key)));

    /// <summary>Null when the text is not a cursor this version wrote, or was written for another view.</summary>
    public static FindingCursor? Decode(string? text, string expectedView)
    {
        if (string.IsNullOrEmpty(text) || text.Length > 2048)
        {
            return null;
        }

        byte[] bytes;
        try
        {
            bytes = Base64Url.DecodeFromChars(text);
        }
        catch (FormatException)
        {
            return null;
        }

        var parts = Encoding.UTF8.GetString(bytes).Split('\n');
        return parts is [Version, var view, var value, var key] && view == expectedView ? new FindingCursor(view, value, key) : null;
    }

    /// <summary>The view a cursor is valid for: grouping, sort key and direction.</summary>
    public static string ViewOf(FindingFilter filter) =>
        $"{filter.Group}.{filter.Sort}.{(filter.Ascending ? "asc" : "desc")}";

    public long KeyAsId() => long.Parse(Key, NumberStyles.Integer, CultureInfo.InvariantCulture);
}

/// <summary>Thrown for a cursor that cannot be read; the page and API turn it into a clear 400.</summary>
public sealed class InvalidCursorException() : Exception("The 'after' cursor is not valid for this view (it may belong to another sort order or grouping): start again from the first page.");
