using System.Globalization;

namespace HarborPortal.Benchmarks;

/// <summary>A benchmark that takes <c>--database sqlite|postgres</c>, and so can be run with <c>--compare</c>.</summary>
public interface IDatabaseBenchmark : IBenchmarkCommand;

/// <summary>
/// The headline figures of a run, kept while <c>--compare</c> runs a benchmark once per database so that they can be
/// printed side by side at the end. Outside a comparison nothing is kept.
/// </summary>
internal static class BenchmarkResults
{
    private static Run? _current;

    /// <summary>One figure: <paramref name="name"/> is the row (the same on both databases), <paramref name="unit"/> follows the value.</summary>
    public static void Record(string name, double value, string unit) =>
        _current?.Figures.TryAdd(name, new Figure(value, unit));

    /// <summary>What the figures were measured on (dataset size, server settings), printed above the table.</summary>
    public static void Note(string text) => _current?.Notes.Add(text);

    internal static Run Start(string database) => _current = new Run(database);

    internal static void Stop() => _current = null;

    internal sealed record Figure(double Value, string Unit);

    internal sealed class Run(string database)
    {
        public string Database { get; } = database;

        public Dictionary<string, Figure> Figures { get; } = [];

        public List<string> Notes { get; } = [];

        public int ExitCode { get; set; }

        public string? Failure { get; set; }
    }
}

/// <summary>
/// <c>&lt;benchmark&gt; --compare [options]</c>: the same benchmark with the same options on SQLite, then on PostgreSQL
/// (<c>--postgres</c> or an own cluster), one table at the end. A run that throws (a query not yet ported) is reported
/// in its column; the other database's figures still print.
/// </summary>
internal static class BenchmarkComparison
{
    public static async Task<int> RunAsync(IBenchmarkCommand command, string[] args, CancellationToken cancellationToken)
    {
        if (command is not IDatabaseBenchmark)
        {
            Console.Error.WriteLine($"{command.Name} runs on one database only: --compare is for queue, dashboard, threat, ingest and sync.");
            return 2;
        }

        var options = WithoutDatabase(args);
        var runs = new List<BenchmarkResults.Run>();
        foreach (var database in new[] { "sqlite", "postgres" })
        {
            Console.WriteLine();
            Console.WriteLine($"===== {command.Name} on {database} =====");
            var run = BenchmarkResults.Start(database == "sqlite" ? "SQLite" : "PostgreSQL");
            try
            {
                string[] databaseArgs = database == "sqlite" ? ["--database", "sqlite"] : ["--database", "postgres", .. Postgres(args)];
                run.ExitCode = await command.RunAsync([.. options, .. databaseArgs], cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException and not BenchmarkUsageException)
            {
                run.ExitCode = 1;
                run.Failure = $"{e.GetType().Name}: {e.Message.Split('\n')[0]}";
                Console.WriteLine($"{run.Database} run failed: {e}");
            }
            finally
            {
                BenchmarkResults.Stop();
            }

            runs.Add(run);
        }

        Print(command, runs);
        return runs.Max(r => r.ExitCode);
    }

    private static void Print(IBenchmarkCommand command, List<BenchmarkResults.Run> runs)
    {
        Console.WriteLine();
        Console.WriteLine($"===== {command.Name}: SQLite | PostgreSQL =====");
        foreach (var run in runs)
        {
            foreach (var note in run.Notes.Distinct())
            {
                Console.WriteLine($"{run.Database,-10}: {note}");
            }
        }

        var names = runs.SelectMany(r => r.Figures.Keys).Distinct().ToList();
        var width = Math.Max(40, names.Count == 0 ? 0 : names.Max(n => n.Length) + 2);
        Console.WriteLine($"{"",-40}".PadRight(width) + $"{"SQLite",18} {"PostgreSQL",18} {"PG/SQLite",10}");
        foreach (var name in names)
        {
            var sqlite = runs[0].Figures.GetValueOrDefault(name);
            var postgres = runs[1].Figures.GetValueOrDefault(name);
            var ratio = sqlite is { Value: > 0 } && postgres is not null ? (postgres.Value / sqlite.Value).ToString("0.00", CultureInfo.InvariantCulture) + "x" : "";
            Console.WriteLine(name.PadRight(width) + $"{Cell(sqlite),18} {Cell(postgres),18} {ratio,10}");
        }

        foreach (var run in runs.Where(r => r.Failure is not null))
        {
            Console.WriteLine($"{run.Database} did not finish: {run.Failure}");
        }

        Console.WriteLine("(ratio > 1: PostgreSQL's figure is larger — slower for times, faster for rates)");
    }

    private static string Cell(BenchmarkResults.Figure? figure) =>
        figure is null ? "—" : figure.Value.ToString(figure.Value >= 100 ? "N0" : "N1", CultureInfo.InvariantCulture) + " " + figure.Unit;

    // The caller's options minus the database choice, which the comparison sets itself.
    private static List<string> WithoutDatabase(string[] args)
    {
        var kept = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] is "--database" or "--postgres")
            {
                i++;
                continue;
            }

            if (args[i] != "--compare")
            {
                kept.Add(args[i]);
            }
        }

        return kept;
    }

    private static string[] Postgres(string[] args) => BenchmarkDatabase.Option(args, "--postgres") is { } server ? ["--postgres", server] : [];
}
