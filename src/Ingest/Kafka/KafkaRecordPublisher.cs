using System.Globalization;
using Ingest.Encoding;
using Ingest.Pipeline;
using Ingest.Sinks.Kafka;

namespace Ingest.Kafka;

/// <summary>
/// Publishes pipeline records through <see cref="KafkaRecordSink"/> with the wire contract's
/// headers, and turns delivery reports into delivered or dropped counts. The sink's counters are
/// the one in-flight registry: every record it accepted gets exactly one report, including those
/// purged by <see cref="Flush"/> at shutdown, so nothing is decided after the final figures.
/// </summary>
internal sealed class KafkaRecordPublisher : IRecordPublisher, IDeliveryHandler, IDisposable
{
    private static readonly byte[] ContentType = System.Text.Encoding.ASCII.GetBytes(RecordEnvelope.ContentType);
    private static readonly byte[] Schema = System.Text.Encoding.ASCII.GetBytes(RecordEnvelope.SchemaVersion.ToString(CultureInfo.InvariantCulture));

    private readonly KafkaRecordSink _sink;

    public KafkaRecordPublisher(KafkaRecordSink sink)
    {
        _sink = sink;
    }

    /// <summary>Records accepted by the producer and not yet reported: the sink's own count.</summary>
    public int InFlight => (int)_sink.Counters.InFlight;

    public KafkaRecordSink Sink => _sink;

    public bool TryPublish(OutgoingRecord record)
    {
        KeyValuePair<string, byte[]>[] headers =
        [
            new("content-type", ContentType),
            new("ingest-schema", Schema),
            new("ingest-count", System.Text.Encoding.ASCII.GetBytes(record.Count.ToString(CultureInfo.InvariantCulture))),
        ];

        // Throws for a record refused for good: the record sender counts it and goes on.
        return _sink.TryProduce(record.Topic, record.Key, record.Value, headers, this, record);
    }

    public ValueTask WaitForSpaceAsync(CancellationToken cancellationToken) => _sink.WaitForSpaceAsync(cancellationToken);

    public bool HasOverdue => _sink.HasOverdue;

    public TimeSpan? UntilOverdue => _sink.UntilOverdue;

    public void Abandon() => _sink.Abandon();

    /// <summary>Waits up to <paramref name="timeout"/>, then purges: every record has its outcome when this returns.</summary>
    public int Flush(TimeSpan timeout) => _sink.FlushOrPurge(timeout);

    public void OnDelivery(object? state, DeliveryOutcome outcome)
    {
        var record = (OutgoingRecord)state!;
        if (outcome.Delivered)
        {
            record.Delivered();
        }
        else if (outcome.Purged ? record.TrySpill() : outcome.Retriable && record.TryRetry())
        {
            // The spool took it: published again later (a possibly persisted one may then appear twice).
        }
        else if (outcome.PossiblyPersisted)
        {
            // The broker may have it: not a certain loss, and not counted as one.
            record.Failed(DropReason.PossiblyDelivered);
        }
        else
        {
            record.Failed(outcome.Purged ? DropReason.Shutdown : DropReason.DeliveryFailed);
        }
    }

    public void Dispose() => _sink.Dispose();
}
