using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Text.Unicode;

namespace Ingest.Encoding.MessagePack;

/// <summary>
/// A forward-only MessagePack reader over one contiguous buffer. It never reads outside the
/// buffer: every malformed, truncated or over-limit input throws <see cref="MessagePackFormatException"/>
/// with the offset of the value that failed, and the reader does not move when a read fails.
/// </summary>
/// <remarks>
/// <c>Read*</c> methods throw when the next value is not of the requested type; <c>TryRead*</c>
/// methods return <see langword="false"/> and consume nothing instead (they still throw on
/// malformed input). Integer reads accept every integer encoding whose value fits the requested
/// type, not only the smallest. <see cref="Skip"/> is iterative, so hostile nesting cannot
/// exhaust the stack; recursive consumers bound themselves with <see cref="EnterCollection"/>.
/// </remarks>
public ref struct MessagePackReader
{
    private readonly ReadOnlySpan<byte> _buffer;
    private readonly MessagePackReaderOptions _options;
    private int _position;
    private int _depth;

    public MessagePackReader(ReadOnlySpan<byte> buffer)
        : this(buffer, MessagePackReaderOptions.Default)
    {
    }

    public MessagePackReader(ReadOnlySpan<byte> buffer, MessagePackReaderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _buffer = buffer;
        _options = options;
    }

    public readonly MessagePackReaderOptions Options => _options;

    /// <summary>The offset of the next value in the buffer.</summary>
    public readonly int Position => _position;

    public readonly int Remaining => _buffer.Length - _position;

    /// <summary>Whether every byte of the buffer has been read.</summary>
    public readonly bool End => _position == _buffer.Length;

    /// <summary>How many collections recursive consumers have entered and not yet left.</summary>
    public readonly int Depth => _depth;

    /// <summary>The code byte of the next value, without consuming it.</summary>
    public readonly byte PeekCode()
    {
        if (_position >= _buffer.Length)
        {
            ThrowTruncated(_position, 1);
        }

        return _buffer[_position];
    }

    /// <summary>The type of the next value, without consuming it.</summary>
    public readonly MessagePackType PeekType()
    {
        byte code = PeekCode();
        return code switch
        {
            <= MessagePackCode.MaxPositiveFixInt => MessagePackType.Integer,
            <= MessagePackCode.MaxFixMap => MessagePackType.Map,
            <= MessagePackCode.MaxFixArray => MessagePackType.Array,
            <= MessagePackCode.MaxFixStr => MessagePackType.String,
            MessagePackCode.Nil => MessagePackType.Nil,
            MessagePackCode.NeverUsed => ThrowNeverUsed(_position),
            MessagePackCode.False or MessagePackCode.True => MessagePackType.Boolean,
            MessagePackCode.Bin8 or MessagePackCode.Bin16 or MessagePackCode.Bin32 => MessagePackType.Binary,
            MessagePackCode.Ext8 or MessagePackCode.Ext16 or MessagePackCode.Ext32 => MessagePackType.Extension,
            MessagePackCode.Float32 or MessagePackCode.Float64 => MessagePackType.Float,
            <= MessagePackCode.Int64 => MessagePackType.Integer,
            <= MessagePackCode.FixExt16 => MessagePackType.Extension,
            <= MessagePackCode.Str32 => MessagePackType.String,
            <= MessagePackCode.Array32 => MessagePackType.Array,
            <= MessagePackCode.Map32 => MessagePackType.Map,
            _ => MessagePackType.Integer,
        };
    }

    /// <summary>Consumes a nil if one is next.</summary>
    public bool TryReadNil()
    {
        if (PeekCode() != MessagePackCode.Nil)
        {
            return false;
        }

        _position++;
        return true;
    }

    public void ReadNil()
    {
        if (!TryReadNil())
        {
            ThrowUnexpected(MessagePackType.Nil);
        }
    }

    public bool TryReadBoolean(out bool value)
    {
        byte code = PeekCode();
        if (code is not (MessagePackCode.True or MessagePackCode.False))
        {
            value = false;
            return false;
        }

        _position++;
        value = code == MessagePackCode.True;
        return true;
    }

    public bool ReadBoolean()
    {
        if (!TryReadBoolean(out bool value))
        {
            ThrowUnexpected(MessagePackType.Boolean);
        }

        return value;
    }

    /// <summary>Reads any integer encoding; throws if the value does not fit a <see cref="long"/>.</summary>
    public long ReadInt64()
    {
        int start = _position;
        if (!TryReadIntegerCore(out ulong bits, out bool signed))
        {
            ThrowUnexpected(MessagePackType.Integer);
        }

        if (!signed && bits > long.MaxValue)
        {
            _position = start;
            Throw($"integer {bits} does not fit a signed 64-bit value", start);
        }

        return (long)bits;
    }

    /// <summary>Reads any integer encoding; throws if the value is negative.</summary>
    public ulong ReadUInt64()
    {
        int start = _position;
        if (!TryReadIntegerCore(out ulong bits, out bool signed))
        {
            ThrowUnexpected(MessagePackType.Integer);
        }

        if (signed && (long)bits < 0)
        {
            _position = start;
            Throw($"integer {(long)bits} does not fit an unsigned 64-bit value", start);
        }

        return bits;
    }

    /// <summary>Reads any integer encoding; throws if the value does not fit an <see cref="int"/>.</summary>
    public int ReadInt32()
    {
        int start = _position;
        long value = ReadInt64();
        if (value is < int.MinValue or > int.MaxValue)
        {
            _position = start;
            Throw($"integer {value} does not fit a signed 32-bit value", start);
        }

        return (int)value;
    }

    /// <summary>Consumes an integer that fits a <see cref="long"/> if one is next.</summary>
    public bool TryReadInt64(out long value)
    {
        int start = _position;
        if (!TryReadIntegerCore(out ulong bits, out bool signed) || (!signed && bits > long.MaxValue))
        {
            _position = start;
            value = 0;
            return false;
        }

        value = (long)bits;
        return true;
    }

    /// <summary>Consumes a non-negative integer if one is next.</summary>
    public bool TryReadUInt64(out ulong value)
    {
        int start = _position;
        if (!TryReadIntegerCore(out ulong bits, out bool signed) || (signed && (long)bits < 0))
        {
            _position = start;
            value = 0;
            return false;
        }

        value = bits;
        return true;
    }

    /// <summary>Reads a float 32 or float 64, or an integer converted to the nearest double.</summary>
    public double ReadDouble()
    {
        byte code = PeekCode();
        int start = _position;
        switch (code)
        {
            case MessagePackCode.Float64:
                return BinaryPrimitives.ReadDoubleBigEndian(Take(9)[1..]);
            case MessagePackCode.Float32:
                return BinaryPrimitives.ReadSingleBigEndian(Take(5)[1..]);
        }

        if (TryReadIntegerCore(out ulong bits, out bool signed))
        {
            return signed ? (long)bits : (double)bits;
        }

        _position = start;
        ThrowUnexpected(MessagePackType.Float);
        return 0;
    }

    /// <summary>Reads a float 32, a float 64 narrowed to <see cref="float"/>, or an integer.</summary>
    public float ReadSingle() => PeekCode() == MessagePackCode.Float32
        ? BinaryPrimitives.ReadSingleBigEndian(Take(5)[1..])
        : (float)ReadDouble();

    /// <summary>Reads a str header and returns its length in bytes; the bytes follow.</summary>
    public int ReadStringHeader()
    {
        if (!TryReadStringHeader(out int length))
        {
            ThrowUnexpected(MessagePackType.String);
        }

        return length;
    }

    /// <summary>Reads a str and returns its UTF-8 bytes (a slice of the buffer, not validated).</summary>
    public ReadOnlySpan<byte> ReadStringSpan()
    {
        if (!TryReadStringSpan(out ReadOnlySpan<byte> utf8))
        {
            ThrowUnexpected(MessagePackType.String);
        }

        return utf8;
    }

    public bool TryReadStringSpan(out ReadOnlySpan<byte> utf8)
    {
        if (!TryReadStringHeader(out int length))
        {
            utf8 = default;
            return false;
        }

        utf8 = _buffer.Slice(_position, length);
        _position += length;
        return true;
    }

    /// <summary>Reads a str as a <see cref="string"/>; throws if it is not valid UTF-8.</summary>
    public string ReadString()
    {
        int start = _position;
        ReadOnlySpan<byte> utf8 = ReadStringSpan();
        if (!Utf8.IsValid(utf8))
        {
            _position = start;
            Throw("str is not valid UTF-8", start);
        }

        return System.Text.Encoding.UTF8.GetString(utf8);
    }

    /// <summary>Reads a nil as <see langword="null"/> or a str as a <see cref="string"/>.</summary>
    public string? ReadNullableString() => TryReadNil() ? null : ReadString();

    /// <summary>Reads a bin header and returns its length; the bytes follow.</summary>
    public int ReadBinaryHeader()
    {
        if (!TryReadBinaryHeader(out int length))
        {
            ThrowUnexpected(MessagePackType.Binary);
        }

        return length;
    }

    /// <summary>Reads a bin and returns its bytes (a slice of the buffer).</summary>
    public ReadOnlySpan<byte> ReadBinarySpan()
    {
        if (!TryReadBinarySpan(out ReadOnlySpan<byte> value))
        {
            ThrowUnexpected(MessagePackType.Binary);
        }

        return value;
    }

    public bool TryReadBinarySpan(out ReadOnlySpan<byte> value)
    {
        if (!TryReadBinaryHeader(out int length))
        {
            value = default;
            return false;
        }

        value = _buffer.Slice(_position, length);
        _position += length;
        return true;
    }

    /// <summary>Reads an array header and returns its element count; the elements follow.</summary>
    public int ReadArrayHeader()
    {
        if (!TryReadArrayHeader(out int count))
        {
            ThrowUnexpected(MessagePackType.Array);
        }

        return count;
    }

    public bool TryReadArrayHeader(out int count)
    {
        int start = _position;
        byte code = PeekCode();
        long declared;
        if (code is >= MessagePackCode.MinFixArray and <= MessagePackCode.MaxFixArray)
        {
            declared = code & 0x0f;
            _position++;
        }
        else if (code == MessagePackCode.Array16)
        {
            declared = BinaryPrimitives.ReadUInt16BigEndian(Take(3)[1..]);
        }
        else if (code == MessagePackCode.Array32)
        {
            declared = BinaryPrimitives.ReadUInt32BigEndian(Take(5)[1..]);
        }
        else
        {
            count = 0;
            return false;
        }

        // Every element takes at least one byte.
        CheckCount(start, declared, declared, "array");
        count = (int)declared;
        return true;
    }

    /// <summary>Reads a map header and returns its key/value pair count; the pairs follow.</summary>
    public int ReadMapHeader()
    {
        if (!TryReadMapHeader(out int count))
        {
            ThrowUnexpected(MessagePackType.Map);
        }

        return count;
    }

    public bool TryReadMapHeader(out int count)
    {
        int start = _position;
        byte code = PeekCode();
        long declared;
        if (code is >= MessagePackCode.MinFixMap and <= MessagePackCode.MaxFixMap)
        {
            declared = code & 0x0f;
            _position++;
        }
        else if (code == MessagePackCode.Map16)
        {
            declared = BinaryPrimitives.ReadUInt16BigEndian(Take(3)[1..]);
        }
        else if (code == MessagePackCode.Map32)
        {
            declared = BinaryPrimitives.ReadUInt32BigEndian(Take(5)[1..]);
        }
        else
        {
            count = 0;
            return false;
        }

        // Every pair takes at least two bytes.
        CheckCount(start, declared, declared * 2, "map");
        count = (int)declared;
        return true;
    }

    /// <summary>Reads an extension header; its <see cref="MessagePackExtensionHeader.Length"/> data bytes follow.</summary>
    public MessagePackExtensionHeader ReadExtensionHeader()
    {
        if (!TryReadExtensionHeader(out MessagePackExtensionHeader header))
        {
            ThrowUnexpected(MessagePackType.Extension);
        }

        return header;
    }

    /// <summary>Reads an extension and returns its data (a slice of the buffer).</summary>
    public ReadOnlySpan<byte> ReadExtension(out sbyte type)
    {
        MessagePackExtensionHeader header = ReadExtensionHeader();
        type = header.Type;
        ReadOnlySpan<byte> data = _buffer.Slice(_position, header.Length);
        _position += header.Length;
        return data;
    }

    /// <summary>Reads a timestamp extension (type -1, 32, 64 or 96 bit form).</summary>
    /// <param name="seconds">Seconds since the Unix epoch.</param>
    /// <param name="nanoseconds">Nanoseconds within the second, at most 999 999 999.</param>
    public void ReadTimestamp(out long seconds, out uint nanoseconds)
    {
        int start = _position;
        if (!TryReadTimestampCore(out seconds, out nanoseconds, out string? error))
        {
            _position = start;
            Throw(error, start);
        }
    }

    /// <summary>
    /// Reads a timestamp extension as a <see cref="DateTimeOffset"/> in UTC, truncated to its
    /// 100 ns resolution; throws if it is outside years 1 to 9999.
    /// </summary>
    public DateTimeOffset ReadTimestamp()
    {
        int start = _position;
        ReadTimestamp(out long seconds, out uint nanoseconds);
        if (!TryConvertTimestamp(seconds, nanoseconds, out DateTimeOffset value))
        {
            _position = start;
            Throw($"timestamp of {seconds} s is outside the range of DateTimeOffset", start);
        }

        return value;
    }

    /// <summary>
    /// Consumes the next value if it is a well-formed timestamp extension; leaves the reader where
    /// it was and returns <see langword="false"/> for anything else, including a malformed one.
    /// </summary>
    public bool TryReadTimestamp(out long seconds, out uint nanoseconds)
    {
        int start = _position;
        if (!TryReadTimestampCore(out seconds, out nanoseconds, out _))
        {
            _position = start;
            return false;
        }

        return true;
    }

    /// <summary>Converts timestamp fields to a <see cref="DateTimeOffset"/>, truncating to 100 ns.</summary>
    public static bool TryConvertTimestamp(long seconds, uint nanoseconds, out DateTimeOffset value)
    {
        const long MinSeconds = -62_135_596_800; // 0001-01-01T00:00:00Z
        const long MaxSeconds = 253_402_300_799; // 9999-12-31T23:59:59Z
        if (seconds is < MinSeconds or > MaxSeconds || nanoseconds > 999_999_999)
        {
            value = default;
            return false;
        }

        long ticks = DateTimeOffset.UnixEpoch.UtcTicks + (seconds * TimeSpan.TicksPerSecond) + (nanoseconds / TimeSpan.NanosecondsPerTick);
        value = new DateTimeOffset(ticks, TimeSpan.Zero);
        return true;
    }

    /// <summary>Skips the next value, including everything nested in it, without recursion.</summary>
    public void Skip()
    {
        int start = _position;
        try
        {
            SkipCore();
        }
        catch (MessagePackFormatException)
        {
            _position = start;
            throw;
        }
    }

    /// <summary>Skips the next value and returns its complete encoding (a slice of the buffer).</summary>
    public ReadOnlySpan<byte> ReadRaw()
    {
        int start = _position;
        Skip();
        return _buffer[start.._position];
    }

    /// <summary>
    /// Notes that a recursive consumer descends into a collection; throws once that would exceed
    /// <see cref="MessagePackReaderOptions.MaxDepth"/>. Pair with <see cref="ExitCollection"/>.
    /// </summary>
    public void EnterCollection()
    {
        if (_depth >= _options.MaxDepth)
        {
            Throw($"nesting exceeds the maximum depth of {_options.MaxDepth}", _position);
        }

        _depth++;
    }

    public void ExitCollection()
    {
        if (_depth == 0)
        {
            throw new InvalidOperationException("ExitCollection without a matching EnterCollection.");
        }

        _depth--;
    }

    private void SkipCore()
    {
        // Values still to skip; collection headers add their elements. Counts are bounded by the
        // remaining bytes, so this cannot overflow.
        long pending = 1;
        while (pending > 0)
        {
            pending--;
            int start = _position;
            byte code = PeekCode();
            switch (code)
            {
                case <= MessagePackCode.MaxPositiveFixInt:
                case >= MessagePackCode.MinNegativeFixInt:
                case MessagePackCode.Nil:
                case MessagePackCode.False:
                case MessagePackCode.True:
                    _position++;
                    break;
                case <= MessagePackCode.MaxFixMap:
                case MessagePackCode.Map16:
                case MessagePackCode.Map32:
                    pending += 2L * ReadMapHeader();
                    break;
                case <= MessagePackCode.MaxFixArray:
                case MessagePackCode.Array16:
                case MessagePackCode.Array32:
                    pending += ReadArrayHeader();
                    break;
                case <= MessagePackCode.MaxFixStr:
                case MessagePackCode.Str8:
                case MessagePackCode.Str16:
                case MessagePackCode.Str32:
                    Advance(ReadStringHeader());
                    break;
                case MessagePackCode.Bin8:
                case MessagePackCode.Bin16:
                case MessagePackCode.Bin32:
                    Advance(ReadBinaryHeader());
                    break;
                case MessagePackCode.Ext8:
                case MessagePackCode.Ext16:
                case MessagePackCode.Ext32:
                case >= MessagePackCode.FixExt1 and <= MessagePackCode.FixExt16:
                    Advance(ReadExtensionHeader().Length);
                    break;
                case MessagePackCode.Float32:
                case MessagePackCode.Float64:
                case >= MessagePackCode.UInt8 and <= MessagePackCode.Int64:
                    Take(1 + ScalarPayloadLength(code));
                    break;
                default:
                    ThrowNeverUsed(start);
                    break;
            }
        }
    }

    private bool TryReadStringHeader(out int length)
    {
        int start = _position;
        byte code = PeekCode();
        long declared;
        if (code is >= MessagePackCode.MinFixStr and <= MessagePackCode.MaxFixStr)
        {
            declared = code & 0x1f;
            _position++;
        }
        else if (code == MessagePackCode.Str8)
        {
            declared = Take(2)[1];
        }
        else if (code == MessagePackCode.Str16)
        {
            declared = BinaryPrimitives.ReadUInt16BigEndian(Take(3)[1..]);
        }
        else if (code == MessagePackCode.Str32)
        {
            declared = BinaryPrimitives.ReadUInt32BigEndian(Take(5)[1..]);
        }
        else
        {
            length = 0;
            return false;
        }

        CheckLength(start, declared, _options.MaxStringLength, "str");
        length = (int)declared;
        return true;
    }

    private bool TryReadBinaryHeader(out int length)
    {
        int start = _position;
        long declared;
        switch (PeekCode())
        {
            case MessagePackCode.Bin8:
                declared = Take(2)[1];
                break;
            case MessagePackCode.Bin16:
                declared = BinaryPrimitives.ReadUInt16BigEndian(Take(3)[1..]);
                break;
            case MessagePackCode.Bin32:
                declared = BinaryPrimitives.ReadUInt32BigEndian(Take(5)[1..]);
                break;
            default:
                length = 0;
                return false;
        }

        CheckLength(start, declared, _options.MaxBinaryLength, "bin");
        length = (int)declared;
        return true;
    }

    private bool TryReadExtensionHeader(out MessagePackExtensionHeader header)
    {
        int start = _position;
        long declared;
        sbyte type;
        switch (PeekCode())
        {
            case MessagePackCode.FixExt1:
                (declared, type) = (1, (sbyte)Take(2)[1]);
                break;
            case MessagePackCode.FixExt2:
                (declared, type) = (2, (sbyte)Take(2)[1]);
                break;
            case MessagePackCode.FixExt4:
                (declared, type) = (4, (sbyte)Take(2)[1]);
                break;
            case MessagePackCode.FixExt8:
                (declared, type) = (8, (sbyte)Take(2)[1]);
                break;
            case MessagePackCode.FixExt16:
                (declared, type) = (16, (sbyte)Take(2)[1]);
                break;
            case MessagePackCode.Ext8:
                ReadOnlySpan<byte> ext8 = Take(3);
                (declared, type) = (ext8[1], (sbyte)ext8[2]);
                break;
            case MessagePackCode.Ext16:
                ReadOnlySpan<byte> ext16 = Take(4);
                (declared, type) = (BinaryPrimitives.ReadUInt16BigEndian(ext16[1..]), (sbyte)ext16[3]);
                break;
            case MessagePackCode.Ext32:
                ReadOnlySpan<byte> ext32 = Take(6);
                (declared, type) = (BinaryPrimitives.ReadUInt32BigEndian(ext32[1..]), (sbyte)ext32[5]);
                break;
            default:
                header = default;
                return false;
        }

        CheckLength(start, declared, _options.MaxBinaryLength, "ext");
        header = new MessagePackExtensionHeader(type, (int)declared);
        return true;
    }

    private bool TryReadTimestampCore(out long seconds, out uint nanoseconds, [NotNullWhen(false)] out string? error)
    {
        seconds = 0;
        nanoseconds = 0;
        if (PeekType() != MessagePackType.Extension)
        {
            error = $"expected a timestamp, found {PeekType()} (0x{PeekCode():x2})";
            return false;
        }

        ReadOnlySpan<byte> data = ReadExtension(out sbyte type);
        if (type != MessagePackCode.TimestampExtensionType)
        {
            error = $"expected a timestamp (extension type -1), found extension type {type}";
            return false;
        }

        switch (data.Length)
        {
            case 4:
                seconds = BinaryPrimitives.ReadUInt32BigEndian(data);
                break;
            case 8:
                ulong packed = BinaryPrimitives.ReadUInt64BigEndian(data);
                nanoseconds = (uint)(packed >> 34);
                seconds = (long)(packed & 0x3_ffff_ffffUL);
                break;
            case 12:
                nanoseconds = BinaryPrimitives.ReadUInt32BigEndian(data);
                seconds = BinaryPrimitives.ReadInt64BigEndian(data[4..]);
                break;
            default:
                error = $"a timestamp has 4, 8 or 12 data bytes, not {data.Length}";
                return false;
        }

        if (nanoseconds > 999_999_999)
        {
            error = $"timestamp nanoseconds {nanoseconds} exceed 999999999";
            return false;
        }

        error = null;
        return true;
    }

    /// <summary>
    /// Consumes an integer of any encoding. <paramref name="signed"/> tells whether
    /// <paramref name="bits"/> holds a <see cref="long"/> (int formats) or a <see cref="ulong"/>.
    /// </summary>
    private bool TryReadIntegerCore(out ulong bits, out bool signed)
    {
        byte code = PeekCode();
        switch (code)
        {
            case <= MessagePackCode.MaxPositiveFixInt:
                _position++;
                (bits, signed) = (code, false);
                return true;
            case >= MessagePackCode.MinNegativeFixInt:
                _position++;
                (bits, signed) = ((ulong)(long)(sbyte)code, true);
                return true;
            case MessagePackCode.UInt8:
                (bits, signed) = (Take(2)[1], false);
                return true;
            case MessagePackCode.UInt16:
                (bits, signed) = (BinaryPrimitives.ReadUInt16BigEndian(Take(3)[1..]), false);
                return true;
            case MessagePackCode.UInt32:
                (bits, signed) = (BinaryPrimitives.ReadUInt32BigEndian(Take(5)[1..]), false);
                return true;
            case MessagePackCode.UInt64:
                (bits, signed) = (BinaryPrimitives.ReadUInt64BigEndian(Take(9)[1..]), false);
                return true;
            case MessagePackCode.Int8:
                (bits, signed) = ((ulong)(long)(sbyte)Take(2)[1], true);
                return true;
            case MessagePackCode.Int16:
                (bits, signed) = ((ulong)(long)BinaryPrimitives.ReadInt16BigEndian(Take(3)[1..]), true);
                return true;
            case MessagePackCode.Int32:
                (bits, signed) = ((ulong)(long)BinaryPrimitives.ReadInt32BigEndian(Take(5)[1..]), true);
                return true;
            case MessagePackCode.Int64:
                (bits, signed) = ((ulong)BinaryPrimitives.ReadInt64BigEndian(Take(9)[1..]), true);
                return true;
            default:
                (bits, signed) = (0, false);
                return false;
        }
    }

    /// <summary>
    /// Moves past a payload whose header was just read (and checked against the remaining bytes).
    /// A method rather than <c>_position += ReadXHeader()</c>, which would add to the position read
    /// before the header moved it.
    /// </summary>
    private void Advance(int length) => _position += length;

    /// <summary>Payload bytes after the code of a fixed-size scalar (float or sized integer).</summary>
    private static int ScalarPayloadLength(byte code) => code switch
    {
        MessagePackCode.UInt8 or MessagePackCode.Int8 => 1,
        MessagePackCode.UInt16 or MessagePackCode.Int16 => 2,
        MessagePackCode.UInt32 or MessagePackCode.Int32 or MessagePackCode.Float32 => 4,
        _ => 8,
    };

    /// <summary>Consumes <paramref name="count"/> bytes, or throws without moving if fewer remain.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ReadOnlySpan<byte> Take(int count)
    {
        if (_buffer.Length - _position < count)
        {
            ThrowTruncated(_position, count);
        }

        ReadOnlySpan<byte> span = _buffer.Slice(_position, count);
        _position += count;
        return span;
    }

    /// <summary>Checks a declared payload length (header already consumed); rewinds to the header on failure.</summary>
    private void CheckLength(int start, long declared, int limit, string kind)
    {
        if (declared > Remaining)
        {
            _position = start;
            Throw($"{kind} declares {declared} bytes but only {_buffer.Length - start} remain from its header", start);
        }

        if (declared > limit)
        {
            _position = start;
            Throw($"{kind} of {declared} bytes exceeds the limit of {limit}", start);
        }
    }

    /// <summary>Checks a declared element count (header already consumed); rewinds to the header on failure.</summary>
    private void CheckCount(int start, long declared, long minimumBytes, string kind)
    {
        if (minimumBytes > Remaining)
        {
            _position = start;
            Throw($"{kind} declares {declared} elements, more than the {Remaining} bytes that remain can hold", start);
        }

        if (declared > _options.MaxCollectionCount)
        {
            _position = start;
            Throw($"{kind} of {declared} elements exceeds the limit of {_options.MaxCollectionCount}", start);
        }
    }

    [DoesNotReturn]
    private readonly void ThrowUnexpected(MessagePackType expected)
    {
        MessagePackType actual = PeekType();
        Throw($"expected {expected}, found {actual} (0x{_buffer[_position]:x2})", _position);
    }

    [DoesNotReturn]
    private static MessagePackType ThrowNeverUsed(int offset) =>
        throw new MessagePackFormatException("0xc1 is not a valid MessagePack code", offset);

    [DoesNotReturn]
    private readonly void ThrowTruncated(int offset, int needed) =>
        Throw($"truncated input: {needed} bytes needed, {_buffer.Length - offset} remain", offset);

    [DoesNotReturn]
    private static void Throw(string message, int offset) => throw new MessagePackFormatException(message, offset);
}
