using Confluent.Kafka;

namespace Ingest.Sinks.Kafka;

/// <summary>
/// Reads records of one topic with Confluent's consumer: for <c>ingest tail</c>, the command
/// path and tests. Either joins a consumer group (subscription) or, when a partition is given,
/// reads that partition by manual assignment without committing offsets.
/// </summary>
public sealed class KafkaTopicReader : IDisposable
{
    private readonly IConsumer<byte[], byte[]> _consumer;

    /// <param name="bootstrap">librdkafka <c>bootstrap.servers</c>.</param>
    /// <param name="topic">Topic to read.</param>
    /// <param name="fromBeginning">Start at the oldest retained record; otherwise only new records.</param>
    /// <param name="groupId">Consumer group; a fresh unique group (no commits) when null.</param>
    /// <param name="properties">Any librdkafka property, overriding the reader's defaults.</param>
    /// <param name="partition">When set, read only this partition by manual assignment.</param>
    /// <param name="log">Receives librdkafka log lines and client errors; stderr when null.</param>
    public KafkaTopicReader(
        string bootstrap,
        string topic,
        bool fromBeginning,
        string? groupId = null,
        IReadOnlyDictionary<string, string>? properties = null,
        int? partition = null,
        Action<string>? log = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(bootstrap);
        ArgumentException.ThrowIfNullOrEmpty(topic);
        LibRdKafka.EnsureLoaded();

        var config = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["bootstrap.servers"] = bootstrap,
            ["group.id"] = groupId ?? $"ingest-reader-{Guid.NewGuid():N}",
            ["auto.offset.reset"] = fromBeginning ? "earliest" : "latest",
            // An anonymous group has no one to resume it: committing would only leave debris.
            ["enable.auto.commit"] = groupId is null ? "false" : "true",
            ["enable.partition.eof"] = "false",
            // A reader often starts before the topic exists; notice it within seconds, not minutes.
            ["topic.metadata.refresh.interval.ms"] = "2000",
        };
        if (properties is not null)
        {
            foreach (var (name, value) in properties)
            {
                config[name] = value;
            }
        }

        log ??= Console.Error.WriteLine;
        _consumer = new ConsumerBuilder<byte[], byte[]>(config)
            .SetLogHandler((_, m) => log($"librdkafka {m.Level} {m.Facility}: {m.Message}"))
            .SetErrorHandler((_, e) => log($"kafka reader error {e.Code}: {e.Reason}"))
            .Build();
        if (partition is int p)
        {
            _consumer.Assign(new TopicPartitionOffset(topic, p, fromBeginning ? Offset.Beginning : Offset.End));
        }
        else
        {
            _consumer.Subscribe(topic);
        }
    }

    /// <summary>
    /// True once partitions are assigned (a group join takes seconds: Kafka's
    /// group.initial.rebalance.delay.ms). Silence before that says nothing about the topic.
    /// </summary>
    public bool HasAssignment => _consumer.Assignment.Count > 0;

    /// <summary>Returns the next record, or null when none arrived within <paramref name="timeout"/>.</summary>
    /// <exception cref="ConsumeException">The broker or client reported an error for this read.</exception>
    public KafkaRecord? Read(TimeSpan timeout)
    {
        ConsumeResult<byte[], byte[]>? result;
        try
        {
            result = _consumer.Consume(timeout);
        }
        catch (ConsumeException e) when (e.Error.Code == ErrorCode.UnknownTopicOrPart && !e.Error.IsFatal)
        {
            // The topic appears with its first record (auto-creation): until then there is nothing to read.
            return null;
        }

        if (result is null || result.IsPartitionEOF)
        {
            return null;
        }

        Message<byte[], byte[]> message = result.Message;
        KeyValuePair<string, byte[]>[] headers = [];
        if (message.Headers is { Count: > 0 } source)
        {
            headers = new KeyValuePair<string, byte[]>[source.Count];
            for (int i = 0; i < headers.Length; i++)
            {
                headers[i] = new(source[i].Key, source[i].GetValueBytes());
            }
        }

        return new KafkaRecord(
            result.Topic,
            result.Partition.Value,
            result.Offset.Value,
            message.Key,
            message.Value ?? [],
            headers,
            message.Timestamp.UtcDateTime);
    }

    /// <summary>Leaves the group (if any) and destroys the consumer.</summary>
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
}
