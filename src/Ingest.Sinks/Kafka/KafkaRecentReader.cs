using Confluent.Kafka;

namespace Ingest.Sinks.Kafka;

/// <summary>
/// Reads every partition of one topic from a point in time (the recent past), then follows. No
/// consumer group: partitions are assigned directly, so there is no group join to wait for and
/// nothing is committed. Knows when it has caught up with the end offsets the partitions had
/// when reading began (<see cref="CaughtUp"/>), which is what a one-shot view waits for.
/// </summary>
public sealed class KafkaRecentReader : IDisposable
{
    private readonly IConsumer<byte[], byte[]> _consumer;
    private readonly string _topic;
    private readonly DateTimeOffset? _since;
    private readonly Dictionary<int, long> _endAtStart = [];
    private readonly HashSet<int> _behind = [];
    private bool _assigned;
    private bool _skipOlder;
    private bool _missingAtStart;

    /// <param name="bootstrap">librdkafka <c>bootstrap.servers</c>.</param>
    /// <param name="topic">Topic to read.</param>
    /// <param name="since">
    /// Start each partition at the first record at or after this time; null = at the partitions'
    /// current end (only what is written from now on; if the topic does not exist yet, everything
    /// it will ever hold is new, so it is then read from its beginning).
    /// </param>
    /// <param name="properties">Any librdkafka consumer property, overriding the defaults.</param>
    /// <param name="log">Receives client errors; ignored when null.</param>
    public KafkaRecentReader(string bootstrap, string topic, DateTimeOffset? since, IReadOnlyDictionary<string, string>? properties = null, Action<string>? log = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(bootstrap);
        ArgumentException.ThrowIfNullOrEmpty(topic);
        LibRdKafka.EnsureLoaded();
        _topic = topic;
        _since = since;
        var config = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["bootstrap.servers"] = bootstrap,
            ["group.id"] = $"ingest-recent-{Guid.NewGuid():N}",
            ["enable.auto.commit"] = "false",
            ["enable.partition.eof"] = "false",
            ["auto.offset.reset"] = "latest",
            // A fleet view reads many small records; fetch them in large batches.
            ["fetch.wait.max.ms"] = "100",
            ["queued.min.messages"] = "10000",
        };
        if (properties is not null)
        {
            foreach (var (name, value) in properties)
            {
                config[name] = value;
            }
        }

