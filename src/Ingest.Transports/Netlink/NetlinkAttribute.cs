using System.Buffers.Binary;
using Ingest.Transports.Interop;

namespace Ingest.Transports.Netlink;

/// <summary>One attribute (struct nlattr and its value). Typed reads check the value's length.</summary>
public readonly ref struct NetlinkAttribute
{
    internal NetlinkAttribute(ushort rawType, ReadOnlySpan<byte> value)
    {
        RawType = rawType;
        Value = value;
    }

    /// <summary>nla_type with the NLA_F_NESTED and NLA_F_NET_BYTEORDER flags removed.</summary>
    public ushort Type => (ushort)(RawType & Sys.NLA_TYPE_MASK);

    public ushort RawType { get; }

    public bool IsNested => (RawType & Sys.NLA_F_NESTED) != 0;

    public ReadOnlySpan<byte> Value { get; }

    /// <summary>The attributes nested in this one's value.</summary>
    public NetlinkAttributeReader Nested => new(Value);

    public bool TryGetUInt8(out byte value)
    {
        value = Value.Length >= 1 ? Value[0] : default;
        return Value.Length >= 1;
    }

    public bool TryGetUInt16(out ushort value) => BinaryPrimitives.TryReadUInt16LittleEndian(Value, out value);

    public bool TryGetUInt32(out uint value) => BinaryPrimitives.TryReadUInt32LittleEndian(Value, out value);

    public bool TryGetUInt64(out ulong value) => BinaryPrimitives.TryReadUInt64LittleEndian(Value, out value);

    /// <summary>The value as a C string: up to the first NUL, or all of it when there is none.</summary>
    public ReadOnlySpan<byte> GetCString()
    {
        var end = Value.IndexOf((byte)0);
        return end < 0 ? Value : Value[..end];
    }
}
