using System.Diagnostics;

namespace Ingest.Bench;

/// <summary>What a benchmark needs: how many runs, where the built daemon is, and the report.</summary>
public sealed class BenchContext(int runs, string repoRoot, BenchReport report)
{
    public int Runs { get; } = runs;

    public string RepoRoot { get; } = repoRoot;

    /// <summary>
    /// The published daemon (`make build` puts it there), or BENCH_INGEST_PATH: another build of
    /// it, for a before/after comparison (e.g. a ReadyToRun publish). Not INGEST_*: the daemon
    /// reads those as its configuration and rejects unknown keys.
    /// </summary>
    public string IngestPath => Environment.GetEnvironmentVariable("BENCH_INGEST_PATH") is { Length: > 0 } other
        ? Path.GetFullPath(other)
        : Path.Combine(RepoRoot, "out", "ingest", "ingest");

    /// <summary>
    /// BENCH_BASELINE_PATH: a second build to measure side by side with <see cref="IngestPath"/>
    /// in the same run, interleaved (e.g. main's JIT publish against this NativeAOT one). The
    /// startup and idle benchmarks use it and report the ratio; null when unset.
    /// </summary>
    public string? BaselinePath => Environment.GetEnvironmentVariable("BENCH_BASELINE_PATH") is { Length: > 0 } baseline
        ? Path.GetFullPath(baseline)
        : null;

    /// <summary>The builds to measure, labelled: the baseline first when there is one, then this build.</summary>
    public IReadOnlyList<(string Label, string Path)> Builds => BaselinePath is { } b
        ? [("baseline", b), ("this build", IngestPath)]
        : [("this build", IngestPath)];

    public BenchReport Report { get; } = report;

    public void Progress(string message) => Console.Error.WriteLine($"[{DateTime.Now:HH:mm:ss}] {message}");

    /// <summary>Runs <paramref name="once"/> <see cref="Runs"/> times and returns the samples.</summary>
    public async Task<List<T>> RepeatAsync<T>(string what, Func<int, Task<T>> once)
    {
        var samples = new List<T>(Runs);
        for (var i = 0; i < Runs; i++)
        {
            Progress($"{what}: run {i + 1}/{Runs}");
            var sw = Stopwatch.StartNew();
            samples.Add(await once(i).ConfigureAwait(false));
            Progress($"{what}: run {i + 1}/{Runs} done in {sw.Elapsed.TotalSeconds:F1} s");
        }

        return samples;
    }

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        if (sorted.Length == 0)
        {
            return double.NaN;
        }

        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
