namespace Ingest.Sinks.Kafka;

/// <summary>Connection and tuning for <see cref="KafkaRecordSink"/>.</summary>
public sealed class KafkaProducerOptions
{
    /// <summary>librdkafka <c>bootstrap.servers</c>: comma-separated host:port list.</summary>
    public required string BootstrapServers { get; init; }

    /// <summary>
    /// Any librdkafka (or Confluent <c>dotnet.*</c>) property, passed through verbatim; these
    /// override the sink's defaults.
    /// </summary>
    public IReadOnlyDictionary<string, string> Properties { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// How long <see cref="KafkaRecordSink.Dispose"/> waits for in-flight records; records still
    /// in flight afterwards are counted as <c>abandoned</c>.
    /// </summary>
    public TimeSpan CloseTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// When true, librdkafka never times a record out on its own (its <c>message.timeout.ms</c> is
    /// set to 0, infinite) and the owner enforces the configured timeout instead: it asks
    /// <see cref="KafkaRecordSink.HasOverdue"/> and then ends every unacknowledged record at once
    /// with <see cref="KafkaRecordSink.Abandon"/>. librdkafka's own timeouts can fail a record
    /// while later records of the same partition are still delivered (INTRODUCTION.md, "Message
    /// timeout considerations"); ending all of them together leaves no acknowledged record behind
    /// one that failed, so a caller that sends the failures again in order keeps the order.
    /// </summary>
    public bool OrderedTimeouts { get; init; }
}
