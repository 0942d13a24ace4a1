using System.Diagnostics;
using Ingest.Sinks.Broker;
using Ingest.Sinks.Kafka;
using static Ingest.Sinks.Tests.TestKafka;

namespace Ingest.Sinks.Tests;

/// <summary>
/// The sink serves delivery reports from its own poll thread, which blocks in rd_kafka_poll
/// (no 100 ms poll timer like Confluent.Kafka's background thread) and is released by
/// a yield of its main queue (rd_kafka_queue_yield) when the sink closes.
/// </summary>
public sealed class PollThreadTests(ITestOutputHelper output) : IDisposable
{
    private readonly EmbeddedBroker _broker = EmbeddedBroker.Start();

    public void Dispose() => _broker.Dispose();

    [Fact]
    public async Task Reports_arrive_without_a_flush_and_an_idle_sink_closes_without_waiting_out_the_poll()
    {
        string topic = UniqueTopic("poll-thread");
        _broker.CreateTopic(topic, 1);
        var handler = new RecordingDeliveryHandler();
        var sink = new KafkaRecordSink(new KafkaProducerOptions { BootstrapServers = _broker.BootstrapServers }, Log(output));
        try
        {
            // Nothing here polls or flushes: only the sink's own thread can serve these reports.
            for (int round = 0; round < 3; round++)
            {
                var watch = Stopwatch.StartNew();
                Assert.True(sink.TryProduce(topic, Bytes("k"), Bytes($"v{round}"), [], handler, round));
                while (handler.Calls <= round && watch.Elapsed < TimeSpan.FromSeconds(10))
                {
                    await Task.Delay(2, TestContext.Current.CancellationToken);
                }

                output.WriteLine($"round {round}: report after {watch.Elapsed.TotalMilliseconds:F1} ms");
                Assert.Equal(round + 1, handler.Calls);
                Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"report after {watch.Elapsed}");

                // Idle in between, so the next record meets a poll that is already blocked.
                await Task.Delay(300, TestContext.Current.CancellationToken);
            }

            Assert.All(handler.Reports, r => Assert.True(r.Outcome.Delivered, $"{r.Outcome}"));
        }
        finally
        {
            // The poll waits up to 10 s for an event; the yield at close ends that wait at once.
            var close = Stopwatch.StartNew();
            sink.Dispose();
            output.WriteLine($"close took {close.Elapsed.TotalMilliseconds:F0} ms");
            Assert.True(close.Elapsed < TimeSpan.FromSeconds(5), $"close took {close.Elapsed}");
        }
    }
}
