using System.Buffers.Binary;
using System.Text;

namespace Ingest.Transports.Tests.Netlink;

/// <summary>Builds netlink messages byte by byte, the way the kernel lays them out (little endian).</summary>
internal sealed class NetlinkMessages
{
    private readonly List<byte> _bytes = [];

    public byte[] ToArray() => [.. _bytes];

    /// <summary>Appends a message: a 16-byte header with nlmsg_len covering the fixed part and attributes.</summary>
    public NetlinkMessages Message(ushort type, byte[] fixedPart, params byte[][] attributes)
    {
        var body = fixedPart.Concat(attributes.SelectMany(a => a)).ToArray();
        var start = _bytes.Count;
        _bytes.AddRange(U32((uint)(16 + body.Length)));
        _bytes.AddRange(U16(type));
        _bytes.AddRange(U16(0));
        _bytes.AddRange(U32(1));
        _bytes.AddRange(U32(0));
        _bytes.AddRange(body);
        while ((_bytes.Count - start) % 4 != 0)
        {
            _bytes.Add(0);
        }

        return this;
    }

    /// <summary>Appends raw bytes (a broken header, a stray tail).</summary>
    public NetlinkMessages Raw(params byte[] bytes)
    {
        _bytes.AddRange(bytes);
        return this;
    }

    /// <summary>An attribute with nla_len = 4 + value length, padded to 4 bytes.</summary>
    public static byte[] Attr(ushort type, byte[] value) => AttrWithLength(type, value, (ushort)(4 + value.Length));

    public static byte[] AttrWithLength(ushort type, byte[] value, ushort nlaLength)
    {
        var padded = (4 + value.Length + 3) & ~3;
        var bytes = new byte[padded];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, nlaLength);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2), type);
        value.CopyTo(bytes, 4);
        return bytes;
    }

    public static byte[] Nested(ushort type, params byte[][] attributes) =>
        Attr((ushort)(type | 0x8000), [.. attributes.SelectMany(a => a)]);

    public static byte[] Str(string s) => [.. Encoding.UTF8.GetBytes(s), 0];

    public static byte[] U16(ushort v)
    {
        var b = new byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(b, v);
        return b;
    }

    public static byte[] U32(uint v)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        return b;
    }

    public static byte[] U64(ulong v)
    {
        var b = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, v);
        return b;
    }

    /// <summary>struct ifinfomsg: family, pad, type, index, flags, change.</summary>
    public static byte[] IfInfo(int ifIndex, uint flags) =>
        [0, 0, .. U16(1), .. U32((uint)ifIndex), .. U32(flags), .. U32(0)];

    /// <summary>struct ifaddrmsg: family, prefixlen, flags, scope, index.</summary>
    public static byte[] IfAddr(byte family, byte prefixLength, uint ifIndex) =>
        [family, prefixLength, 0, 0, .. U32(ifIndex)];

    /// <summary>A complete RTM_NEWLINK datagram for <paramref name="name"/>.</summary>
    public static byte[] NewLink(int ifIndex, string name) =>
        new NetlinkMessages().Message(16, IfInfo(ifIndex, 1), Attr(3, Str(name)), Attr(4, U32(1500))).ToArray();
}
