namespace Ingest.Sinks.Kafka;

/// <summary>Receives the final outcome of one record passed to <see cref="KafkaRecordSink.TryProduce"/>.</summary>
public interface IDeliveryHandler
{
    /// <summary>
    /// Called exactly once per accepted record, on librdkafka's delivery-report thread: keep it
    /// cheap and non-blocking. Exceptions are caught and counted as <c>handler_errors</c>.
    /// </summary>
    void OnDelivery(object? state, DeliveryOutcome outcome);
}
