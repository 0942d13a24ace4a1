using Ingest.Transports.Events;
using Microsoft.Extensions.Time.Testing;

namespace Ingest.Transports.Tests.Events;

/// <summary>
/// AlignedTimer ticks on whole multiples of its period of the clock's timestamps, so timers made
/// at different moments tick together, on one shared timer: the proc scrapes, the heartbeat and
/// the stats line of an idle daemon wake it once per interval, not once each.
/// </summary>
public sealed class AlignedTimerTests
{
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Ms = TimeSpan.FromMilliseconds(1);

    [Fact]
    public async Task Timers_made_apart_tick_together_on_the_next_boundary_from_one_shared_timer()
    {
        var ct = TestContext.Current.CancellationToken;
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 2, 0, 0, 3, 300, TimeSpan.Zero));
        var first = new AlignedTimer(Period, time).WaitForNextTickAsync(ct).AsTask();
        time.Advance(TimeSpan.FromSeconds(2.5));
        var second = new AlignedTimer(Period, time).WaitForNextTickAsync(ct).AsTask();
        Assert.Equal(1, AlignedTimer.PendingTimers(time));

        time.Advance(ToBoundary(time) - Ms);
        Assert.False(first.IsCompleted, "ticked before the boundary");
        Assert.False(second.IsCompleted, "ticked before the boundary");

        time.Advance(2 * Ms);
        Assert.True(await first.WaitAsync(TimeSpan.FromSeconds(5), ct));
        Assert.True(await second.WaitAsync(TimeSpan.FromSeconds(5), ct));
        Assert.InRange(SinceBoundary(time), TimeSpan.Zero, 2 * Ms);
        Assert.Equal(0, AlignedTimer.PendingTimers(time));
    }

    [Fact]
    public async Task After_a_tick_the_next_one_is_a_whole_period_later_and_an_overrun_skips_to_the_next_boundary()
    {
        var ct = TestContext.Current.CancellationToken;
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 2, 0, 0, 7, 0, TimeSpan.Zero));
        var timer = new AlignedTimer(Period, time);
        var tick = timer.WaitForNextTickAsync(ct).AsTask();
        time.Advance(ToBoundary(time) + Ms);
        await tick.WaitAsync(TimeSpan.FromSeconds(5), ct);

        // Right after a tick: the same boundary never counts twice.
        tick = timer.WaitForNextTickAsync(ct).AsTask();
        time.Advance(Period - 2 * Ms);
        Assert.False(tick.IsCompleted, "ticked twice for one boundary");
        time.Advance(2 * Ms);
        await tick.WaitAsync(TimeSpan.FromSeconds(5), ct);

        // Work that overran two and a half periods: one tick, at the next boundary, not three at once.
        time.Advance(2.5 * Period);
        tick = timer.WaitForNextTickAsync(ct).AsTask();
        Assert.False(tick.IsCompleted, "made up for the missed ticks");
        time.Advance(ToBoundary(time) + Ms);
        await tick.WaitAsync(TimeSpan.FromSeconds(5), ct);
        Assert.InRange(SinceBoundary(time), TimeSpan.Zero, 2 * Ms);
    }

    [Fact]
    public async Task A_cancelled_wait_throws_and_leaves_the_other_waiters_of_its_boundary_alone()
    {
        var ct = TestContext.Current.CancellationToken;
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 2, 0, 0, 1, 0, TimeSpan.Zero));
        using var cancel = new CancellationTokenSource();
        var cancelled = new AlignedTimer(Period, time).WaitForNextTickAsync(cancel.Token).AsTask();
        var other = new AlignedTimer(Period, time).WaitForNextTickAsync(ct).AsTask();

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.False(other.IsCompleted);

        time.Advance(ToBoundary(time) + Ms);
        Assert.True(await other.WaitAsync(TimeSpan.FromSeconds(5), ct));
    }

    [Fact]
    public void A_period_under_a_millisecond_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new AlignedTimer(TimeSpan.FromTicks(100)));
    }

    private static TimeSpan SinceBoundary(FakeTimeProvider time)
    {
        var period = (long)(Period.TotalSeconds * time.TimestampFrequency);
        return TimeSpan.FromSeconds(time.GetTimestamp() % period / (double)time.TimestampFrequency);
    }

    private static TimeSpan ToBoundary(FakeTimeProvider time) => Period - SinceBoundary(time);
}
