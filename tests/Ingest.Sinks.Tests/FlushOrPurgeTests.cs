using Ingest.Sinks.Broker;
using Ingest.Sinks.Kafka;
using static Ingest.Sinks.Tests.TestKafka;

namespace Ingest.Sinks.Tests;

/// <summary>
/// The sink's close path: after the flush timeout every record still in librdkafka is purged and
/// reported at once, so the caller's figures are final when FlushOrPurge returns.
/// </summary>
public sealed class FlushOrPurgeTests(ITestOutputHelper output) : IDisposable
{
    private readonly EmbeddedBroker _broker = EmbeddedBroker.Start();

    public void Dispose() => _broker.Dispose();

    [Fact]
    public void Records_never_sent_are_purged_and_reported_as_not_persisted()
    {
        string topic = UniqueTopic("purge-queue");
        _broker.CreateTopic(topic, 1);
        var handler = new RecordingDeliveryHandler();
        using var sink = new KafkaRecordSink(Options(_broker.BootstrapServers), Log(output));
        Assert.True(sink.TryProduce(topic, Bytes("k"), Bytes("first"), [], handler, -1));
        Assert.Equal(0, sink.Flush(Deadline));

        _broker.SetBrokerDown(1);
        for (int i = 0; i < 20; i++)
        {
            Assert.True(sink.TryProduce(topic, Bytes("k"), Bytes($"v{i}"), [], handler, i));
        }

        Assert.Equal(20, sink.FlushOrPurge(TimeSpan.FromMilliseconds(300)));

        // Every record has its one report now, not after the sink is disposed.
        Assert.Equal(21, handler.Calls);
        Assert.Equal(0, sink.Counters.InFlight);
        var purged = handler.Reports.Where(r => r.State is int i && i >= 0).Select(r => r.Outcome).ToList();
        Assert.Equal(20, purged.Count);
        Assert.All(purged, o => Assert.True(!o.Delivered && o.Purged, $"{o}"));
        Assert.Equal(0, sink.FlushOrPurge(TimeSpan.FromMilliseconds(100)));
    }

    [Fact]
    public void Records_whose_request_is_on_the_wire_are_reported_as_possibly_persisted()
    {
        string topic = UniqueTopic("purge-inflight");
        _broker.CreateTopic(topic, 1);
        var handler = new RecordingDeliveryHandler();
        using var sink = new KafkaRecordSink(Options(_broker.BootstrapServers), Log(output));
        Assert.True(sink.TryProduce(topic, Bytes("k"), Bytes("first"), [], handler, -1));
        Assert.Equal(0, sink.Flush(Deadline));

        // Requests reach the broker but their answers take 5 s: they are in flight when purged.
        _broker.SetBrokerRtt(1, TimeSpan.FromSeconds(5));
        for (int i = 0; i < 5; i++)
        {
            Assert.True(sink.TryProduce(topic, Bytes("k"), Bytes($"v{i}"), [], handler, i));
        }

        Assert.Equal(5, sink.FlushOrPurge(TimeSpan.FromMilliseconds(500)));
        Assert.Equal(6, handler.Calls);
        Assert.Equal(0, sink.Counters.InFlight);
        var purged = handler.Reports.Where(r => r.State is int i && i >= 0).Select(r => r.Outcome).ToList();
        Assert.All(purged, o => Assert.True(!o.Delivered && o.Purged && o.PossiblyPersisted, $"{o}"));
    }
}
