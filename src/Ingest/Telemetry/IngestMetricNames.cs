namespace Ingest.Telemetry;

/// <summary>
/// The instrument names Ingest publishes (OpenTelemetry semantic style: dotted, lower case,
/// units in the instrument's unit). docs/operations.md lists each with its tags.
/// </summary>
public static class IngestMetricNames
{
    public const string EventsReceived = "ingest.events.received";
    public const string EventsDelivered = "ingest.events.delivered";
    public const string EventsDropped = "ingest.events.dropped";
    public const string EventsInFlight = "ingest.events.in_flight";
    public const string EventsSpooled = "ingest.events.spooled";
    public const string SourceRewinds = "ingest.source.rewinds";
    public const string RecordsDelivered = "ingest.records.delivered";
    public const string BytesDelivered = "ingest.records.bytes";
    public const string TransportCounter = "ingest.transport.counter";
    public const string NetlinkOverruns = "ingest.netlink.overruns";
    public const string QueueDepth = "ingest.queue.depth";
    public const string SinkQueueDepth = "ingest.sink.queue.depth";
    public const string ProducerInFlight = "ingest.producer.in_flight";
    public const string ProducerRecords = "ingest.producer.records";
    public const string BrokerErrors = "ingest.broker.errors";
    public const string BatchEvents = "ingest.batch.events";
    public const string BatchBytes = "ingest.batch.bytes";
    public const string DeliveryLatency = "ingest.delivery.latency";
    public const string Commands = "ingest.commands";
    public const string CommandsRejectedUnverified = "ingest.commands.rejected_unverified";
    public const string CommandPathUp = "ingest.commands.path.up";
    public const string RingLag = "ingest.ring.lag";
    public const string SpoolBytes = "ingest.spool.bytes";
    public const string SpoolRecords = "ingest.spool.records";
    public const string SpoolOldestAge = "ingest.spool.oldest_age";
    public const string SpoolReplayRate = "ingest.spool.replay_rate";
    public const string SpoolFrames = "ingest.spool.frames";
    public const string SpoolReplayedBytes = "ingest.spool.replayed.bytes";
}
