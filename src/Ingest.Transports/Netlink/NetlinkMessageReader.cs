using System.Buffers.Binary;

namespace Ingest.Transports.Netlink;

/// <summary>
/// Walks the netlink messages of one datagram. A header that is too short or whose nlmsg_len
/// runs past the datagram makes the rest of it unreadable (there is no other way to find the
/// next message): the reader stops and reports it through <see cref="IsMalformed"/>; the
/// messages read before it stay valid.
/// </summary>
public ref struct NetlinkMessageReader
{
    public const int HeaderSize = 16;

    private ReadOnlySpan<byte> _remaining;

    public NetlinkMessageReader(ReadOnlySpan<byte> datagram)
    {
        _remaining = datagram;
    }

    /// <summary>True once the reader met a header it could not trust; nothing more is read.</summary>
    public bool IsMalformed { get; private set; }

    public bool TryRead(out NetlinkMessage message)
    {
        message = default;
        if (_remaining.IsEmpty || IsMalformed)
        {
            return false;
        }

        if (_remaining.Length < HeaderSize)
        {
            return Fail();
        }

        var length = BinaryPrimitives.ReadUInt32LittleEndian(_remaining);
        if (length < HeaderSize || length > (uint)_remaining.Length)
        {
            return Fail();
        }

        message = new NetlinkMessage(
            type: BinaryPrimitives.ReadUInt16LittleEndian(_remaining[4..]),
            flags: BinaryPrimitives.ReadUInt16LittleEndian(_remaining[6..]),
            sequence: BinaryPrimitives.ReadUInt32LittleEndian(_remaining[8..]),
            portId: BinaryPrimitives.ReadUInt32LittleEndian(_remaining[12..]),
            payload: _remaining[HeaderSize..(int)length]);

        // The last message may omit its alignment padding.
        var next = NetlinkAttributeReader.Align((int)length);
        _remaining = next >= _remaining.Length ? default : _remaining[next..];
        return true;
    }

    private bool Fail()
    {
        IsMalformed = true;
        _remaining = default;
        return false;
    }
}
