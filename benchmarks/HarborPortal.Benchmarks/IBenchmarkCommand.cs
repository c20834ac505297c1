namespace HarborPortal.Benchmarks;

/// <summary>
/// One benchmark the command line can run by name. Each prints its measurements beside the DESIGN.md figure it is
/// held to, so that a run is read without a spreadsheet.
/// </summary>
public interface IBenchmarkCommand
{
    /// <summary>The name on the command line (<c>sync</c>, <c>queue</c>, …).</summary>
    string Name { get; }

    /// <summary>One line for the usage text: what it measures, on which dataset.</summary>
    string Description { get; }

    Task<int> RunAsync(string[] args, CancellationToken cancellationToken);
}
