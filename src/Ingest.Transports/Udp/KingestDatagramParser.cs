using Ingest.Transports.Events;
using Ingest.Transports.Kingest;

namespace Ingest.Transports.Udp;

/// <summary>
/// Decodes the kingest module's UDP datagrams: a struct kingest_record header (channel UDP, the
/// UDP channel's sequence number) followed by the payload, datagram length == len, no padding.
/// Writes the same typed events as the ring (<see cref="KingestRecordWriter"/>), stamped with the
/// record's production time. Counters: <c>malformed</c> (short, length mismatch, wrong channel,
/// bad payload), <c>unknown_type</c>, and <c>sequence_gap</c>: events the module numbered but
/// that never arrived (its queue overflowed, or the network lost them).
/// </summary>
public sealed class KingestDatagramParser
{
    private readonly Counter _malformed;
    private readonly Counter _unknownType;
    private readonly Counter _sequenceGap;
    private ulong _lastSeq;

    public KingestDatagramParser(CounterSet counters)
    {
        ArgumentNullException.ThrowIfNull(counters);
        _malformed = counters["malformed"];
        _unknownType = counters["unknown_type"];
        _sequenceGap = counters["sequence_gap"];
    }

    /// <summary>Writes the datagram's event; false (counted) when it is not a valid kingest datagram.</summary>
    public bool Write(EventWriter writer, ReadOnlySpan<byte> datagram)
    {
        if (datagram.Length < KingestRecordHeader.Size)
        {
            _malformed.Increment();
            return false;
        }

        var header = KingestRecordWriter.ReadHeader(datagram);
        if (header.Length != (uint)datagram.Length || header.Length > KingestRecordHeader.MaxRecord
            || header.Channel != (byte)KingestChannel.Udp || header.Type == (ushort)KingestEventType.Pad)
        {
            _malformed.Increment();
            return false;
        }

        ObserveSequence(header.Seq);
        switch (KingestRecordWriter.Write(writer, header, datagram[KingestRecordHeader.Size..]))
        {
            case KingestRecordOutcome.Written:
                return true;
            case KingestRecordOutcome.UnknownType:
                _unknownType.Increment();
                return false;
            default:
                _malformed.Increment();
                return false;
        }
    }

    private void ObserveSequence(ulong seq)
    {
        // Sequence numbers start at 1 per module load; a step back is a reload (or reordering): restart.
        if (_lastSeq != 0 && seq > _lastSeq + 1)
        {
            _sequenceGap.Add((long)(seq - _lastSeq - 1));
        }

        if (seq > _lastSeq || seq + 1 < _lastSeq)
        {
            _lastSeq = seq;
        }
    }
}
