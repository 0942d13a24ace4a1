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
            // A start position the broker no longer holds (retention moved past it while it was
            // being read): reading the recent past resumes at the oldest record still held, not at
            // the end, which would skip everything in between; following from the end stays there.
            ["auto.offset.reset"] = since is null ? "latest" : "earliest",
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

    /// <summary>
    /// How long one attempt to find the start positions may wait for the broker (each call
    /// waits at least this long); a failed attempt is repeated by the next <see cref="Read"/>.
    /// </summary>
    public TimeSpan AssignTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Attempts to find the start positions that failed (a broker call timed out or failed, e.g. no leader yet).</summary>
    public long AssignFailures { get; private set; }

    /// <summary>Why the latest failed attempt failed; null if none failed.</summary>
    public string? LastAssignError { get; private set; }

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
        // Every broker call below may time out or fail on a busy or freshly created topic (no
        // leader yet): that is not an error of the reader, only "not yet". Nothing is kept from a
        // failed attempt; the next Read tries again.
        var wait = timeout < AssignTimeout ? AssignTimeout : timeout;
        try
        {
            return Assign(wait);
        }
        catch (KafkaException e)
        {
            LastAssignError = e.Error.Reason;
            AssignFailures++;
            Thread.Sleep(TimeSpan.FromMilliseconds(Math.Min(200, Math.Max(10, timeout.TotalMilliseconds)))); // not a busy loop when the broker fails fast
            return false;
        }
    }

    private bool Assign(TimeSpan wait)
    {
        using var admin = new DependentAdminClientBuilder(_consumer.Handle).Build();
        var metadata = admin.GetMetadata(_topic, wait);
        var topic = metadata.Topics.FirstOrDefault(t => t.Topic == _topic);
        if (topic is null || topic.Error.IsError || topic.Partitions.Count == 0)
        {
            _missingAtStart = true;
            Thread.Sleep(TimeSpan.FromMilliseconds(Math.Min(200, wait.TotalMilliseconds)));
            return false;
        }

        var ends = new Dictionary<int, long>();
        var behind = new HashSet<int>();
        var assignment = new List<TopicPartitionOffset>(topic.Partitions.Count);
        var skipOlder = false;
        bool? looksUpByTime = null;
        if (_since is null)
        {
            // From the end: nothing before now is wanted. A topic that did not exist when reading
            // began holds only new records: read it all.
            foreach (var p in topic.Partitions)
            {
                var partition = new TopicPartition(_topic, p.PartitionId);
                var marks = _consumer.QueryWatermarkOffsets(partition, wait);
                assignment.Add(new TopicPartitionOffset(partition, _missingAtStart ? marks.Low : marks.High));
                ends[p.PartitionId] = marks.High.Value;
            }
        }
        else
        {
            var timestamp = new Timestamp(_since.Value.UtcDateTime);
            var wanted = topic.Partitions.Select(p => new TopicPartitionTimestamp(_topic, p.PartitionId, timestamp)).ToList();
            foreach (var start in _consumer.OffsetsForTimes(wanted, wait))
            {
                var marks = _consumer.QueryWatermarkOffsets(start.TopicPartition, wait);
                var low = marks.Low.Value;
                var end = marks.High.Value;
                var offset = start.Offset.Value;
                if (offset < 0 && end > low)
                {
                    // No offset for that time: on Kafka, every record is older, so start at the
                    // end. A broker that cannot look up by time (librdkafka's mock cluster)
                    // answers the same. Tell them apart by asking for the epoch, which any broker
                    // that looks up by time answers with an offset when the partition holds
                    // records; on one that cannot, read from the oldest record, skipping the older
                    // ones by their timestamp. (Guessing from the newest record's time instead
                    // needed a fetch per partition, which a busy broker did not answer in time.)
                    looksUpByTime ??= LooksUpByTime(start.TopicPartition, wait);
                    offset = looksUpByTime.Value ? end : low;
                    skipOlder |= !looksUpByTime.Value;
                }
                else if (offset < 0)
                {
                    offset = end;
                }

                assignment.Add(new TopicPartitionOffset(start.TopicPartition, offset));
                ends[start.Partition.Value] = end;
                if (offset < end)
                {
                    behind.Add(start.Partition.Value);
                }
            }
        }

        _consumer.Assign(assignment);
        foreach (var (partition, end) in ends)
        {
            _endAtStart[partition] = end;
        }

        _behind.UnionWith(behind);
        _skipOlder = skipOlder;
        _assigned = true;
        return true;
    }

    /// <summary>Whether the broker finds offsets by time: asked for the epoch, it answers with an offset for a partition that holds records.</summary>
    private bool LooksUpByTime(TopicPartition partition, TimeSpan timeout) =>
        _consumer.OffsetsForTimes([new TopicPartitionTimestamp(partition, new Timestamp(0, TimestampType.CreateTime))], timeout)[0].Offset.Value >= 0;
}
