using System.Runtime.CompilerServices;
using Ingest.Transports.Kingest;

namespace Ingest.Transports.Ring;

/// <summary>
/// Walks the records of a ring in place, from a read position up to a published producer
/// position, validating every header and never touching a byte outside the data area. Pad
/// records, torn and invalid headers are skipped and counted; after a header that cannot be
/// trusted the cursor resynchronises on the next plausible header (aligned, ring channel, known
/// type, a length that fits, a sequence number after the last good one).
/// </summary>
internal sealed unsafe class RingCursor
{
    private const byte KnownFlags = KingestAbi.RecordFlagTruncated;

    private readonly byte* _data;
    private readonly ulong _size;
    private readonly ulong _mask;
    private readonly KingestRingProducer* _producer;
    private readonly RingCounters _counters;
    private ulong _lastSeq;

    public RingCursor(RingMapping mapping, RingCounters counters, ulong start)
    {
        _data = mapping.Data;
        _size = mapping.DataSize;
        _mask = _size - 1;
        _producer = mapping.Producer;
        _counters = counters;
        ulong producer = Volatile.Read(ref _producer->ProducerPos);
        Position = start;
        if ((start & (KingestRecordHeader.Align - 1)) != 0 || start > producer || producer - start > _size)
        {
            // A corrupt published position: re-read from what may still be in the ring (duplicates
            // rather than loss) and find the first plausible header from there.
            _counters.InvalidPosition.Increment();
            ulong clamped = start > producer || producer - start > _size ? producer - Math.Min(producer, _size) : start;
            ulong aligned = Math.Min(KingestRecordHeader.AlignUp(clamped), producer);
            Position = aligned;
            ResyncAt(aligned, producer, aligned);
        }
    }

    /// <summary>The position after the last record returned or skipped.</summary>
    public ulong Position { get; private set; }

    /// <summary>
    /// producer_pos, read with acquire (it orders the record reads after it). When it is out of
    /// range (behind the cursor, or more than the ring ahead) it is counted, <paramref name="valid"/>
    /// is false and <see cref="Position"/> is returned: nothing is read until it is sane again.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong ReadLimit(out bool valid)
    {
        ulong limit = Volatile.Read(ref _producer->ProducerPos);
        valid = limit - Position <= _size;
        if (!valid)
        {
            _counters.InvalidPosition.Increment();
            return Position;
        }

        return limit;
    }

    /// <summary>
    /// The next valid record before <paramref name="limit"/>, or null at the end.
    /// <paramref name="length"/> is its validated length: use it, not a second read of the header.
    /// </summary>
    public KingestRecordHeader* Next(ulong limit, out uint length)
    {
        while (Position < limit)
        {
            ulong offset = Position & _mask;
            ulong rest = _size - offset;
            ulong available = limit - Position;
            var header = (KingestRecordHeader*)(_data + offset);
            length = header->Length;
            if (header->Type == (ushort)KingestEventType.Pad)
            {
                if (rest > available)
                {
                    _counters.Torn.Increment();
                    Resync(Position, limit);
                    continue;
                }

                if (length != rest)
                {
                    // Still a pad: the rule is "skip to the next wrap", whatever its length says.
                    _counters.Invalid.Increment();
                }

                _counters.Pads.Increment();
                Position += rest;
                continue;
            }

            ulong size = KingestRecordHeader.AlignUp(length);
            if (rest < KingestRecordHeader.Size || length < KingestRecordHeader.Size || length > KingestRecordHeader.MaxRecord
                || size > rest || header->Channel != (byte)KingestChannel.Ring || (header->Flags & ~KnownFlags) != 0)
            {
                _counters.Invalid.Increment();
                Resync(Position, limit);
                continue;
            }

            if (size > available)
            {
                _counters.Torn.Increment();
                Resync(Position, limit);
                continue;
            }

            _counters.Records.Increment();
            _lastSeq = header->Seq;
            Position += size;
            return header;
        }

        length = 0;
        return null;
    }

    /// <summary>Moves past an untrustworthy header at <paramref name="from"/> to the next plausible one, or to the limit.</summary>
    private void Resync(ulong from, ulong limit) => ResyncAt(from + KingestRecordHeader.Align, limit, from);

    private void ResyncAt(ulong q, ulong limit, ulong from)
    {
        while (q < limit && !Plausible(q, limit))
        {
            q += KingestRecordHeader.Align;
        }

        q = Math.Min(q, limit);
        _counters.ResyncBytes.Add((long)(q - from));
        Position = q;
    }

    private bool Plausible(ulong position, ulong limit)
    {
        ulong offset = position & _mask;
        ulong rest = _size - offset;
        ulong available = limit - position;
        var header = (KingestRecordHeader*)(_data + offset);
        if (header->Type == (ushort)KingestEventType.Pad)
        {
            return header->Length == rest && rest <= available;
        }

        if (rest < KingestRecordHeader.Size || available < KingestRecordHeader.Size)
        {
            return false;
        }

        uint length = header->Length;
        ulong size = KingestRecordHeader.AlignUp(length);
        return length >= KingestRecordHeader.Size && length <= KingestRecordHeader.MaxRecord && size <= rest && size <= available
            && header->Channel == (byte)KingestChannel.Ring && (header->Flags & ~KnownFlags) == 0
            && header->Type is >= (ushort)KingestEventType.Sensor and <= (ushort)KingestEventType.Inject
            && header->Seq > _lastSeq;
    }
}
