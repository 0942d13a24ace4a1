using Ingest.Sinks.Broker;
using Ingest.Sinks.Kafka;
using static Ingest.Sinks.Tests.TestKafka;

namespace Ingest.Sinks.Tests;

/// <summary>Real librdkafka producer and consumer against the embedded broker over TCP.</summary>
public sealed class ProduceAndReadTests(ITestOutputHelper output) : IDisposable
{
    private const int Partitions = 3;
    private const int Count = 300;
    private readonly EmbeddedBroker _broker = EmbeddedBroker.Start();

    public void Dispose() => _broker.Dispose();

    [Fact]
    public void ProducedRecords_ReadBackExactly_InOrderPerPartition()
    {
        string topic = UniqueTopic("roundtrip");
        _broker.CreateTopic(topic, Partitions);
        var handler = new RecordingDeliveryHandler();
        ProduceNumbered(topic, handler);

        using var reader = new KafkaTopicReader(_broker.BootstrapServers, topic, fromBeginning: true);
        List<KafkaRecord> records = ReadAtLeast(reader, Count);

        Assert.Equal(Count, records.Count);
        Assert.Null(reader.Read(TimeSpan.FromMilliseconds(300)));
        foreach (var group in records.GroupBy(r => r.Partition))
        {
            // Within a partition, offsets are contiguous and sequence numbers ascend: produce order.
            int[] seqs = group.Select(r => int.Parse(Text(r.Value)[6..], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            Assert.Equal(seqs.Order(), seqs);
            Assert.Equal(Enumerable.Range(0, group.Count()).Select(i => (long)i), group.Select(r => r.Offset));
        }

        foreach (KafkaRecord record in records)
        {
            int i = int.Parse(Text(record.Value)[6..], System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(topic, record.Topic);
            Assert.Equal($"key-{i % 10}", Text(record.Key));
            Assert.Equal(KafkaPartitioner.PartitionFor(record.Key, Partitions), record.Partition);
            Assert.Equal(["seq", "source"], record.Headers.Select(h => h.Key));
            Assert.Equal(i.ToString(System.Globalization.CultureInfo.InvariantCulture), Text(record.Headers[0].Value));
            Assert.Equal("test", Text(record.Headers[1].Value));
            Assert.InRange(record.Timestamp, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1));
        }

        Assert.Equal(Enumerable.Range(0, Count), records.Select(r => int.Parse(Text(r.Value)[6..], System.Globalization.CultureInfo.InvariantCulture)).Order());
    }

    [Fact]
    public void DeliveryHandler_CalledExactlyOncePerRecord_WithTheOffsetsTheReaderSees()
    {
        string topic = UniqueTopic("reports");
        _broker.CreateTopic(topic, Partitions);
        var handler = new RecordingDeliveryHandler();
        SinkCounters counters = ProduceNumbered(topic, handler);

        Assert.Equal(Count, handler.Calls);
        Assert.Equal(Count, handler.CallsPerState.Count);
        Assert.All(handler.CallsPerState.Values, n => Assert.Equal(1, n));
        Assert.Equal((Count, Count, 0L, 0L, 0L), (counters.Produced, counters.Delivered, counters.Failed, counters.InFlight, counters.QueueFull));

        var reported = handler.Reports.ToDictionary(r => (int)r.State!, r => r.Outcome);
        Assert.All(reported.Values, o => Assert.True(o.Delivered && o.Error is null && o.Latency > TimeSpan.Zero));

        using var reader = new KafkaTopicReader(_broker.BootstrapServers, topic, fromBeginning: true);
        foreach (KafkaRecord record in ReadAtLeast(reader, Count))
        {
            DeliveryOutcome outcome = reported[int.Parse(Text(record.Headers[0].Value), System.Globalization.CultureInfo.InvariantCulture)];
            Assert.Equal((record.Partition, record.Offset), (outcome.Partition, outcome.Offset));
        }
    }

    [Fact]
    public void Reader_WithManualPartition_ReadsOnlyThatPartition()
    {
        string topic = UniqueTopic("assign");
        _broker.CreateTopic(topic, Partitions);
        var handler = new RecordingDeliveryHandler();
        ProduceNumbered(topic, handler);
        int expected = handler.Reports.Count(r => r.Outcome.Partition == 1);

        using var reader = new KafkaTopicReader(_broker.BootstrapServers, topic, fromBeginning: true, partition: 1);
        List<KafkaRecord> records = ReadAtLeast(reader, expected);

        Assert.InRange(expected, 1, Count - 1);
        Assert.Equal(expected, records.Count);
        Assert.All(records, r => Assert.Equal(1, r.Partition));
        Assert.Null(reader.Read(TimeSpan.FromMilliseconds(300)));
    }

    [Fact]
    public void Reader_NotFromBeginning_SeesOnlyNewRecords()
    {
        string topic = UniqueTopic("latest");
        _broker.CreateTopic(topic, 1);
        var handler = new RecordingDeliveryHandler();
        using var sink = new KafkaRecordSink(Options(_broker.BootstrapServers), Log(output));
        Assert.True(sink.TryProduce(topic, Bytes("k"), Bytes("old"), [], handler, null));
        Assert.Equal(0, sink.Flush(Deadline));

        using var reader = new KafkaTopicReader(_broker.BootstrapServers, topic, fromBeginning: false, partition: 0);
        Assert.Null(reader.Read(TimeSpan.FromSeconds(1)));
        Assert.True(sink.TryProduce(topic, Bytes("k"), Bytes("new"), [], handler, null));
        Assert.Equal(0, sink.Flush(Deadline));

        KafkaRecord record = Assert.Single(ReadAtLeast(reader, 1));
        Assert.Equal("new", Text(record.Value));
        Assert.Equal(1, record.Offset);
    }

    private SinkCounters ProduceNumbered(string topic, RecordingDeliveryHandler handler)
    {
        using var sink = new KafkaRecordSink(Options(_broker.BootstrapServers), Log(output));
        for (int i = 0; i < Count; i++)
        {
            Assert.True(sink.TryProduce(topic, Bytes($"key-{i % 10}"), Bytes($"value-{i}"), Headers(i), handler, i));
        }

        Assert.Equal(0, sink.Flush(Deadline));
        return sink.Counters;
    }
}
