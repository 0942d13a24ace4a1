namespace Ingest.Sinks.Kafka;

/// <summary>One record read back from Kafka by <see cref="KafkaTopicReader"/>.</summary>
public sealed record KafkaRecord(
    string Topic,
    int Partition,
    long Offset,
    byte[]? Key,
    byte[] Value,
    IReadOnlyList<KeyValuePair<string, byte[]>> Headers,
    DateTimeOffset Timestamp);
