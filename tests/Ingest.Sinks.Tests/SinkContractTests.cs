using Confluent.Kafka;
using Ingest.Sinks.Broker;
using Ingest.Sinks.Kafka;
using static Ingest.Sinks.Tests.TestKafka;

namespace Ingest.Sinks.Tests;

/// <summary>Edges of the <see cref="KafkaRecordSink"/> contract: bad input, bad handlers, configuration.</summary>
public sealed class SinkContractTests(ITestOutputHelper output) : IDisposable
{
    private readonly EmbeddedBroker _broker = EmbeddedBroker.Start();

    public void Dispose() => _broker.Dispose();

    [Fact]
    public void OversizedRecord_Throws_AndIsNotCounted_NeighboursUnaffected()
    {
        string topic = UniqueTopic("oversize");
        _broker.CreateTopic(topic, 1);
        var handler = new RecordingDeliveryHandler();
        using var sink = new KafkaRecordSink(Options(_broker.BootstrapServers, ("message.max.bytes", "10000")), Log(output));

        Assert.True(sink.TryProduce(topic, Bytes("k"), Bytes("before"), [], handler, 0));
        var e = Assert.Throws<ProduceException<byte[], byte[]>>(() => sink.TryProduce(topic, Bytes("k"), new byte[20000], [], handler, 1));
        Assert.Equal(ErrorCode.MsgSizeTooLarge, e.Error.Code);
        Assert.True(sink.TryProduce(topic, Bytes("k"), Bytes("after"), [], handler, 2));
        Assert.Equal(0, sink.Flush(Deadline));

        Assert.Equal((2L, 2L, 0L, 0L), (sink.Counters.Produced, sink.Counters.Delivered, sink.Counters.InFlight, sink.Counters.QueueFull));
        Assert.Equal([0, 2], handler.Reports.Select(r => (int)r.State!).Order());
    }

    [Fact]
    public void ThrowingHandler_IsCounted_AndLaterReportsStillArrive()
    {
        string topic = UniqueTopic("bad-handler");
        _broker.CreateTopic(topic, 1);
        var good = new RecordingDeliveryHandler();
        var lines = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var sink = new KafkaRecordSink(Options(_broker.BootstrapServers), lines.Enqueue);

        Assert.True(sink.TryProduce(topic, Bytes("k"), Bytes("a"), [], new ThrowingHandler(), null));
        Assert.True(sink.TryProduce(topic, Bytes("k"), Bytes("b"), [], good, 1));
        Assert.Equal(0, sink.Flush(Deadline));

        Assert.Equal((1L, 2L, 0L), (sink.Counters.HandlerErrors, sink.Counters.Delivered, sink.Counters.InFlight));
        Assert.Equal(1, good.Calls);
        Assert.Contains(lines, l => l.Contains("handler threw", StringComparison.Ordinal));
    }

    [Fact]
    public void ArgumentErrors_ThrowBeforeAnythingIsQueued()
    {
        using var sink = new KafkaRecordSink(Options(_broker.BootstrapServers), Log(output));
        var handler = new RecordingDeliveryHandler();

        Assert.Throws<ArgumentException>(() => sink.TryProduce("", Bytes("k"), Bytes("v"), [], handler, null));
        Assert.Throws<ArgumentNullException>(() => sink.TryProduce("t", Bytes("k"), null!, [], handler, null));
        Assert.Throws<ArgumentNullException>(() => sink.TryProduce("t", Bytes("k"), Bytes("v"), [], null!, null));
        Assert.Equal((0L, 0L), (sink.Counters.Produced, sink.Counters.InFlight));
    }

    [Fact]
    public void BuildConfig_HasTheDocumentedDefaults_AndPropertiesOverrideThem()
    {
        var config = KafkaRecordSink.BuildConfig(new KafkaProducerOptions
        {
            BootstrapServers = "h:1",
            Properties = new Dictionary<string, string> { ["linger.ms"] = "50", ["client.id"] = "ingest" },
        });

        Assert.Equal("h:1", config["bootstrap.servers"]);
        Assert.Equal("true", config["enable.idempotence"]);
        Assert.Equal("all", config["acks"]);
        Assert.Equal("lz4", config["compression.type"]);
        Assert.Equal("50", config["linger.ms"]);
        Assert.Equal("ingest", config["client.id"]);
        Assert.Equal("65536", config["queue.buffering.max.kbytes"]);
        Assert.Equal("300000", config["message.timeout.ms"]);

        // Reports come from the sink's own blocking poll thread, not Confluent.Kafka's 100 ms loop (PollThreadTests).
        Assert.Equal("false", config["dotnet.producer.enable.background.poll"]);

        // No second linger after the pipeline's batcher (the ring-wait benchmark's decomposition).
        Assert.Equal("0", KafkaRecordSink.BuildConfig(new KafkaProducerOptions { BootstrapServers = "h:1" })["linger.ms"]);
    }

    private sealed class ThrowingHandler : IDeliveryHandler
    {
        public void OnDelivery(object? state, DeliveryOutcome outcome) => throw new InvalidOperationException("handler bug");
    }
}
