using System.Diagnostics;
using Confluent.Kafka;
using Ingest.Sinks.Kafka;

namespace Ingest.Sinks.Commands;

/// <summary>
/// Reads the one partition a record key maps to (librdkafka's default partitioner, see
/// <see cref="KafkaPartitioner"/>), by manual assignment: a host in a fleet of thousands reads
/// only its own share of the topic, and no group rebalances happen. Offsets are committed
/// explicitly with <see cref="Commit"/>, only after the caller has finished with a record.
/// </summary>
/// <remarks>
/// Memory is bounded by the fetch settings: at most about 1 MiB per fetch, except that Kafka
/// always returns a partition's next record whole (KIP-74), so one record up to the broker's
/// message.max.bytes (below receive.message.max.bytes, 64 MiB here) may arrive; callers check
/// the size before parsing.
/// </remarks>
public sealed class KeyedPartitionReader : IDisposable
{
    private readonly IConsumer<byte[], byte[]> _consumer;
    private readonly TopicPartition _partition;

    private KeyedPartitionReader(IConsumer<byte[], byte[]> consumer, TopicPartition partition, int partitionCount)
    {
        _consumer = consumer;
        _partition = partition;
        PartitionCount = partitionCount;
    }

    public int Partition => _partition.Partition.Value;

    public int PartitionCount { get; }

    /// <summary>librdkafka settings of the reader before caller overrides.</summary>
    public static Dictionary<string, string> DefaultConfig(string bootstrap, string? groupId) => new(StringComparer.Ordinal)
    {
        ["bootstrap.servers"] = bootstrap,
        ["group.id"] = groupId ?? $"ingest-keyed-{Guid.NewGuid():N}",
        ["enable.auto.commit"] = "false",
        ["enable.auto.offset.store"] = "false",
        ["auto.offset.reset"] = "earliest",
        ["enable.partition.eof"] = "false",
        ["allow.auto.create.topics"] = "true",
        ["fetch.max.bytes"] = "1048576",
        ["max.partition.fetch.bytes"] = "1048576",
        ["queued.max.messages.kbytes"] = "4096",
        ["receive.message.max.bytes"] = "67108864",
        ["fetch.wait.max.ms"] = "10",
    };

    /// <summary>
    /// Opens the reader for <paramref name="key"/>'s partition of <paramref name="topic"/>,
    /// waiting up to <paramref name="metadataTimeout"/> for the topic to exist.
    /// </summary>
    /// <exception cref="TimeoutException">The topic's metadata did not arrive in time.</exception>
    public static KeyedPartitionReader Open(
        string bootstrap,
        string topic,
        byte[] key,
        KeyedPartitionStart start,
        string? groupId,
        IReadOnlyDictionary<string, string>? properties,
        TimeSpan metadataTimeout,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(bootstrap);
        ArgumentException.ThrowIfNullOrEmpty(topic);
        ArgumentNullException.ThrowIfNull(key);
        LibRdKafka.EnsureLoaded();

        Dictionary<string, string> config = DefaultConfig(bootstrap, groupId);
        if (properties is not null)
        {
            foreach (var (name, value) in properties)
            {
                config[name] = value;
            }
        }

        IConsumer<byte[], byte[]> consumer = new ConsumerBuilder<byte[], byte[]>(config).SetLogHandler((_, _) => { }).Build();
        try
        {
            int count = WaitForPartitionCount(consumer, topic, metadataTimeout, cancellationToken);
            var partition = new TopicPartition(topic, KafkaPartitioner.PartitionFor(key, count));
            Offset offset = Offset.Stored;
            if (start == KeyedPartitionStart.End)
            {
                offset = consumer.QueryWatermarkOffsets(partition, metadataTimeout).High;
            }

            consumer.Assign(new TopicPartitionOffset(partition, offset));
            return new KeyedPartitionReader(consumer, partition, count);
        }
        catch
        {
            consumer.Dispose();
            throw;
        }
    }

    /// <summary>The next record, or null when none arrived within <paramref name="timeout"/>.</summary>
    /// <exception cref="ConsumeException">The broker or client reported an error for this read.</exception>
    public KafkaRecord? Read(TimeSpan timeout)
    {
        ConsumeResult<byte[], byte[]>? result = _consumer.Consume(timeout);
        if (result is null || result.IsPartitionEOF)
        {
            return null;
        }

        return new KafkaRecord(result.Topic, result.Partition.Value, result.Offset.Value, result.Message.Key, result.Message.Value ?? [], [], result.Message.Timestamp.UtcDateTime);
    }

    /// <summary>Commits the position after <paramref name="record"/> to the group, synchronously.</summary>
    /// <exception cref="KafkaException">The commit failed.</exception>
    public void Commit(KafkaRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        _consumer.Commit([new TopicPartitionOffset(_partition, record.Offset + 1)]);
    }

    public void Dispose()
    {
        try
        {
            _consumer.Close();
        }
        finally
        {
            _consumer.Dispose();
        }
    }

    private static int WaitForPartitionCount(IConsumer<byte[], byte[]> consumer, string topic, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
        var elapsed = Stopwatch.StartNew();
        string? last = null;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                Metadata metadata = admin.GetMetadata(topic, TimeSpan.FromSeconds(2));
                TopicMetadata? found = metadata.Topics.Find(t => t.Topic == topic);
                if (found is not null && found.Error.Code == ErrorCode.NoError && found.Partitions.Count > 0)
                {
                    return found.Partitions.Count;
                }

                last = found?.Error.ToString() ?? "topic not in metadata";
            }
            catch (KafkaException e)
            {
                last = e.Message;
            }

            if (elapsed.Elapsed >= timeout)
            {
                throw new TimeoutException($"no metadata for topic '{topic}' within {timeout.TotalSeconds:F0} s: {last}");
            }

            cancellationToken.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(200));
        }
    }
}
