using Ingest.Kafka;
using Ingest.Pipeline;
using Ingest.Sinks.Broker;
using Ingest.Sinks.Kafka;
using Ingest.Transports.Events;

namespace Ingest.Tests.Kafka;

/// <summary>How delivery reports become per-source figures, and the one in-flight registry.</summary>
public sealed class KafkaRecordPublisherTests : IDisposable
{
    private readonly EmbeddedBroker _broker = EmbeddedBroker.Start();

    public void Dispose() => _broker.Dispose();

    [Theory]
    [InlineData(true, false, false, null)]
    [InlineData(false, true, false, DropReason.PossiblyDelivered)]
    [InlineData(false, true, true, DropReason.PossiblyDelivered)]
    [InlineData(false, false, true, DropReason.Shutdown)]
    [InlineData(false, false, false, DropReason.DeliveryFailed)]
    public void A_report_ends_the_record_under_the_right_figure(bool delivered, bool possiblyPersisted, bool purged, DropReason? expected)
    {
        using var sink = new KafkaRecordSink(new KafkaProducerOptions { BootstrapServers = _broker.BootstrapServers });
        using var publisher = new KafkaRecordPublisher(sink);
        var stats = new SourceStats("udp", "x", new CounterSet());
        stats.AddReceived(3);
        var record = new OutgoingRecord("t", [], [1, 2, 3], 3, -1, stats);

        publisher.OnDelivery(record, new DeliveryOutcome(delivered, delivered ? null : "err", 0, -1, TimeSpan.Zero, possiblyPersisted, purged));

        var f = stats.Read();
        Assert.Equal(delivered ? 3 : 0, f.Delivered);
        foreach (var reason in Enum.GetValues<DropReason>())
        {
            Assert.Equal(reason == expected ? 3 : 0, f.Dropped(reason));
        }

        Assert.Equal(0, f.InFlight);
        Assert.Equal(0, f.Unaccounted);
    }

    [Fact]
    public void In_flight_is_the_sink_s_one_count()
    {
        _broker.CreateTopic("inflight", 1);
        using var sink = new KafkaRecordSink(new KafkaProducerOptions { BootstrapServers = _broker.BootstrapServers });
        using var publisher = new KafkaRecordPublisher(sink);
        var stats = new SourceStats("udp", "x", new CounterSet());
        _broker.SetBrokerDown(1);
        for (var i = 0; i < 4; i++)
        {
            stats.AddReceived(1);
            Assert.True(publisher.TryPublish(new OutgoingRecord("inflight", [], [1], 1, -1, stats)));
        }

        Assert.Equal(4, publisher.InFlight);
        Assert.Equal(sink.Counters.InFlight, publisher.InFlight);
        Assert.Equal(4, stats.Read().InFlight);

        Assert.Equal(4, publisher.Flush(TimeSpan.FromMilliseconds(200)));
        Assert.Equal(0, publisher.InFlight);
        var f = stats.Read();
        Assert.Equal((4L, 0L, 4L, 0L), (f.Received, f.InFlight, f.Dropped(DropReason.Shutdown), f.Unaccounted));
    }
}
