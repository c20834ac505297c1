namespace HarborPortal.Harbor;

/// <summary>One page of a Harbor list: its items and Harbor's <c>X-Total-Count</c> (every match, not just this page's).</summary>
public sealed record HarborPage<T>(IReadOnlyList<T> Items, long Total, int Page, int PageSize)
{
    public int PageCount => Total <= 0 ? 1 : (int)Math.Min(int.MaxValue, ((Total - 1) / PageSize) + 1);

    public bool HasPrevious => Page > 1;

    public bool HasNext => (long)Page * PageSize < Total;
}
