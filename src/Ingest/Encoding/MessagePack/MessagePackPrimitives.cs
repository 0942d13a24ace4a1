using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Lib = global::MessagePack;

namespace Ingest.Encoding.MessagePack;

/// <summary>
/// Span-level MessagePack encoders for the hot path (<c>ChunkEventWriter</c>, <see cref="RecordEnvelope"/>);
/// everything else writes with MessagePack-CSharp's <c>MessagePackWriter</c> (README.md says why).
/// Each method writes one header or scalar at the start of <c>destination</c> and returns the
/// number of bytes written. The caller guarantees room: <see cref="MaxHeaderLength"/> bytes cover
/// every header and scalar. Integers and headers always take their smallest encoding.
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

    public static int WriteNil(Span<byte> destination)
    {
        destination[0] = Lib.MessagePackCode.Nil;
        return 1;
    }

    public static int WriteBoolean(Span<byte> destination, bool value)
    {
        destination[0] = value ? Lib.MessagePackCode.True : Lib.MessagePackCode.False;
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
            destination[0] = Lib.MessagePackCode.Int8;
            return 2;
        }

        if (value >= short.MinValue)
        {
            BinaryPrimitives.WriteInt16BigEndian(destination.Slice(1, 2), (short)value);
            destination[0] = Lib.MessagePackCode.Int16;
            return 3;
        }

        if (value >= int.MinValue)
        {
            BinaryPrimitives.WriteInt32BigEndian(destination.Slice(1, 4), (int)value);
            destination[0] = Lib.MessagePackCode.Int32;
            return 5;
        }

        BinaryPrimitives.WriteInt64BigEndian(destination.Slice(1, 8), value);
        destination[0] = Lib.MessagePackCode.Int64;
        return 9;
    }

    /// <summary>Writes the smallest encoding of <paramref name="value"/>.</summary>
    public static int WriteUInt64(Span<byte> destination, ulong value)
    {
        if (value <= Lib.MessagePackCode.MaxFixInt)
        {
            destination[0] = (byte)value;
            return 1;
        }

        if (value <= byte.MaxValue)
        {
            destination[1] = (byte)value;
            destination[0] = Lib.MessagePackCode.UInt8;
            return 2;
        }

        if (value <= ushort.MaxValue)
        {
            BinaryPrimitives.WriteUInt16BigEndian(destination.Slice(1, 2), (ushort)value);
            destination[0] = Lib.MessagePackCode.UInt16;
            return 3;
        }

        if (value <= uint.MaxValue)
        {
            BinaryPrimitives.WriteUInt32BigEndian(destination.Slice(1, 4), (uint)value);
            destination[0] = Lib.MessagePackCode.UInt32;
            return 5;
        }

        BinaryPrimitives.WriteUInt64BigEndian(destination.Slice(1, 8), value);
        destination[0] = Lib.MessagePackCode.UInt64;
        return 9;
    }

    /// <summary>Writes <paramref name="value"/> as float 64 (never narrowed, so it round-trips exactly).</summary>
    public static int WriteDouble(Span<byte> destination, double value)
    {
        BinaryPrimitives.WriteDoubleBigEndian(destination.Slice(1, 8), value);
        destination[0] = Lib.MessagePackCode.Float64;
        return 9;
    }

    /// <summary>Writes a fixstr, str 8, str 16 or str 32 header for <paramref name="byteLength"/> UTF-8 bytes.</summary>
    public static int WriteStringHeader(Span<byte> destination, int byteLength)
    {
        ThrowIfNegative(byteLength);
        if (byteLength <= Lib.MessagePackCode.MaxFixStr - Lib.MessagePackCode.MinFixStr)
        {
            destination[0] = (byte)(Lib.MessagePackCode.MinFixStr | byteLength);
            return 1;
        }

        if (byteLength <= byte.MaxValue)
        {
            destination[1] = (byte)byteLength;
            destination[0] = Lib.MessagePackCode.Str8;
            return 2;
        }

        return WriteLength16Or32(destination, byteLength, Lib.MessagePackCode.Str16, Lib.MessagePackCode.Str32);
    }

    /// <summary>Writes a bin 8, bin 16 or bin 32 header for <paramref name="length"/> bytes.</summary>
    public static int WriteBinaryHeader(Span<byte> destination, int length)
    {
        ThrowIfNegative(length);
        if (length <= byte.MaxValue)
        {
            destination[1] = (byte)length;
            destination[0] = Lib.MessagePackCode.Bin8;
            return 2;
        }

        return WriteLength16Or32(destination, length, Lib.MessagePackCode.Bin16, Lib.MessagePackCode.Bin32);
    }

    /// <summary>Writes a fixarray, array 16 or array 32 header for <paramref name="count"/> elements.</summary>
    public static int WriteArrayHeader(Span<byte> destination, int count)
    {
        ThrowIfNegative(count);
        if (count <= Lib.MessagePackCode.MaxFixArray - Lib.MessagePackCode.MinFixArray)
        {
            destination[0] = (byte)(Lib.MessagePackCode.MinFixArray | count);
            return 1;
        }

        return WriteLength16Or32(destination, count, Lib.MessagePackCode.Array16, Lib.MessagePackCode.Array32);
    }

    /// <summary>Writes a fixmap, map 16 or map 32 header for <paramref name="count"/> key/value pairs.</summary>
    public static int WriteMapHeader(Span<byte> destination, int count)
    {
        ThrowIfNegative(count);
        if (count <= Lib.MessagePackCode.MaxFixMap - Lib.MessagePackCode.MinFixMap)
        {
            destination[0] = (byte)(Lib.MessagePackCode.MinFixMap | count);
            return 1;
        }

        return WriteLength16Or32(destination, count, Lib.MessagePackCode.Map16, Lib.MessagePackCode.Map32);
    }

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
