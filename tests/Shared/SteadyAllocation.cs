namespace Ingest.Testing;

/// <summary>What a piece of code allocates on the calling thread once warmed up.</summary>
internal static class SteadyAllocation
{
    /// <summary>
    /// Runs <paramref name="action"/> <paramref name="warmUp"/> times, then three windows of
    /// <paramref name="repetitions"/> calls each, and returns the fewest bytes the calling thread
    /// allocated in one window. An allocation per call shows in every window. The runtime's own
    /// one-off allocations on the thread (a few KB, seen about once in twenty suite runs) land in
    /// one window only, so they no longer fail a test that expects none.
    /// </summary>
    public static long Bytes(Action action, int repetitions, int warmUp = 1)
    {
        for (var i = 0; i < warmUp; i++)
        {
            action();
        }

        var fewest = long.MaxValue;
        for (var window = 0; window < 3; window++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < repetitions; i++)
            {
                action();
            }

            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        return fewest;
    }
}
