using Ingest.Sinks.Broker;
using Ingest.Sinks.Kafka;

namespace Ingest.Sinks.Tests;

public sealed class KafkaPartitionerTests(ITestOutputHelper output)
{
    [Fact]
    public void Crc32_MatchesTheStandardCheckValue() =>
        Assert.Equal(0xCBF43926u, KafkaPartitioner.Crc32("123456789"u8));

    [Fact]
    public void PartitionFor_RejectsEmptyKeysAndBadCounts()
    {
        Assert.Throws<ArgumentException>(() => KafkaPartitioner.PartitionFor([], 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => KafkaPartitioner.PartitionFor("k"u8, 0));
    }

    [Fact]
    public void PartitionFor_MatchesThePartitionLibrdkafkaChose()
    {
        using var broker = EmbeddedBroker.Start();
        string topic = TestKafka.UniqueTopic("partitioner");
        const int Partitions = 7;
        const int Keys = 400;
        broker.CreateTopic(topic, Partitions);
        var handler = new RecordingDeliveryHandler();

        using (var sink = new KafkaRecordSink(TestKafka.Options(broker.BootstrapServers), TestKafka.Log(output)))
        {
            for (int i = 0; i < Keys; i++)
            {
                byte[] key = TestKafka.Bytes($"host-{i * 7919}");
                Assert.True(sink.TryProduce(topic, key, [1], [], handler, key));
            }

            Assert.Equal(0, sink.Flush(TestKafka.Deadline));
        }

        Assert.Equal(Keys, handler.Calls);
        var used = new HashSet<int>();
        foreach (var (state, outcome) in handler.Reports)
        {
            Assert.True(outcome.Delivered, outcome.Error);
            Assert.Equal(KafkaPartitioner.PartitionFor((byte[])state!, Partitions), outcome.Partition);
            used.Add(outcome.Partition);
        }

        Assert.Equal(Partitions, used.Count);
    }
}
