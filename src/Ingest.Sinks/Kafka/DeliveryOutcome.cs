namespace Ingest.Sinks.Kafka;

/// <summary>What happened to one record.</summary>
/// <param name="Delivered">True when the broker acknowledged the record (acks=all by default).</param>
/// <param name="Error">librdkafka's error code and reason when not delivered; otherwise null.</param>
/// <param name="Partition">Partition written to, or -1 when none was assigned.</param>
/// <param name="Offset">Offset in the partition, or -1 when not delivered.</param>
/// <param name="Latency">Time from enqueue to delivery report.</param>
/// <param name="PossiblyPersisted">
/// Not acknowledged, but a produce request carrying it may have reached the broker (librdkafka's
/// PersistenceStatus.PossiblyPersisted: a timeout, or a purge, while the request was in flight).
/// </param>
/// <param name="Purged">Failed because the sink purged it at close (<see cref="KafkaRecordSink.FlushOrPurge"/>), not by the broker.</param>
public readonly record struct DeliveryOutcome(bool Delivered, string? Error, int Partition, long Offset, TimeSpan Latency, bool PossiblyPersisted = false, bool Purged = false)
{
    /// <summary>
    /// True when the failure may pass with time (message timeout, broker or network down): sending
    /// the same record again later can succeed. False for a record the cluster will never take.
    /// </summary>
    public bool Retriable { get; init; }
}
