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
        stats.AddReceived(3);
        var record = new OutgoingRecord("events", [1], new byte[16], 3, -1, stats);

        record.Delivered();
        record.Delivered();

        Assert.Equal([0L], observer.DeliveredSeenByObserver);
        Assert.Equal(3, stats.Delivered);
        Assert.Equal(1, stats.RecordsDelivered);
    }

    private sealed class CountingObserver(SourceStats stats) : IRecordObserver
    {
        public List<long> DeliveredSeenByObserver { get; } = [];

        public void OnDelivered(OutgoingRecord record, long publishedTimestamp) => DeliveredSeenByObserver.Add(stats.Delivered);
    }
}
