using Ingest.Sinks.Broker;
using Ingest.Sinks.Kafka;
using static Ingest.Sinks.Tests.TestKafka;

namespace Ingest.Sinks.Tests;

/// <summary>
/// <see cref="KafkaProducerOptions.OrderedTimeouts"/> against real librdkafka and the embedded
/// broker: librdkafka never times a record out itself, the owner sees it overdue after the
/// configured message.timeout.ms, and <see cref="KafkaRecordSink.Abandon"/> ends every record at
/// once, as retriable failures, with the producer still usable afterwards.
/// </summary>
public sealed class OrderedTimeoutTests(ITestOutputHelper output) : IDisposable
{
    private readonly EmbeddedBroker _broker = EmbeddedBroker.Start();

    public void Dispose() => _broker.Dispose();

    [Fact]
    public async Task Records_outliving_the_timeout_are_overdue_not_failed_and_Abandon_ends_them_all_as_retriable()
    {
        string topic = UniqueTopic("ordered-timeouts");
        _broker.CreateTopic(topic, 1);
        var handler = new RecordingDeliveryHandler();
        var options = new KafkaProducerOptions
        {
            BootstrapServers = _broker.BootstrapServers,
            Properties = new Dictionary<string, string> { ["message.timeout.ms"] = "800" },
            OrderedTimeouts = true,
        };
        using var sink = new KafkaRecordSink(options, Log(output));
        Assert.Equal(TimeSpan.FromMilliseconds(800), sink.DeliveryTimeout);
        Assert.True(sink.TryProduce(topic, Bytes("k"), Bytes("first"), [], handler, -1));
        Assert.Equal(0, sink.Flush(Deadline));
        Assert.False(sink.HasOverdue);

        _broker.SetBrokerDown(1);
        for (int i = 0; i < 20; i++)
        {
            Assert.True(sink.TryProduce(topic, Bytes("k"), Bytes($"v{i}"), [], handler, i));
        }

        Assert.False(sink.HasOverdue);

        // Three times the timeout: librdkafka alone would have failed them all by now.
        await Task.Delay(2400, TestContext.Current.CancellationToken);
        Assert.Equal(1, handler.Calls);
        Assert.True(sink.HasOverdue);

        Assert.Equal(0, sink.Abandon());
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (handler.Calls < 21 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        Assert.Equal(21, handler.Calls);
        Assert.Equal(0, sink.Counters.InFlight);
        Assert.Equal(1, sink.Counters.Abandons);
        var ended = handler.Reports.Where(r => r.State is int i && i >= 0).Select(r => r.Outcome).ToList();
        Assert.All(ended, o => Assert.True(!o.Delivered && o.Retriable && !o.Purged, $"{o}"));
        Assert.False(sink.HasOverdue);

        // The producer keeps working once the broker is back.
        _broker.SetBrokerUp(1);
        Assert.True(sink.TryProduce(topic, Bytes("k"), Bytes("after"), [], handler, "after"));
        Assert.Equal(0, sink.Flush(Deadline));
        Assert.True(handler.Reports.Single(r => "after".Equals(r.State)).Outcome.Delivered);
    }
}
