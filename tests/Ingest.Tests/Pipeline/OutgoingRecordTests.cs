using Ingest.Pipeline;
using Ingest.Transports.Events;

namespace Ingest.Tests.Pipeline;

/// <summary>The order in which an acknowledged record's outcome becomes visible.</summary>
public sealed class OutgoingRecordTests
{
    [Fact]
    public void The_observer_has_the_record_before_the_delivered_count_shows_it()
    {
        // `ingest stats` and the meter read the count and the latency histogram independently: a
        // reader that sees the record counted delivered must also find its latency (CI once read
        // delivered == 1 with an empty histogram).
        var stats = new SourceStats("udp", "127.0.0.1:1", new CounterSet());
        var observer = new CountingObserver(stats);
        stats.Observer = observer;
        var record = ReceivedRecord(stats);

        record.Delivered();
        record.Delivered(); // a second report changes nothing: the outcome is told once

        Assert.Equal([0L], observer.DeliveredSeenByObserver);
        Assert.Equal(3, stats.Delivered);
        Assert.Equal(1, stats.RecordsDelivered);
    }

    [Fact]
    public void A_throwing_observer_leaves_the_record_counted_delivered()
    {
        // Telemetry must not throw; if it does, the caller (the delivery handler) counts the error,
        // and the record's accounting is still exact: delivered, not unaccounted.
        var stats = new SourceStats("udp", "127.0.0.1:1", new CounterSet()) { Observer = new ThrowingObserver() };
        var record = ReceivedRecord(stats);

        Assert.Throws<InvalidOperationException>(record.Delivered);

        Assert.Equal(3, stats.Delivered);
        Assert.Equal(0, stats.Read().Unaccounted);
    }

    /// <summary>A record of three events, counted received (in flight) like the batcher's.</summary>
    private static OutgoingRecord ReceivedRecord(SourceStats stats)
    {
        stats.AddReceived(3);
        return new OutgoingRecord("events", [1], new byte[16], 3, -1, stats);
    }

    private sealed class CountingObserver(SourceStats stats) : IRecordObserver
    {
        public List<long> DeliveredSeenByObserver { get; } = [];

        public void OnDelivered(OutgoingRecord record, long publishedTimestamp) => DeliveredSeenByObserver.Add(stats.Delivered);
    }

    private sealed class ThrowingObserver : IRecordObserver
    {
        public void OnDelivered(OutgoingRecord record, long publishedTimestamp) => throw new InvalidOperationException("telemetry failed");
    }
}
