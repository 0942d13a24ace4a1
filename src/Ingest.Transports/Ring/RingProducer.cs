using System.Runtime.CompilerServices;
using Ingest.Transports.Kingest;

namespace Ingest.Transports.Ring;

/// <summary>
/// A user-space producer of a <see cref="MemoryRing"/> that follows the module's rules exactly:
/// 8-byte aligned records that never wrap (a pad record fills the end of the data area), the full
/// check against consumer_pos read with acquire, the newest record dropped and counted when full
/// (its sequence number still taken), producer_pos published with release, then the doorbell.
/// One thread writes; records become visible at <see cref="Publish"/>.
/// </summary>
internal sealed unsafe class RingProducer
{
    private readonly MemoryRing _ring;
    private readonly byte* _data;
    private readonly ulong _mask;
    private ulong _position;
    private ulong _seq;

    public RingProducer(MemoryRing ring)
    {
        _ring = ring;
        _data = ring.Data;
        _mask = ring.DataSize - 1;
        _position = ring.ProducerPosition;
    }

    /// <summary>The position after the last record written, published or not.</summary>
    public ulong Position => _position;

    /// <summary>The sequence number the next record takes (the ring channel's, from 1).</summary>
    public ulong NextSeq => _seq + 1;

    /// <summary>Writes one record; false when the ring is full (dropped and counted, as the module does).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryWrite(KingestEventType type, ReadOnlySpan<byte> payload, ulong timestampNs) =>
        TryWrite((ushort)type, payload, timestampNs, (uint)(KingestRecordHeader.Size + payload.Length), (byte)KingestChannel.Ring, 0);

    /// <summary>
    /// Writes a record whose header says what the caller wants (a corrupt length, channel, flags or
    /// type: tests of the consumer's validation) while the producer itself advances by the real size.
    /// </summary>
    public bool TryWrite(ushort type, ReadOnlySpan<byte> payload, ulong timestampNs, uint headerLength, byte channel, byte flags)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(payload.Length, KingestAbi.MaxPayload);
        ulong seq = ++_seq;
        ulong size = KingestRecordHeader.AlignUp((ulong)(KingestRecordHeader.Size + payload.Length));
        if (!Fits(size, out ulong pad))
        {
            Interlocked.Increment(ref _ring.Producer->Dropped);
            return false;
        }

        ulong offset = _position & _mask;
        if (pad != 0)
        {
            var padHeader = (KingestRecordHeader*)(_data + offset);
            padHeader->Length = (uint)pad;
            padHeader->Type = (ushort)KingestEventType.Pad;
            _position += pad;
            offset = 0;
        }

        var header = (KingestRecordHeader*)(_data + offset);
        header->Length = headerLength;
        header->Type = type;
        header->Channel = channel;
        header->Flags = flags;
        header->Seq = seq;
        header->TimestampNs = timestampNs;
        payload.CopyTo(new Span<byte>(_data + offset + KingestRecordHeader.Size, payload.Length));
        _position += size;
        return true;
    }

    /// <summary>Whether a record with this payload would fit now (callers that must not drop wait for it).</summary>
    public bool HasRoom(int payloadLength) =>
        Fits(KingestRecordHeader.AlignUp((ulong)(KingestRecordHeader.Size + payloadLength)), out _);

    /// <summary>Makes every record written so far visible (release) and rings the doorbell.</summary>
    public void Publish()
    {
        Volatile.Write(ref _ring.Producer->ProducerPos, _position);
        _ring.RingDoorbell();
    }

    private bool Fits(ulong size, out ulong pad)
    {
        ulong rest = _ring.DataSize - (_position & _mask);
        pad = size > rest ? rest : 0;
        ulong consumer = Volatile.Read(ref *_ring.ConsumerPosition);
        return _position + pad + size - consumer <= _ring.DataSize;
    }
}
