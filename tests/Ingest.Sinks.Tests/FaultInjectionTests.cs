using Ingest.Sinks.Broker;
using Ingest.Sinks.Kafka;
using static Ingest.Sinks.Tests.TestKafka;

namespace Ingest.Sinks.Tests;

/// <summary>Broker outages and injected errors through the mock cluster's fault injection.</summary>
public sealed class FaultInjectionTests(ITestOutputHelper output) : IDisposable
{
    private readonly EmbeddedBroker _broker = EmbeddedBroker.Start();

    public void Dispose() => _broker.Dispose();

    [Fact]
    public void BrokerDown_RecordsWait_ThenAreDeliveredOnceWhenItIsBackUp()
    {
        string topic = UniqueTopic("outage");
        _broker.CreateTopic(topic, 1);
        var handler = new RecordingDeliveryHandler();
        using var sink = new KafkaRecordSink(Options(_broker.BootstrapServers), Log(output));
        for (int i = 0; i < 10; i++)
        {
            Assert.True(sink.TryProduce(topic, Bytes("k"), Bytes($"v{i}"), [], handler, i));
        }

        Assert.Equal(0, sink.Flush(Deadline));

        _broker.SetBrokerDown(1);
        for (int i = 10; i < 60; i++)
        {
            Assert.True(sink.TryProduce(topic, Bytes("k"), Bytes($"v{i}"), [], handler, i));
        }

        // librdkafka noticed the outage (error callback); nothing of the second lot got through.
        Assert.True(WaitUntil(() => sink.Counters.BrokerErrors > 0), sink.Counters.ToString());
        Assert.Equal((10L, 50L, 0L), (sink.Counters.Delivered, sink.Counters.InFlight, sink.Counters.Failed));

        _broker.SetBrokerUp(1);
        Assert.Equal(0, sink.Flush(Deadline));

        Assert.Equal((60L, 60L, 0L, 0L), (sink.Counters.Produced, sink.Counters.Delivered, sink.Counters.Failed, sink.Counters.InFlight));
        Assert.Equal(60, handler.Calls);
        Assert.All(handler.Reports, r => Assert.True(r.Outcome.Delivered, r.Outcome.Error));

        // Idempotence: retries after the outage left no duplicates and kept the order.
        using var reader = new KafkaTopicReader(_broker.BootstrapServers, topic, fromBeginning: true);
        List<KafkaRecord> records = ReadAtLeast(reader, 60);
        Assert.Equal(Enumerable.Range(0, 60).Select(i => $"v{i}"), records.Select(r => Text(r.Value)));
        Assert.Null(reader.Read(TimeSpan.FromMilliseconds(300)));
    }

    [Fact]
    public void MessageTimeoutWithBrokerDown_EveryRecordReportedFailed_NoneLost()
    {
        string topic = UniqueTopic("timeout");
        _broker.CreateTopic(topic, 2);
        _broker.SetBrokerDown(1);
        var handler = new RecordingDeliveryHandler();
        const int Count = 40;
        using var sink = new KafkaRecordSink(Options(_broker.BootstrapServers, ("message.timeout.ms", "1500")), Log(output));
        for (int i = 0; i < Count; i++)
        {
            Assert.True(sink.TryProduce(topic, Bytes($"k{i}"), Bytes($"v{i}"), [], handler, i));
        }

        Assert.Equal(0, sink.Flush(Deadline));

        Assert.Equal((Count, 0L, (long)Count, 0L), (sink.Counters.Produced, sink.Counters.Delivered, sink.Counters.Failed, sink.Counters.InFlight));
        Assert.Equal(Count, handler.Calls);
        Assert.Equal(Count, handler.CallsPerState.Count);
        Assert.All(handler.Reports, r =>
        {
            Assert.False(r.Outcome.Delivered);
            Assert.Contains("Local_MsgTimedOut", r.Outcome.Error, StringComparison.Ordinal);
            Assert.Equal(-1, r.Outcome.Offset);
        });
    }

