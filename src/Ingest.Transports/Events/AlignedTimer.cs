using System.Collections.Concurrent;

namespace Ingest.Transports.Events;

/// <summary>
/// A periodic timer whose ticks fall on whole multiples of its period on the monotonic clock,
/// not on multiples counted from its creation, and which shares one timer with every other
/// <see cref="AlignedTimer"/> due at the same instant. Periodic work with equal periods (or
/// periods that divide one another) then wakes the process once per tick, not once per timer:
/// an idle daemon's four /proc scrapes, its heartbeat and its stats line wake it once every 10 s
/// instead of six times, and their records reach the broker together.
/// </summary>
/// <remarks>
/// <see cref="PeriodicTimer"/> counts from its creation, so timers started a few milliseconds
/// apart keep firing a few milliseconds apart, each a wake-up of its own; and two timers due in
/// the same millisecond can still fire in two passes of the timer thread. Here one
/// <c>Task.Delay</c> per due instant is shared by all waiters. The monotonic clock starts at
/// boot, so the hosts of a fleet tick at unrelated phases: no fleet-wide burst at the broker.
/// A tick that work overran is skipped, not made up for: the next one is the next boundary.
/// </remarks>
public sealed class AlignedTimer
{
    private static readonly ConcurrentDictionary<(TimeProvider Time, long Due), Task> Shared = new();

    private readonly TimeProvider _time;
    private readonly long _period;
    private long _last = -1;

    public AlignedTimer(TimeSpan period, TimeProvider? time = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(period, TimeSpan.FromMilliseconds(1));
        _time = time ?? TimeProvider.System;
        _period = Math.Max(1, (long)(period.TotalSeconds * _time.TimestampFrequency));
    }

    /// <summary>
    /// Waits for the next boundary after now (and after the one last returned); true then. Throws
    /// <see cref="OperationCanceledException"/> when <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    public async ValueTask<bool> WaitForNextTickAsync(CancellationToken cancellationToken = default)
    {
        var index = Math.Max(_time.GetTimestamp() / _period + 1, _last + 1);
        await Shared.GetOrAdd((_time, index * _period), static key => Delay(key)).WaitAsync(cancellationToken).ConfigureAwait(false);

        // The timer may fire a fraction of a millisecond early (it counts whole milliseconds):
        // remembering the index keeps the next wait from returning for the same boundary.
        _last = index;
        return true;
    }

    /// <summary>Timers the process holds for <paramref name="time"/>: one per due instant however many wait for it (for tests).</summary>
    internal static int PendingTimers(TimeProvider time) => Shared.Keys.Count(k => ReferenceEquals(k.Time, time));

    private static Task Delay((TimeProvider Time, long Due) key)
    {
        var remaining = key.Due - key.Time.GetTimestamp();

        // Rounded up to whole milliseconds, the unit of the timer queue, so no waiter wakes early.
        var delay = TimeSpan.FromMilliseconds(Math.Ceiling(Math.Max(0, remaining) * 1000.0 / key.Time.TimestampFrequency));
        var task = Task.Delay(delay, key.Time);
        _ = task.ContinueWith(done => Shared.TryRemove(KeyValuePair.Create(key, done)), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return task;
    }
}
