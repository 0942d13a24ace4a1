using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Ingest.Encoding.MessagePack;

/// <summary>
/// Span-level MessagePack encoders. Each method writes one header or scalar at the start of
/// <c>destination</c> and returns the number of bytes written. The caller guarantees room:
/// <see cref="MaxHeaderLength"/> bytes cover every header and scalar (<see cref="MaxTimestampLength"/>
/// covers a whole timestamp). Integers and headers always take their smallest encoding.
/// </summary>
/// <remarks>
/// These are the hot-path building blocks: no allocation, no state, no exceptions except
/// <see cref="ArgumentOutOfRangeException"/> for a negative length or count and the span's own
/// bounds check when the caller breaks the room guarantee.
/// </remarks>
public static class MessagePackPrimitives
{
    /// <summary>The longest header or scalar: a one-byte code and an 8-byte payload.</summary>
    public const int MaxHeaderLength = 9;

    /// <summary>The longest timestamp extension (timestamp 96: ext8 header and 12 bytes of data).</summary>
    public const int MaxTimestampLength = 15;

    public static int WriteNil(Span<byte> destination)
    {
        destination[0] = MessagePackCode.Nil;
        return 1;
    }

    public static int WriteBoolean(Span<byte> destination, bool value)
    {
        destination[0] = value ? MessagePackCode.True : MessagePackCode.False;
        return 1;
    }

    /// <summary>Writes the smallest encoding of <paramref name="value"/>; non-negative values use the uint forms.</summary>
    public static int WriteInt64(Span<byte> destination, long value)
    {
        if (value >= 0)
        {
            return WriteUInt64(destination, (ulong)value);
        }

        if (value >= -32)
        {
            destination[0] = unchecked((byte)value);
            return 1;
        }

        if (value >= sbyte.MinValue)
        {
            destination[1] = unchecked((byte)value);
            destination[0] = MessagePackCode.Int8;
            return 2;
        }

        if (value >= short.MinValue)
        {
            BinaryPrimitives.WriteInt16BigEndian(destination.Slice(1, 2), (short)value);
            destination[0] = MessagePackCode.Int16;
            return 3;
        }

        if (value >= int.MinValue)
        {
            BinaryPrimitives.WriteInt32BigEndian(destination.Slice(1, 4), (int)value);
            destination[0] = MessagePackCode.Int32;
            return 5;
        }

        BinaryPrimitives.WriteInt64BigEndian(destination.Slice(1, 8), value);
        destination[0] = MessagePackCode.Int64;
        return 9;
    }

    /// <summary>Writes the smallest encoding of <paramref name="value"/>.</summary>
    public static int WriteUInt64(Span<byte> destination, ulong value)
    {
        if (value <= MessagePackCode.MaxPositiveFixInt)
        {
            destination[0] = (byte)value;
            return 1;
        }

        if (value <= byte.MaxValue)
        {
            destination[1] = (byte)value;
            destination[0] = MessagePackCode.UInt8;
            return 2;
        }

        if (value <= ushort.MaxValue)
        {
            BinaryPrimitives.WriteUInt16BigEndian(destination.Slice(1, 2), (ushort)value);
            destination[0] = MessagePackCode.UInt16;
            return 3;
        }

        if (value <= uint.MaxValue)
        {
            BinaryPrimitives.WriteUInt32BigEndian(destination.Slice(1, 4), (uint)value);
            destination[0] = MessagePackCode.UInt32;
            return 5;
        }

        BinaryPrimitives.WriteUInt64BigEndian(destination.Slice(1, 8), value);
        destination[0] = MessagePackCode.UInt64;
        return 9;
    }

    /// <summary>Writes <paramref name="value"/> as float 64 (never narrowed, so it round-trips exactly).</summary>
    public static int WriteDouble(Span<byte> destination, double value)
    {
        BinaryPrimitives.WriteDoubleBigEndian(destination.Slice(1, 8), value);
        destination[0] = MessagePackCode.Float64;
        return 9;
    }

    /// <summary>Writes <paramref name="value"/> as float 32.</summary>
    public static int WriteSingle(Span<byte> destination, float value)
    {
        BinaryPrimitives.WriteSingleBigEndian(destination.Slice(1, 4), value);
        destination[0] = MessagePackCode.Float32;
        return 5;
    }

