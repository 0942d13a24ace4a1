using System.Collections.Concurrent;
using System.Globalization;
using Ingest.Encoding;
using Ingest.Pipeline;
using Ingest.Sinks.Kafka;

namespace Ingest.Kafka;

/// <summary>
/// Publishes pipeline records through <see cref="KafkaRecordSink"/> with the wire contract's
/// headers, and turns delivery reports into delivered or dropped counts. Records never
/// acknowledged by the time the publisher closes are counted as dropped (shutdown).
/// </summary>
internal sealed class KafkaRecordPublisher : IRecordPublisher, IDeliveryHandler, IDisposable
{
    private static readonly byte[] ContentType = System.Text.Encoding.ASCII.GetBytes(RecordEnvelope.ContentType);
    private static readonly byte[] Schema = System.Text.Encoding.ASCII.GetBytes(RecordEnvelope.SchemaVersion.ToString(CultureInfo.InvariantCulture));

    private readonly KafkaRecordSink _sink;
    private readonly ConcurrentDictionary<OutgoingRecord, byte> _inFlight = new(ReferenceEqualityComparer.Instance);

    public KafkaRecordPublisher(KafkaRecordSink sink)
    {
        _sink = sink;
    }

    public int InFlight => _inFlight.Count;

    public KafkaRecordSink Sink => _sink;

    public bool TryPublish(OutgoingRecord record)
    {
        KeyValuePair<string, byte[]>[] headers =
        [
            new("content-type", ContentType),
            new("ingest-schema", Schema),
            new("ingest-count", System.Text.Encoding.ASCII.GetBytes(record.Count.ToString(CultureInfo.InvariantCulture))),
        ];
        _inFlight[record] = 0;
        try
        {
            if (_sink.TryProduce(record.Topic, record.Key, record.Value, headers, this, record))
            {
                return true;
            }
        }
        catch
        {
            // Refused for good: the record sender counts it and goes on.
            _inFlight.TryRemove(record, out _);
            throw;
        }

        _inFlight.TryRemove(record, out _);
        return false;
    }

    public ValueTask WaitForSpaceAsync(CancellationToken cancellationToken) => _sink.WaitForSpaceAsync(cancellationToken);

    public int Flush(TimeSpan timeout)
    {
        _sink.Flush(timeout);
        var remaining = 0;
        foreach (var record in _inFlight.Keys)
        {
            if (_inFlight.TryRemove(record, out _))
            {
                // With the spool on, an unacknowledged record is kept for the next start instead.
                if (!record.TrySpill())
                {
                    record.Failed(DropReason.Shutdown);
                    remaining++;
                }
            }
        }

        return remaining;
    }

    public void OnDelivery(object? state, DeliveryOutcome outcome)
    {
        var record = (OutgoingRecord)state!;
        _inFlight.TryRemove(record, out _);
        if (outcome.Delivered)
        {
            record.Delivered();
        }
        else if (!outcome.Retriable || !record.TryRetry())
        {
            record.Failed(DropReason.DeliveryFailed);
        }
    }

    public void Dispose() => _sink.Dispose();
}
