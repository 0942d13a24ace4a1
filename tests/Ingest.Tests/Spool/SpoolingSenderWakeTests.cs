using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Ingest.Pipeline;
using Ingest.Spool;
using Ingest.Transports.Events;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ingest.Tests.Spool;

/// <summary>
/// The spool sender's loop is event-driven: with nothing to send and nothing outstanding it waits
/// with no timer, and a record on the edge, a report or a retriable failure wakes it. Each pass of
/// the loop asks the publisher <see cref="IRecordPublisher.HasOverdue"/> once, so the count of
/// those calls is the count of wake-ups.
/// </summary>
public sealed class SpoolingSenderWakeTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"ingest-spool-wake-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Fact]
    public async Task An_idle_sender_sleeps_without_a_timer_and_wakes_for_a_record_and_its_report()
    {
        var ct = TestContext.Current.CancellationToken;
        var edge = Channel.CreateUnbounded<OutgoingRecord>();
        var publisher = new HeldPublisher();
        using var log = SegmentLog.Open(_dir, 1 << 20, 64 << 10);
        var stats = new SourceStats("udp", "test", new CounterSet());
        var sender = new SpoolingSender(edge.Reader, publisher, log, new SpoolOptions(), (_, _) => stats, new SourceStats("spool", "recovered", new CounterSet()), NullLogger.Instance);
        var run = sender.RunAsync(CancellationToken.None);

        await Task.Delay(300, ct);
        Assert.InRange(await PassesDuringAsync(publisher, TimeSpan.FromSeconds(1.5), ct), 0, 1);

        // A record on the edge wakes it at once.
        var watch = Stopwatch.StartNew();
        edge.Writer.TryWrite(Record(stats, 1));
        await WaitUntilAsync(() => publisher.Held.Count == 1, ct);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"published {watch.ElapsedMilliseconds} ms after the append");

        // While it is outstanding, the ordered-timeout check runs on a timer.
        Assert.InRange(await PassesDuringAsync(publisher, TimeSpan.FromSeconds(0.5), ct), 3, 100);

        // Its report wakes the loop, and then it sleeps again.
        publisher.AckAll();
        await Task.Delay(200, ct);
        Assert.Equal(1, stats.Delivered);
        Assert.InRange(await PassesDuringAsync(publisher, TimeSpan.FromSeconds(1.5), ct), 0, 1);

        edge.Writer.Complete();
        await run.WaitAsync(TimeSpan.FromSeconds(10), ct);
    }

    [Fact]
    public async Task With_records_outstanding_a_publisher_that_knows_when_they_turn_overdue_lets_the_sender_sleep_until_then()
    {
        var ct = TestContext.Current.CancellationToken;
        var edge = Channel.CreateUnbounded<OutgoingRecord>();
        var publisher = new HeldPublisher { Overdue = TimeSpan.FromMinutes(5) };
        using var log = SegmentLog.Open(_dir, 1 << 20, 64 << 10);
        var stats = new SourceStats("udp", "test", new CounterSet());
        var sender = new SpoolingSender(edge.Reader, publisher, log, new SpoolOptions(), (_, _) => stats, new SourceStats("spool", "recovered", new CounterSet()), NullLogger.Instance);
        var run = sender.RunAsync(CancellationToken.None);

        // Outstanding, and minutes from overdue: the report will wake the loop, so no timer polls.
        edge.Writer.TryWrite(Record(stats, 1));
        await WaitUntilAsync(() => publisher.Held.Count == 1, ct);
        await Task.Delay(200, ct);
        Assert.InRange(await PassesDuringAsync(publisher, TimeSpan.FromSeconds(1.5), ct), 0, 1);

        // Once the oldest is (nearly) overdue, the check runs on the short timer again. A new
        // record wakes the loop, which reads the shorter time.
        publisher.Overdue = TimeSpan.Zero;
        edge.Writer.TryWrite(Record(stats, 1));
        await WaitUntilAsync(() => publisher.Held.Count == 2, ct);
        Assert.InRange(await PassesDuringAsync(publisher, TimeSpan.FromSeconds(0.5), ct), 3, 100);

        publisher.AckAll();
        await WaitUntilAsync(() => stats.Delivered == 2, ct);
        edge.Writer.Complete();
        await run.WaitAsync(TimeSpan.FromSeconds(10), ct);
    }

    [Fact]
    public async Task A_retriable_failure_wakes_the_sender_which_spools_replays_after_the_backoff_and_goes_back_to_sleep()
    {
        var ct = TestContext.Current.CancellationToken;
        var edge = Channel.CreateUnbounded<OutgoingRecord>();
        var publisher = new HeldPublisher();
        using var log = SegmentLog.Open(_dir, 1 << 20, 64 << 10);
        var stats = new SourceStats("udp", "test", new CounterSet());
        var options = new SpoolOptions { RetryBackoffMs = 200 };
        var sender = new SpoolingSender(edge.Reader, publisher, log, options, (_, _) => stats, new SourceStats("spool", "recovered", new CounterSet()), NullLogger.Instance);
        var run = sender.RunAsync(CancellationToken.None);

        // Replayed after the backoff, without anything else waking the loop.
        await FailSpoolAndReplayTwoAsync(edge, publisher, sender, stats, ct);
        Assert.Equal([7, 8], publisher.Held.Select(r => r.Count));
        publisher.AckAll();
        await WaitUntilAsync(() => stats.Delivered == 15 && log.Records == 0 && !sender.Backlogged, ct);
        Assert.Equal(0, stats.DroppedTotal);

        // The replay rate decays and the position is persisted; after that, no timer.
        await Task.Delay(2500, ct);
        Assert.InRange(await PassesDuringAsync(publisher, TimeSpan.FromSeconds(1.5), ct), 0, 1);

        edge.Writer.Complete();
        await run.WaitAsync(TimeSpan.FromSeconds(10), ct);
    }

    [Fact]
    public async Task An_intact_frame_this_version_cannot_read_is_skipped_and_counted_as_corrupt()
    {
        var ct = TestContext.Current.CancellationToken;
        using (var earlier = SegmentLog.Open(_dir, 1 << 20, 64 << 10))
        {
            // A frame with a valid checksum whose payload is no spooled record (a future version's).
            Assert.True(earlier.TryAppend([99, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13], 1));
        }

        var edge = Channel.CreateUnbounded<OutgoingRecord>();
        var publisher = new HeldPublisher();
        using var log = SegmentLog.Open(_dir, 1 << 20, 64 << 10);
        Assert.Equal(1, log.Records);
        var stats = new SourceStats("udp", "test", new CounterSet());
        var sender = new SpoolingSender(edge.Reader, publisher, log, new SpoolOptions(), (_, _) => stats, new SourceStats("spool", "recovered", new CounterSet()), NullLogger.Instance);
        var run = sender.RunAsync(CancellationToken.None);

        await WaitUntilAsync(() => log.Records == 0 && !sender.Backlogged, ct);
        Assert.Empty(publisher.Held);
        Assert.Equal((1L, 34L), (sender.Snapshot().Corrupt, sender.Snapshot().CorruptBytes));

        edge.Writer.Complete();
        await run.WaitAsync(TimeSpan.FromSeconds(10), ct);
    }

    [Fact]
    public async Task A_retriable_failure_reported_after_the_sender_stopped_still_goes_to_the_log()
    {
        var ct = TestContext.Current.CancellationToken;
        var edge = Channel.CreateUnbounded<OutgoingRecord>();
        var publisher = new HeldPublisher { IgnoreAbandon = true };
        using var log = SegmentLog.Open(_dir, 1 << 20, 64 << 10);
        var stats = new SourceStats("udp", "test", new CounterSet());
        var sender = new SpoolingSender(edge.Reader, publisher, log, new SpoolOptions(), (_, _) => stats, new SourceStats("spool", "recovered", new CounterSet()), NullLogger.Instance);
        using var abort = new CancellationTokenSource();
        var run = sender.RunAsync(abort.Token);

        edge.Writer.TryWrite(Record(stats, 5));
        await WaitUntilAsync(() => publisher.Held.Count == 1, ct);

        // Stopping purges; this producer sends no report, so the sender gives up after its 5 s.
        abort.Cancel();
        await run.WaitAsync(TimeSpan.FromSeconds(20), ct);
        Assert.Equal(0, log.Records);

        // The report comes late, as from the closing producer's flush: appended, not lost.
        Assert.True(publisher.Held.TryDequeue(out var late));
        Assert.True(late.TryRetry());
        Assert.Equal(1, log.Records);
        Assert.Equal((5L, 0L, 0L), (stats.Spooled, stats.InFlight, stats.DroppedTotal));
    }

    [Fact]
    public async Task With_records_outstanding_and_minutes_from_overdue_the_once_a_second_chores_still_run()
    {
        var ct = TestContext.Current.CancellationToken;
        var edge = Channel.CreateUnbounded<OutgoingRecord>();
        var publisher = new HeldPublisher { Overdue = TimeSpan.FromMinutes(5) };
        using var log = SegmentLog.Open(_dir, 1 << 20, 64 << 10);
        var stats = new SourceStats("udp", "test", new CounterSet());
        var options = new SpoolOptions { RetryBackoffMs = 200 };
        var sender = new SpoolingSender(edge.Reader, publisher, log, options, (_, _) => stats, new SourceStats("spool", "recovered", new CounterSet()), NullLogger.Instance);
        var run = sender.RunAsync(CancellationToken.None);

        // A failure spools two records; their replay is acknowledged, which leaves the replay
        // rate to compute and then to decay: chores for the next seconds.
        await FailSpoolAndReplayTwoAsync(edge, publisher, sender, stats, ct);
        publisher.AckAll();
        await WaitUntilAsync(() => stats.Delivered == 15 && log.Records == 0 && !sender.Backlogged, ct);

        // A record goes out directly and stays outstanding, minutes from overdue. The sender may
        // sleep until then only as far as the once-a-second chores allow: the replay rate is
        // computed (non-zero) and then decays to zero within seconds, not at the overdue time.
        edge.Writer.TryWrite(Record(stats, 1));
        await WaitUntilAsync(() => publisher.Held.Count == 1, ct);
        var watch = Stopwatch.StartNew();
        while (sender.ReplayRate == 0)
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(4), $"replay rate not computed after {watch.ElapsedMilliseconds} ms");
            await Task.Delay(20, ct);
        }

        watch.Restart();
        while (sender.ReplayRate != 0 || log.NeedsFlush)
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(4), $"chores not run after {watch.ElapsedMilliseconds} ms: replay rate {sender.ReplayRate}, position to persist {log.NeedsFlush}");
            await Task.Delay(20, ct);
        }

        Assert.Single(publisher.Held);
        publisher.AckAll();
        await WaitUntilAsync(() => stats.Delivered == 16, ct);
        edge.Writer.Complete();
        await run.WaitAsync(TimeSpan.FromSeconds(10), ct);
    }

    private static async Task<int> PassesDuringAsync(HeldPublisher publisher, TimeSpan span, CancellationToken ct)
    {
        var before = publisher.OverdueChecks;
        await Task.Delay(span, ct);
        return publisher.OverdueChecks - before;
    }

    /// <summary>
    /// Records 7 and 8 go out; the first fails as a timeout would, so the sender ends the other too
    /// and spools both, in order; returns once their replay is held at the publisher, unacknowledged.
    /// </summary>
    private static async Task FailSpoolAndReplayTwoAsync(Channel<OutgoingRecord> edge, HeldPublisher publisher, SpoolingSender sender, SourceStats stats, CancellationToken ct)
    {
        edge.Writer.TryWrite(Record(stats, 7));
        edge.Writer.TryWrite(Record(stats, 8));
        await WaitUntilAsync(() => publisher.Held.Count == 2, ct);
        publisher.FailFirst();
        await WaitUntilAsync(() => sender.SpooledRecords == 2, ct);
        await WaitUntilAsync(() => publisher.Held.Count == 2, ct);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, CancellationToken ct)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(10), "timed out");
            await Task.Delay(10, ct);
        }
    }

    private static OutgoingRecord Record(SourceStats stats, int count)
    {
        stats.AddReceived(count);
        return new OutgoingRecord("events", [1], new byte[16], count, -1, stats);
    }

    /// <summary>Holds every record until told; counts the loop's passes through HasOverdue.</summary>
    private sealed class HeldPublisher : IRecordPublisher
    {
        private int _overdueChecks;

        public ConcurrentQueue<OutgoingRecord> Held { get; } = new();

        /// <summary>What <see cref="UntilOverdue"/> answers; null (the default) = cannot tell, the sender polls.</summary>
        public TimeSpan? Overdue { get; set; }

        public TimeSpan? UntilOverdue => Held.IsEmpty ? Timeout.InfiniteTimeSpan : Overdue;

        public int OverdueChecks => Volatile.Read(ref _overdueChecks);

        public int InFlight => Held.Count;

        public bool HasOverdue
        {
            get
            {
                Interlocked.Increment(ref _overdueChecks);
                return false;
            }
        }

        public bool TryPublish(OutgoingRecord record)
        {
            Held.Enqueue(record);
            return true;
        }

        public ValueTask WaitForSpaceAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public void AckAll()
        {
            while (Held.TryDequeue(out var record))
            {
                record.Delivered();
            }
        }

        /// <summary>The head fails as a retriable failure; the sender then abandons the rest.</summary>
        public void FailFirst()
        {
            if (Held.TryDequeue(out var record) && !record.TryRetry())
            {
                record.Failed(DropReason.DeliveryFailed);
            }
        }

        /// <summary>A purge that sends no report (a producer that stopped answering).</summary>
        public bool IgnoreAbandon { get; init; }

        public void Abandon()
        {
            while (!IgnoreAbandon && Held.TryDequeue(out var record))
            {
                if (!record.TryRetry())
                {
                    record.Failed(DropReason.DeliveryFailed);
                }
            }
        }

        public int Flush(TimeSpan timeout)
        {
            var n = 0;
            while (Held.TryDequeue(out var record))
            {
                record.Failed(DropReason.Shutdown);
                n++;
            }

            return n;
        }
    }
}
