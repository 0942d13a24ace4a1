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
}
