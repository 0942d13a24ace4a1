using System.Runtime.InteropServices;
using Ingest.Transports.Ring;

namespace Ingest.Bench.Ring;

/// <summary>
/// The ceiling: the consumer's own validation walk (<see cref="RingCursor"/>) over the same ring,
/// reading every payload byte (an XOR fold kept so the reads stay) and publishing the consumer
/// position after each burst, with no encoding and no Kafka.
/// </summary>
internal sealed unsafe class RawRingReader
{
    private readonly RingMapping _mapping;
    private readonly long _count;
    private ulong _fold;

    public RawRingReader(RingMapping mapping, long count)
    {
        _mapping = mapping;
        _count = count;
    }

    public ulong Fold => _fold;

    public long Run(Ingest.Transports.Events.CounterSet counters)
    {
        var cursor = new RingCursor(_mapping, new RingCounters(counters), Volatile.Read(ref *_mapping.ConsumerPosition));
        long records = 0;
        ulong fold = 0;
        while (records < _count)
        {
            ulong limit = cursor.ReadLimit(out _);
            if (limit == cursor.Position)
            {
                _mapping.WaitForData(cursor.Position, 100);
                continue;
            }

            for (var header = cursor.Next(limit, out uint length); header is not null; header = cursor.Next(limit, out length))
            {
                var payload = new ReadOnlySpan<byte>((byte*)header + Ingest.Transports.Kingest.KingestRecordHeader.Size, (int)length - Ingest.Transports.Kingest.KingestRecordHeader.Size);
                foreach (ulong word in MemoryMarshal.Cast<byte, ulong>(payload))
                {
                    fold ^= word;
                }

                fold ^= header->Seq ^ header->TimestampNs;
                records++;
            }

            Volatile.Write(ref *_mapping.ConsumerPosition, cursor.Position);
        }

        _fold = fold;
        return records;
    }
}
