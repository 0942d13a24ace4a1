using System.Buffers.Binary;

namespace Ingest.Encoding.MessagePack;

// PROVISIONAL: replaced by the codec branch's implementation at merge.
public static class MessagePackPrimitives
{
    public const int MaxHeaderLength = 9;

    public static int WriteNil(Span<byte> destination)
    {
        destination[0] = 0xc0;
        return 1;
    }

    public static int WriteBoolean(Span<byte> destination, bool value)
    {
        destination[0] = value ? (byte)0xc3 : (byte)0xc2;
        return 1;
    }

    public static int WriteInt64(Span<byte> destination, long value)
    {
        if (value >= 0)
        {
            return WriteUInt64(destination, (ulong)value);
        }

        if (value >= -32)
        {
            destination[0] = (byte)(sbyte)value;
            return 1;
        }

        if (value >= sbyte.MinValue)
        {
            destination[0] = 0xd0;
            destination[1] = (byte)(sbyte)value;
            return 2;
        }

        if (value >= short.MinValue)
        {
            destination[0] = 0xd1;
            BinaryPrimitives.WriteInt16BigEndian(destination[1..], (short)value);
            return 3;
        }

        if (value >= int.MinValue)
        {
            destination[0] = 0xd2;
            BinaryPrimitives.WriteInt32BigEndian(destination[1..], (int)value);
            return 5;
        }

        destination[0] = 0xd3;
        BinaryPrimitives.WriteInt64BigEndian(destination[1..], value);
        return 9;
    }

    public static int WriteUInt64(Span<byte> destination, ulong value)
    {
        if (value <= 0x7f)
        {
            destination[0] = (byte)value;
            return 1;
        }

        if (value <= byte.MaxValue)
        {
            destination[0] = 0xcc;
            destination[1] = (byte)value;
            return 2;
        }

        if (value <= ushort.MaxValue)
        {
            destination[0] = 0xcd;
            BinaryPrimitives.WriteUInt16BigEndian(destination[1..], (ushort)value);
            return 3;
        }

        if (value <= uint.MaxValue)
        {
            destination[0] = 0xce;
            BinaryPrimitives.WriteUInt32BigEndian(destination[1..], (uint)value);
            return 5;
        }

        destination[0] = 0xcf;
        BinaryPrimitives.WriteUInt64BigEndian(destination[1..], value);
        return 9;
    }

    public static int WriteDouble(Span<byte> destination, double value)
    {
        destination[0] = 0xcb;
        BinaryPrimitives.WriteDoubleBigEndian(destination[1..], value);
        return 9;
    }

    public static int WriteStringHeader(Span<byte> destination, int byteLength)
    {
        if (byteLength <= 31)
        {
            destination[0] = (byte)(0xa0 | byteLength);
            return 1;
        }

        if (byteLength <= byte.MaxValue)
        {
            destination[0] = 0xd9;
            destination[1] = (byte)byteLength;
            return 2;
        }

        if (byteLength <= ushort.MaxValue)
        {
            destination[0] = 0xda;
            BinaryPrimitives.WriteUInt16BigEndian(destination[1..], (ushort)byteLength);
            return 3;
        }

        destination[0] = 0xdb;
        BinaryPrimitives.WriteUInt32BigEndian(destination[1..], (uint)byteLength);
        return 5;
    }

    public static int WriteBinaryHeader(Span<byte> destination, int length)
    {
        if (length <= byte.MaxValue)
        {
            destination[0] = 0xc4;
            destination[1] = (byte)length;
            return 2;
        }

        if (length <= ushort.MaxValue)
        {
            destination[0] = 0xc5;
            BinaryPrimitives.WriteUInt16BigEndian(destination[1..], (ushort)length);
            return 3;
        }

        destination[0] = 0xc6;
        BinaryPrimitives.WriteUInt32BigEndian(destination[1..], (uint)length);
        return 5;
    }

    public static int WriteArrayHeader(Span<byte> destination, int count)
    {
        if (count <= 15)
        {
            destination[0] = (byte)(0x90 | count);
            return 1;
        }

        if (count <= ushort.MaxValue)
        {
            destination[0] = 0xdc;
            BinaryPrimitives.WriteUInt16BigEndian(destination[1..], (ushort)count);
            return 3;
        }

        return WriteArray32Header(destination, count);
    }

    public static int WriteArray32Header(Span<byte> destination, int count)
    {
        destination[0] = 0xdd;
        BinaryPrimitives.WriteUInt32BigEndian(destination[1..], (uint)count);
        return 5;
    }

    public static int WriteMapHeader(Span<byte> destination, int count)
    {
        if (count <= 15)
        {
            destination[0] = (byte)(0x80 | count);
            return 1;
        }

        if (count <= ushort.MaxValue)
        {
            destination[0] = 0xde;
            BinaryPrimitives.WriteUInt16BigEndian(destination[1..], (ushort)count);
            return 3;
        }

        destination[0] = 0xdf;
        BinaryPrimitives.WriteUInt32BigEndian(destination[1..], (uint)count);
        return 5;
    }
}
