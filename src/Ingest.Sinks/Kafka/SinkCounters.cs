namespace Ingest.Sinks.Kafka;

/// <summary>
/// Live counters of a <see cref="KafkaRecordSink"/>. Every record accepted by TryProduce ends as
/// exactly one of delivered, failed or abandoned; in_flight is accepted minus those.
/// </summary>
public sealed class SinkCounters
{
    private long _produced;
    private long _delivered;
    private long _failed;
    private long _queueFull;
    private long _brokerErrors;
    private long _inFlight;
    private long _handlerErrors;
    private long _abandoned;
    private long _abandons;

    /// <summary>Records accepted into librdkafka's queue.</summary>
    public long Produced => Volatile.Read(ref _produced);

    /// <summary>Records the broker acknowledged.</summary>
    public long Delivered => Volatile.Read(ref _delivered);

    /// <summary>Records reported failed (message.timeout.ms exceeded, fatal or permanent errors).</summary>
    public long Failed => Volatile.Read(ref _failed);

    /// <summary>TryProduce calls refused because the local queue was full (records not accepted).</summary>
    public long QueueFull => Volatile.Read(ref _queueFull);

    /// <summary>Errors raised by librdkafka's error callback (connection loss, all brokers down, ...).</summary>
    public long BrokerErrors => Volatile.Read(ref _brokerErrors);

    /// <summary>Records accepted and not yet reported.</summary>
    public long InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Exceptions thrown by <see cref="IDeliveryHandler.OnDelivery"/>.</summary>
    public long HandlerErrors => Volatile.Read(ref _handlerErrors);

    /// <summary>Records still in flight when the sink was disposed (no report will come).</summary>
    public long Abandoned => Volatile.Read(ref _abandoned);

    /// <summary>Times every unacknowledged record was ended at once (<see cref="KafkaRecordSink.Abandon"/>: a delivery timeout, a backlog starting).</summary>
    public long Abandons => Volatile.Read(ref _abandons);

    /// <summary>A consistent-enough copy under the counters' snake_case names, for telemetry.</summary>
    public KeyValuePair<string, long>[] Snapshot() =>
    [
        new("produced", Produced),
        new("delivered", Delivered),
        new("failed", Failed),
        new("queue_full", QueueFull),
        new("broker_errors", BrokerErrors),
        new("in_flight", InFlight),
        new("handler_errors", HandlerErrors),
        new("abandoned", Abandoned),
        new("abandons", Abandons),
    ];

    /// <inheritdoc />
    public override string ToString() =>
        $"produced={Produced} delivered={Delivered} failed={Failed} queue_full={QueueFull} " +
        $"broker_errors={BrokerErrors} in_flight={InFlight} handler_errors={HandlerErrors} abandoned={Abandoned} abandons={Abandons}";

    internal void OnAccepted()
    {
        Interlocked.Increment(ref _inFlight);
        Interlocked.Increment(ref _produced);
    }

    internal void OnRejected(bool queueFull)
    {
        Interlocked.Decrement(ref _produced);
        Interlocked.Decrement(ref _inFlight);
        if (queueFull)
        {
            Interlocked.Increment(ref _queueFull);
        }
    }

    internal void OnReported(bool delivered)
    {
        if (delivered)
        {
            Interlocked.Increment(ref _delivered);
        }
        else
        {
            Interlocked.Increment(ref _failed);
        }

        Interlocked.Decrement(ref _inFlight);
    }

    internal void OnBrokerError() => Interlocked.Increment(ref _brokerErrors);

    internal void OnHandlerError() => Interlocked.Increment(ref _handlerErrors);

    internal void OnAbandon() => Interlocked.Increment(ref _abandons);

    internal void OnAbandoned(long count)
    {
        Interlocked.Add(ref _abandoned, count);
        Interlocked.Add(ref _inFlight, -count);
    }
}
