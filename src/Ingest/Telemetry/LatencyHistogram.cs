namespace Ingest.Telemetry;

/// <summary>
/// Fixed-bucket latency counts for `ingest stats` (the OTLP histogram has its own): lock-free,
/// one interlocked increment per acknowledged record. Percentiles are bucket upper bounds, so
/// "p99 &lt;= 20 ms" is exact about the bound and coarse about the value.
/// </summary>
public sealed class LatencyHistogram
{
    private static readonly double[] UpperBoundsMs = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 30_000, 60_000, double.PositiveInfinity];

    private readonly long[] _counts = new long[UpperBoundsMs.Length];

    public void Record(TimeSpan elapsed)
    {
        var ms = elapsed.TotalMilliseconds;
        var i = 0;
        while (ms > UpperBoundsMs[i])
        {
            i++;
        }

        Interlocked.Increment(ref _counts[i]);
    }

    public LatencySnapshot Snapshot()
    {
        var counts = new long[_counts.Length];
        long total = 0;
        for (var i = 0; i < counts.Length; i++)
        {
            counts[i] = Volatile.Read(ref _counts[i]);
            total += counts[i];
        }

        return new LatencySnapshot { Count = total, P50Ms = Percentile(counts, total, 0.50), P99Ms = Percentile(counts, total, 0.99) };
    }

    /// <summary>The upper bound of the bucket holding the q-quantile; null when nothing was recorded or it lies beyond the last finite bound.</summary>
    private static double? Percentile(long[] counts, long total, double q)
    {
        if (total == 0)
        {
            return null;
        }

        var rank = (long)Math.Ceiling(q * total);
        long seen = 0;
        for (var i = 0; i < counts.Length; i++)
        {
            seen += counts[i];
            if (seen >= rank)
            {
                return double.IsPositiveInfinity(UpperBoundsMs[i]) ? null : UpperBoundsMs[i];
            }
        }

        return null;
    }
}