    [Fact]
    public void InjectedRetriableProduceErrors_AreRetried_WithoutDuplicates()
    {
        string topic = UniqueTopic("retriable");
        _broker.CreateTopic(topic, 1);
        var lines = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var sink = new KafkaRecordSink(Options(_broker.BootstrapServers, ("debug", "msg")), lines.Enqueue);
        var handler = new RecordingDeliveryHandler();
        Assert.True(sink.TryProduce(topic, Bytes("k"), Bytes("warm-up"), [], handler, -1));
        Assert.Equal(0, sink.Flush(Deadline));

        // ApiKey 0 = Produce; 19 = NOT_ENOUGH_REPLICAS (retriable).
        _broker.PushRequestErrors(0, 19, 19, 19);
        for (int i = 0; i < 20; i++)
        {
            Assert.True(sink.TryProduce(topic, Bytes("k"), Bytes($"v{i}"), [], handler, i));
        }

        Assert.Equal(0, sink.Flush(Deadline));
        Assert.Equal((21L, 0L), (sink.Counters.Delivered, sink.Counters.Failed));
        // One failed Produce request per injected error, each retried by librdkafka.
        Assert.Equal(3, lines.Count(l => l.Contains("encountered error: Broker: Not enough in-sync replicas", StringComparison.Ordinal)));

        using var reader = new KafkaTopicReader(_broker.BootstrapServers, topic, fromBeginning: true);
        Assert.Equal(
            ["warm-up", .. Enumerable.Range(0, 20).Select(i => $"v{i}")],
            ReadAtLeast(reader, 21).Select(r => Text(r.Value)));
        Assert.Null(reader.Read(TimeSpan.FromMilliseconds(300)));
    }

    [Fact]
    public void InjectedPermanentProduceError_FailsTheRecord_WithTheBrokerError()
    {
        string topic = UniqueTopic("permanent");
        _broker.CreateTopic(topic, 1);
        using var sink = new KafkaRecordSink(Options(_broker.BootstrapServers), Log(output));
        var handler = new RecordingDeliveryHandler();
        Assert.True(sink.TryProduce(topic, Bytes("k"), Bytes("warm-up"), [], handler, -1));
        Assert.Equal(0, sink.Flush(Deadline));

        // 29 = TOPIC_AUTHORIZATION_FAILED: not retriable, the record must fail visibly.
        _broker.PushRequestErrors(0, 29);
        Assert.True(sink.TryProduce(topic, Bytes("k"), Bytes("denied"), [], handler, 0));
        Assert.Equal(0, sink.Flush(Deadline));

        Assert.Equal((1L, 1L, 0L), (sink.Counters.Delivered, sink.Counters.Failed, sink.Counters.InFlight));
        DeliveryOutcome failed = handler.Reports.Single(r => (int)r.State! == 0).Outcome;
        Assert.False(failed.Delivered);
        Assert.Contains("TopicAuthorizationFailed", failed.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void BrokerRtt_DelaysDelivery_ByAtLeastTheRtt()
    {
        string topic = UniqueTopic("rtt");
        _broker.CreateTopic(topic, 1);
        using var sink = new KafkaRecordSink(Options(_broker.BootstrapServers), Log(output));
        var handler = new RecordingDeliveryHandler();
        Assert.True(sink.TryProduce(topic, Bytes("k"), Bytes("warm-up"), [], handler, -1));
        Assert.Equal(0, sink.Flush(Deadline));

        _broker.SetBrokerRtt(1, TimeSpan.FromMilliseconds(300));
        Assert.True(sink.TryProduce(topic, Bytes("k"), Bytes("slow"), [], handler, 0));
        Assert.Equal(0, sink.Flush(Deadline));

        // A lower bound the mock guarantees (it holds the response for the RTT), not a timing race.
        DeliveryOutcome slow = handler.Reports.Single(r => (int)r.State! == 0).Outcome;
        Assert.True(slow.Delivered, slow.Error);
        Assert.True(slow.Latency >= TimeSpan.FromMilliseconds(300), $"latency {slow.Latency}");
    }
}