        var sink = log ?? (static _ => { });
        _consumer = new ConsumerBuilder<byte[], byte[]>(config)
            .SetLogHandler((_, m) => sink($"librdkafka {m.Level} {m.Facility}: {m.Message}"))
            .SetErrorHandler((_, e) => sink($"kafka reader error {e.Code}: {e.Reason}"))
            .Build();
    }

    /// <summary>True once the topic's partitions are assigned (the topic exists).</summary>
    public bool Assigned => _assigned;

    /// <summary>True once every partition was read up to where it ended when reading began.</summary>
    public bool CaughtUp => _assigned && _behind.Count == 0;

    /// <summary>
    /// Returns the next record, or null when none arrived within <paramref name="timeout"/> (or
    /// the topic does not exist yet: it is looked up again on the next call).
    /// </summary>
    public KafkaRecord? Read(TimeSpan timeout)
    {
        if (!_assigned && !TryAssign(timeout))
        {
            return null;
        }

        while (true)
        {
            ConsumeResult<byte[], byte[]>? result;
            try
            {
                result = _consumer.Consume(timeout);
            }
            catch (ConsumeException e) when (!e.Error.IsFatal)
            {
                return null;
            }

            if (result is null || result.IsPartitionEOF)
            {
                return null;
            }

            var partition = result.Partition.Value;
            if (_behind.Count > 0 && _endAtStart.TryGetValue(partition, out var end) && result.Offset.Value + 1 >= end)
            {
                _behind.Remove(partition);
            }

            var message = result.Message;
            if (_skipOlder && message.Timestamp.UnixTimestampMs < _since!.Value.ToUnixTimeMilliseconds())
            {
                SkippedOlder++;
                timeout = TimeSpan.Zero;
                continue;
            }

            return new KafkaRecord(result.Topic, partition, result.Offset.Value, message.Key, message.Value ?? [], [], message.Timestamp.UtcDateTime);
        }
    }

    /// <summary>Records read and skipped because they were older than the start time (see <see cref="TryAssign"/>).</summary>
    public long SkippedOlder { get; private set; }

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

    private bool TryAssign(TimeSpan timeout)
    {
        var wait = timeout < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : timeout;
        using var admin = new DependentAdminClientBuilder(_consumer.Handle).Build();
        Metadata metadata;
        try
        {
            metadata = admin.GetMetadata(_topic, wait);
        }
        catch (KafkaException)
        {
            return false;
        }

        var topic = metadata.Topics.FirstOrDefault(t => t.Topic == _topic);
        if (topic is null || topic.Error.IsError || topic.Partitions.Count == 0)
        {
            _missingAtStart = true;
            Thread.Sleep(TimeSpan.FromMilliseconds(Math.Min(200, wait.TotalMilliseconds)));
            return false;
        }

        if (_since is null)
        {
            // From the end: nothing before now is wanted. A topic that did not exist when reading
            // began holds only new records: read it all.
            var fromEnd = new List<TopicPartitionOffset>();
            foreach (var p in topic.Partitions)
            {
                var partition = new TopicPartition(_topic, p.PartitionId);
                var marks = _consumer.QueryWatermarkOffsets(partition, wait);
                fromEnd.Add(new TopicPartitionOffset(partition, _missingAtStart ? marks.Low : marks.High));
                _endAtStart[p.PartitionId] = marks.High.Value;
            }

            _consumer.Assign(fromEnd);
            _assigned = true;
            return true;
        }

        var timestamp = new Timestamp(_since.Value.UtcDateTime);
        var wanted = topic.Partitions.Select(p => new TopicPartitionTimestamp(_topic, p.PartitionId, timestamp)).ToList();
        List<TopicPartitionOffset> starts;
        try
        {
            starts = _consumer.OffsetsForTimes(wanted, wait);
        }
        catch (KafkaException)
        {
            return false;
        }

        var assignment = new List<TopicPartitionOffset>(starts.Count);
        foreach (var start in starts)
        {
            var marks = _consumer.QueryWatermarkOffsets(start.TopicPartition, wait);
            var low = marks.Low.Value;
            var end = marks.High.Value;
            var offset = start.Offset.Value;
            if (offset < 0)
            {
                // No offset for that time: on Kafka, every record is older, so start at the end.
                // A broker that cannot look up by time (librdkafka's mock cluster) answers the
                // same; tell them apart by the newest record's time, and in the second case read
                // from the oldest record, skipping the older ones by their timestamp.
                offset = end > low && NewestIsRecent(start.TopicPartition, end, wait) ? low : end;
                _skipOlder |= offset == low && end > low;
            }

            assignment.Add(new TopicPartitionOffset(start.TopicPartition, offset));
            _endAtStart[start.Partition.Value] = end;
            if (offset < end)
            {
                _behind.Add(start.Partition.Value);
            }
        }

        _consumer.Assign(assignment);
        _assigned = true;
        return true;
    }

    private bool NewestIsRecent(TopicPartition partition, long end, TimeSpan timeout)
    {
        _consumer.Assign(new TopicPartitionOffset(partition, end - 1));
        try
        {
            var deadline = DateTime.UtcNow + timeout;
            while (DateTime.UtcNow < deadline)
            {
                var result = _consumer.Consume(TimeSpan.FromMilliseconds(100));
                if (result?.Message is { } message)
                {
                    return message.Timestamp.UnixTimestampMs >= _since!.Value.ToUnixTimeMilliseconds();
                }
            }

            return false;
        }
        catch (ConsumeException)
        {
            return false;
        }
        finally
        {
            _consumer.Unassign();
        }
    }
}