    /// <summary>Writes a fixstr, str 8, str 16 or str 32 header for <paramref name="byteLength"/> UTF-8 bytes.</summary>
    public static int WriteStringHeader(Span<byte> destination, int byteLength)
    {
        ThrowIfNegative(byteLength);
        if (byteLength <= MessagePackCode.MaxFixStr - MessagePackCode.MinFixStr)
        {
            destination[0] = (byte)(MessagePackCode.MinFixStr | byteLength);
            return 1;
        }

        if (byteLength <= byte.MaxValue)
        {
            destination[1] = (byte)byteLength;
            destination[0] = MessagePackCode.Str8;
            return 2;
        }

        return WriteLength16Or32(destination, byteLength, MessagePackCode.Str16, MessagePackCode.Str32);
    }

    /// <summary>Writes a bin 8, bin 16 or bin 32 header for <paramref name="length"/> bytes.</summary>
    public static int WriteBinaryHeader(Span<byte> destination, int length)
    {
        ThrowIfNegative(length);
        if (length <= byte.MaxValue)
        {
            destination[1] = (byte)length;
            destination[0] = MessagePackCode.Bin8;
            return 2;
        }

        return WriteLength16Or32(destination, length, MessagePackCode.Bin16, MessagePackCode.Bin32);
    }

    /// <summary>Writes a fixarray, array 16 or array 32 header for <paramref name="count"/> elements.</summary>
    public static int WriteArrayHeader(Span<byte> destination, int count)
    {
        ThrowIfNegative(count);
        if (count <= MessagePackCode.MaxFixArray - MessagePackCode.MinFixArray)
        {
            destination[0] = (byte)(MessagePackCode.MinFixArray | count);
            return 1;
        }

        return WriteLength16Or32(destination, count, MessagePackCode.Array16, MessagePackCode.Array32);
    }

    /// <summary>Writes a fixmap, map 16 or map 32 header for <paramref name="count"/> key/value pairs.</summary>
    public static int WriteMapHeader(Span<byte> destination, int count)
    {
        ThrowIfNegative(count);
        if (count <= MessagePackCode.MaxFixMap - MessagePackCode.MinFixMap)
        {
            destination[0] = (byte)(MessagePackCode.MinFixMap | count);
            return 1;
        }

        return WriteLength16Or32(destination, count, MessagePackCode.Map16, MessagePackCode.Map32);
    }

    /// <summary>
    /// Writes the header of an extension of <paramref name="type"/> carrying <paramref name="length"/>
    /// data bytes: fixext 1/2/4/8/16 when the length matches one, else ext 8/16/32. The data follows.
    /// </summary>
    public static int WriteExtensionHeader(Span<byte> destination, sbyte type, int length)
    {
        ThrowIfNegative(length);
        byte fixCode = length switch
        {
            1 => MessagePackCode.FixExt1,
            2 => MessagePackCode.FixExt2,
            4 => MessagePackCode.FixExt4,
            8 => MessagePackCode.FixExt8,
            16 => MessagePackCode.FixExt16,
            _ => 0,
        };
        if (fixCode != 0)
        {
            destination[1] = unchecked((byte)type);
            destination[0] = fixCode;
            return 2;
        }

        if (length <= byte.MaxValue)
        {
            destination[2] = unchecked((byte)type);
            destination[1] = (byte)length;
            destination[0] = MessagePackCode.Ext8;
            return 3;
        }

        if (length <= ushort.MaxValue)
        {
            destination[3] = unchecked((byte)type);
            BinaryPrimitives.WriteUInt16BigEndian(destination.Slice(1, 2), (ushort)length);
            destination[0] = MessagePackCode.Ext16;
            return 4;
        }

        destination[5] = unchecked((byte)type);
        BinaryPrimitives.WriteUInt32BigEndian(destination.Slice(1, 4), (uint)length);
        destination[0] = MessagePackCode.Ext32;
        return 6;
    }

    /// <summary>
    /// Writes an array 32 header: always 5 bytes, so a batch can reserve its header before it knows
    /// its count and patch it in place afterwards (a reader accepts a non-minimal header).
    /// </summary>
    public static int WriteArray32Header(Span<byte> destination, int count)
    {
        ThrowIfNegative(count);
        BinaryPrimitives.WriteUInt32BigEndian(destination.Slice(1, 4), (uint)count);
        destination[0] = MessagePackCode.Array32;
        return 5;
    }

