using System.Buffers.Binary;
using Ingest.Transports.Interop;

namespace Ingest.Transports.Netlink;

/// <summary>
/// Walks a run of netlink attributes (a message's attribute area or a nested attribute's value).
/// An nla_len below the 4-byte header or past the end stops the walk and sets
/// <see cref="IsMalformed"/>; callers then drop the whole message and count it.
/// </summary>
public ref struct NetlinkAttributeReader
{
    public const int HeaderSize = 4;

    private ReadOnlySpan<byte> _remaining;

    public NetlinkAttributeReader(ReadOnlySpan<byte> attributes)
    {
        _remaining = attributes;
    }

    public bool IsMalformed { get; private set; }

    public bool TryRead(out NetlinkAttribute attribute)
    {
        attribute = default;
        if (_remaining.IsEmpty || IsMalformed)
        {
            return false;
        }

        if (_remaining.Length < HeaderSize)
        {
            return Fail();
        }

        var length = BinaryPrimitives.ReadUInt16LittleEndian(_remaining);
        if (length < HeaderSize || length > _remaining.Length)
        {
            return Fail();
        }

        attribute = new NetlinkAttribute(BinaryPrimitives.ReadUInt16LittleEndian(_remaining[2..]), _remaining[HeaderSize..length]);
        var next = Align(length);
        _remaining = next >= _remaining.Length ? default : _remaining[next..];
        return true;
    }

    /// <summary>
    /// Reads every attribute that follows and reports whether the run is well formed, nested
    /// attributes (NLA_F_NESTED) included, to <paramref name="maxDepth"/> levels.
    /// </summary>
    public static bool Validate(ReadOnlySpan<byte> attributes, int maxDepth = 8)
    {
        var reader = new NetlinkAttributeReader(attributes);
        while (reader.TryRead(out var attribute))
        {
            if (attribute.IsNested && (maxDepth == 0 || !Validate(attribute.Value, maxDepth - 1)))
            {
                return false;
            }
        }

        return !reader.IsMalformed;
    }

    internal static int Align(int length) => Sys.NetlinkAlign(length);

    private bool Fail()
    {
        IsMalformed = true;
        _remaining = default;
        return false;
    }
}
