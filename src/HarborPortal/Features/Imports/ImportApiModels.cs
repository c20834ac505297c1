namespace HarborPortal.Features.Imports;

/// <summary>What <c>POST /api/v1/findings/imports</c> answers: the image written and what happened to its findings.</summary>
public sealed record ImportResponse(
    string FileName, ReportFormat Format, long ConnectionId, string Image, IReadOnlyList<string> SourceTools,
    int New, int Updated, int Resolved, int Reopened, int Unchanged);

public static class ImportApiMapping
{
    public static ImportResponse AsResponse(this ImportSummary s) =>
        new(s.FileName, s.Format, s.ConnectionId, s.Image, s.SourceTools, s.Counts.New, s.Counts.Updated, s.Counts.Resolved, s.Counts.Reopened, s.Counts.Unchanged);
}