    /// <summary>
    /// Writes a whole timestamp extension (type -1) in its smallest form: timestamp 32 when
    /// <paramref name="seconds"/> fits 32 unsigned bits and there are no nanoseconds, timestamp 64
    /// when it fits 34 bits, else timestamp 96. Needs up to <see cref="MaxTimestampLength"/> bytes.
    /// </summary>
    /// <param name="seconds">Seconds since the Unix epoch (negative before it).</param>
    /// <param name="nanoseconds">Nanoseconds within the second, 0 to 999 999 999.</param>
    public static int WriteTimestamp(Span<byte> destination, long seconds, uint nanoseconds)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(nanoseconds, 999_999_999u);
        if ((ulong)seconds >> 34 == 0)
        {
            if (nanoseconds == 0 && (ulong)seconds <= uint.MaxValue)
            {
                BinaryPrimitives.WriteUInt32BigEndian(destination.Slice(2, 4), (uint)seconds);
                destination[1] = unchecked((byte)MessagePackCode.TimestampExtensionType);
                destination[0] = MessagePackCode.FixExt4;
                return 6;
            }

            BinaryPrimitives.WriteUInt64BigEndian(destination.Slice(2, 8), ((ulong)nanoseconds << 34) | (ulong)seconds);
            destination[1] = unchecked((byte)MessagePackCode.TimestampExtensionType);
            destination[0] = MessagePackCode.FixExt8;
            return 10;
        }

        BinaryPrimitives.WriteInt64BigEndian(destination.Slice(7, 8), seconds);
        BinaryPrimitives.WriteUInt32BigEndian(destination.Slice(3, 4), nanoseconds);
        destination[2] = unchecked((byte)MessagePackCode.TimestampExtensionType);
        destination[1] = 12;
        destination[0] = MessagePackCode.Ext8;
        return 15;
    }

    /// <summary>
    /// Writes a whole str: header and UTF-8 bytes of <paramref name="value"/> (lone surrogates
    /// become U+FFFD). Needs up to <see cref="GetMaxStringLength"/> bytes.
    /// </summary>
    public static int WriteString(Span<byte> destination, ReadOnlySpan<char> value)
    {
        System.Text.Encoding utf8 = System.Text.Encoding.UTF8;

        // One pass when the header size is the same for the fewest (1 per char) and the most
        // (3 per char) UTF-8 bytes; otherwise count first.
        int headerLength = GetStringHeaderLength(value.Length);
        if (headerLength != GetStringHeaderLength((int)Math.Min(value.Length * 3L, int.MaxValue)))
        {
            int byteCount = utf8.GetByteCount(value);
            headerLength = WriteStringHeader(destination, byteCount);
            return headerLength + utf8.GetBytes(value, destination[headerLength..]);
        }

        int written = utf8.GetBytes(value, destination[headerLength..]);
        WriteStringHeader(destination, written);
        return headerLength + written;
    }

    /// <summary>Writes a whole str from bytes that are already UTF-8.</summary>
    public static int WriteString(Span<byte> destination, ReadOnlySpan<byte> utf8)
    {
        int headerLength = WriteStringHeader(destination, utf8.Length);
        utf8.CopyTo(destination[headerLength..]);
        return headerLength + utf8.Length;
    }

    /// <summary>Writes a whole bin: header and <paramref name="value"/>.</summary>
    public static int WriteBinary(Span<byte> destination, ReadOnlySpan<byte> value)
    {
        int headerLength = WriteBinaryHeader(destination, value.Length);
        value.CopyTo(destination[headerLength..]);
        return headerLength + value.Length;
    }

    /// <summary>The most bytes <see cref="WriteString(Span{byte}, ReadOnlySpan{char})"/> writes for <paramref name="charCount"/> chars.</summary>
    public static int GetMaxStringLength(int charCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(charCount);
        return checked(MaxHeaderLength + (charCount * 3));
    }

    /// <summary>The number of bytes <see cref="WriteStringHeader"/> writes for <paramref name="byteLength"/>.</summary>
    public static int GetStringHeaderLength(int byteLength) => byteLength switch
    {
        < 0 => throw new ArgumentOutOfRangeException(nameof(byteLength)),
        <= MessagePackCode.MaxFixStr - MessagePackCode.MinFixStr => 1,
        <= byte.MaxValue => 2,
        <= ushort.MaxValue => 3,
        _ => 5,
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int WriteLength16Or32(Span<byte> destination, int length, byte code16, byte code32)
    {
        if (length <= ushort.MaxValue)
        {
            BinaryPrimitives.WriteUInt16BigEndian(destination.Slice(1, 2), (ushort)length);
            destination[0] = code16;
            return 3;
        }

        BinaryPrimitives.WriteUInt32BigEndian(destination.Slice(1, 4), (uint)length);
        destination[0] = code32;
        return 5;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ThrowIfNegative(int value, [CallerArgumentExpression(nameof(value))] string? name = null)
    {
        if (value < 0)
        {
            ThrowNegative(name);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowNegative(string? name) =>
        throw new ArgumentOutOfRangeException(name, "A MessagePack length or count cannot be negative.");
}
