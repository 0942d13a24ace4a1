using Ingest.Sinks.Broker;
using Ingest.Sinks.Kafka;
using static Ingest.Sinks.Tests.TestKafka;

namespace Ingest.Sinks.Tests;

public sealed class QueueFullTests(ITestOutputHelper output) : IDisposable
{
    private const int QueueLimit = 10;
    private readonly EmbeddedBroker _broker = EmbeddedBroker.Start();

    public void Dispose() => _broker.Dispose();

    [Fact]
    public async Task FullQueue_TryProduceReturnsFalse_AndWaitForSpaceUnblocksOnceDeliveriesFreeIt()
    {
        string topic = UniqueTopic("full");
        _broker.CreateTopic(topic, 1);
        _broker.SetBrokerDown(1);
        var handler = new RecordingDeliveryHandler();
        using var sink = new KafkaRecordSink(
            Options(_broker.BootstrapServers, ("queue.buffering.max.messages", QueueLimit.ToString(System.Globalization.CultureInfo.InvariantCulture))),
            Log(output));

        for (int i = 0; i < QueueLimit; i++)
        {
            Assert.True(sink.TryProduce(topic, Bytes("k"), Bytes($"v{i}"), [], handler, i));
        }

        Assert.False(sink.TryProduce(topic, Bytes("k"), Bytes("refused"), [], handler, "refused"));
        Assert.Equal((QueueLimit, 1L, (long)QueueLimit), (sink.Counters.Produced, sink.Counters.QueueFull, sink.Counters.InFlight));

        // While the broker is down, waiting frees nothing: the queue stays full.
        await sink.WaitForSpaceAsync(TestContext.Current.CancellationToken);
        Assert.False(sink.TryProduce(topic, Bytes("k"), Bytes("refused"), [], handler, "refused"));

        _broker.SetBrokerUp(1);
        for (int i = QueueLimit; i < 3 * QueueLimit; i++)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            timeout.CancelAfter(Deadline);
            while (!sink.TryProduce(topic, Bytes("k"), Bytes($"v{i}"), [], handler, i))
            {
                await sink.WaitForSpaceAsync(timeout.Token);
            }
        }

        Assert.Equal(0, sink.Flush(Deadline));
        Assert.Equal((3L * QueueLimit, 3L * QueueLimit, 0L), (sink.Counters.Produced, sink.Counters.Delivered, sink.Counters.Failed));
        Assert.Equal(3 * QueueLimit, handler.Calls);
        Assert.DoesNotContain("refused", handler.CallsPerState.Keys);

        using var reader = new KafkaTopicReader(_broker.BootstrapServers, topic, fromBeginning: true);
        Assert.Equal(Enumerable.Range(0, 3 * QueueLimit).Select(i => $"v{i}"), ReadAtLeast(reader, 3 * QueueLimit).Select(r => Text(r.Value)));
    }

    [Fact]
    public async Task WaitForSpace_HonoursCancellation()
    {
        using var sink = new KafkaRecordSink(Options(_broker.BootstrapServers), Log(output));
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sink.WaitForSpaceAsync(cts.Token).AsTask());
    }

    [Fact]
    public void Dispose_WithRecordsStuckInFlight_CountsThemAbandoned()
    {
        string topic = UniqueTopic("abandon");
        _broker.CreateTopic(topic, 1);
        _broker.SetBrokerDown(1);
        var handler = new RecordingDeliveryHandler();
        var sink = new KafkaRecordSink(Options(_broker.BootstrapServers), Log(output));
        for (int i = 0; i < 5; i++)
        {
            Assert.True(sink.TryProduce(topic, Bytes("k"), Bytes($"v{i}"), [], handler, i));
        }

        sink.Dispose();

        Assert.Equal((5L, 0L, 0L, 5L), (sink.Counters.Produced, sink.Counters.Delivered, sink.Counters.InFlight, sink.Counters.Abandoned));
        Assert.Throws<ObjectDisposedException>(() => sink.TryProduce(topic, Bytes("k"), Bytes("late"), [], handler, null));
    }
}
