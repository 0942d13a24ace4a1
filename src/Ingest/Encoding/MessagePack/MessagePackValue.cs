using System.Text.Unicode;
using Lib = global::MessagePack;

namespace Ingest.Encoding.MessagePack;

/// <summary>
/// An immutable tree of one decoded MessagePack value, for the command path and tests (the hot
/// path never builds one). Reading is bounded: nesting by <see cref="MessagePackReaderOptions.MaxDepth"/>,
/// sizes by the reader's limits, so a hostile document costs at most a small multiple of its length.
/// </summary>
/// <remarks>
/// Equality is structural: integers compare by value whatever their encoding, floats by their
/// bits (so NaN equals NaN), strings by their UTF-8 bytes, maps by their pairs in order.
/// </remarks>
public sealed class MessagePackValue : IEquatable<MessagePackValue>
{
    public static readonly MessagePackValue Nil = new(MessagePackType.Nil, 0, isSigned: false, null);

    private static readonly MessagePackValue s_true = new(MessagePackType.Boolean, 1, isSigned: false, null);
    private static readonly MessagePackValue s_false = new(MessagePackType.Boolean, 0, isSigned: false, null);

    // Scalars live in _bits (boolean 0/1, integer bits, double bits); the rest in _payload:
    // byte[] for str/bin/ext data, MessagePackValue[] for arrays, KeyValuePair[] for maps.
    private readonly ulong _bits;
    private readonly bool _isSigned;
    private readonly object? _payload;

    private MessagePackValue(MessagePackType type, ulong bits, bool isSigned, object? payload, sbyte extensionType = 0)
    {
        Type = type;
        _bits = bits;
        _isSigned = isSigned;
        _payload = payload;
        ExtensionType = extensionType;
    }

    public MessagePackType Type { get; }

    /// <summary>The application-defined type of an extension value.</summary>
    public sbyte ExtensionType { get; }

    public bool IsNil => Type == MessagePackType.Nil;

    public static MessagePackValue FromBoolean(bool value) => value ? s_true : s_false;

    public static MessagePackValue FromInt64(long value) => new(MessagePackType.Integer, (ulong)value, isSigned: value < 0, null);

    public static MessagePackValue FromUInt64(ulong value) => new(MessagePackType.Integer, value, isSigned: false, null);

    public static MessagePackValue FromDouble(double value) => new(MessagePackType.Float, BitConverter.DoubleToUInt64Bits(value), isSigned: false, null);

    public static MessagePackValue FromString(string value) => new(MessagePackType.String, 0, isSigned: false, System.Text.Encoding.UTF8.GetBytes(value));

    public static MessagePackValue FromUtf8(ReadOnlySpan<byte> utf8) => new(MessagePackType.String, 0, isSigned: false, utf8.ToArray());

    public static MessagePackValue FromBinary(ReadOnlySpan<byte> value) => new(MessagePackType.Binary, 0, isSigned: false, value.ToArray());

    public static MessagePackValue FromExtension(sbyte type, ReadOnlySpan<byte> data) => new(MessagePackType.Extension, 0, isSigned: false, data.ToArray(), type);

    public static MessagePackValue FromArray(params MessagePackValue[] items) => new(MessagePackType.Array, 0, isSigned: false, items.ToArray());

    public static MessagePackValue FromMap(params KeyValuePair<MessagePackValue, MessagePackValue>[] entries) => new(MessagePackType.Map, 0, isSigned: false, entries.ToArray());

    /// <summary>
    /// Parses exactly one value with MessagePack-CSharp's low-level reader under
    /// <paramref name="options"/>' limits; trailing bytes are an error. The input is copied once
    /// (the library reads memory, not spans): commands and results are small.
    /// </summary>
    public static MessagePackValue Parse(ReadOnlySpan<byte> msgpack, MessagePackReaderOptions? options = null)
    {
        options ??= MessagePackReaderOptions.Default;
        var reader = new Lib.MessagePackReader(msgpack.ToArray());
        try
        {
            MessagePackValue value = Read(ref reader, options);
            if (!reader.End)
            {
                throw new MessagePackFormatException($"{msgpack.Length - reader.Consumed} bytes follow the value", reader.Consumed);
            }

            return value;
        }
        catch (Exception e) when (UntrustedMessagePack.IsMalformed(e))
        {
            throw UntrustedMessagePack.Malformed(e, reader.Consumed);
        }
    }

    /// <summary>Reads the next value, with everything nested in it, from <paramref name="reader"/>.</summary>
    public static MessagePackValue Read(ref Lib.MessagePackReader reader, MessagePackReaderOptions? options = null)
    {
        options ??= MessagePackReaderOptions.Default;
        switch (reader.NextMessagePackType)
        {
            case Lib.MessagePackType.Nil:
                reader.ReadNil();
                return Nil;
            case Lib.MessagePackType.Boolean:
                return FromBoolean(reader.ReadBoolean());
            case Lib.MessagePackType.Integer:
                if (reader.NextCode == Lib.MessagePackCode.UInt64)
                {
                    // As before: a uint64 that fits is the same value as the int64.
                    ulong unsigned = reader.ReadUInt64();
                    return unsigned <= long.MaxValue ? FromInt64((long)unsigned) : FromUInt64(unsigned);
                }

                return FromInt64(reader.ReadInt64());
            case Lib.MessagePackType.Float:
                return FromDouble(reader.ReadDouble());
            case Lib.MessagePackType.String:
                return FromUtf8(UntrustedMessagePack.ReadStringSpan(ref reader, options));
            case Lib.MessagePackType.Binary:
                return FromBinary(UntrustedMessagePack.ReadBinarySpan(ref reader, options));
            case Lib.MessagePackType.Extension:
                var start = reader.Consumed;
                var header = reader.ReadExtensionFormatHeader();
                if (header.Length > options.MaxBinaryLength)
                {
                    throw new MessagePackFormatException($"extension of {header.Length} bytes exceeds the limit of {options.MaxBinaryLength}", start);
                }

                return FromExtension(header.TypeCode, reader.ReadRaw(header.Length).FirstSpan);
            case Lib.MessagePackType.Array:
                int count = reader.ReadArrayHeader();
                UntrustedMessagePack.EnterCollection(ref reader, options, count);
                var items = new MessagePackValue[count];
                for (int i = 0; i < items.Length; i++)
                {
                    items[i] = Read(ref reader, options);
                }

                UntrustedMessagePack.ExitCollection(ref reader);
                return new MessagePackValue(MessagePackType.Array, 0, isSigned: false, items);
            case Lib.MessagePackType.Map:
                int pairs = reader.ReadMapHeader();
                UntrustedMessagePack.EnterCollection(ref reader, options, pairs);
                var entries = new KeyValuePair<MessagePackValue, MessagePackValue>[pairs];
                for (int i = 0; i < entries.Length; i++)
                {
                    MessagePackValue key = Read(ref reader, options);
                    entries[i] = new(key, Read(ref reader, options));
                }

                UntrustedMessagePack.ExitCollection(ref reader);
                return new MessagePackValue(MessagePackType.Map, 0, isSigned: false, entries);
            default:
                throw new MessagePackFormatException($"invalid code 0x{reader.NextCode:x2}", reader.Consumed);
        }
    }

    public bool AsBoolean()
    {
        ThrowIfNot(MessagePackType.Boolean);
        return _bits != 0;
    }

    public long AsInt64()
    {
        ThrowIfNot(MessagePackType.Integer);
        if (!_isSigned && _bits > long.MaxValue)
        {
            throw new OverflowException($"{_bits} does not fit a signed 64-bit value.");
        }

        return (long)_bits;
    }

    public ulong AsUInt64()
    {
        ThrowIfNot(MessagePackType.Integer);
        if (_isSigned)
        {
            throw new OverflowException($"{(long)_bits} does not fit an unsigned 64-bit value.");
        }

        return _bits;
    }

    /// <summary>A float's value, or an integer's nearest double.</summary>
    public double AsDouble() => Type switch
    {
        MessagePackType.Float => BitConverter.UInt64BitsToDouble(_bits),
        MessagePackType.Integer => _isSigned ? (long)_bits : (double)_bits,
        _ => throw WrongType(MessagePackType.Float),
    };

    /// <summary>A str as a <see cref="string"/> (invalid UTF-8 becomes U+FFFD).</summary>
    public string AsString()
    {
        ThrowIfNot(MessagePackType.String);
        return System.Text.Encoding.UTF8.GetString((byte[])_payload!);
    }

    /// <summary>The UTF-8 bytes of a str, the bytes of a bin or the data of an extension.</summary>
    public ReadOnlySpan<byte> AsBytes() => Type is MessagePackType.String or MessagePackType.Binary or MessagePackType.Extension
        ? (byte[])_payload!
        : throw WrongType(MessagePackType.Binary);

    public IReadOnlyList<MessagePackValue> Items => Type == MessagePackType.Array
        ? (MessagePackValue[])_payload!
        : throw WrongType(MessagePackType.Array);

    public IReadOnlyList<KeyValuePair<MessagePackValue, MessagePackValue>> Entries => Type == MessagePackType.Map
        ? (KeyValuePair<MessagePackValue, MessagePackValue>[])_payload!
        : throw WrongType(MessagePackType.Map);

    /// <summary>Finds the value of the first entry whose key is the str <paramref name="key"/>.</summary>
    public bool TryGetValue(ReadOnlySpan<char> key, out MessagePackValue value)
    {
        Span<byte> utf8 = key.Length <= 128 ? stackalloc byte[key.Length * 3] : new byte[key.Length * 3];
        Utf8.FromUtf16(key, utf8, out _, out int written);
        utf8 = utf8[..written];
        foreach (KeyValuePair<MessagePackValue, MessagePackValue> entry in (KeyValuePair<MessagePackValue, MessagePackValue>[])Entries)
        {
            if (entry.Key.Type == MessagePackType.String && ((byte[])entry.Key._payload!).AsSpan().SequenceEqual(utf8))
            {
                value = entry.Value;
                return true;
            }
        }

        value = Nil;
        return false;
    }

    /// <summary>The value of the str key <paramref name="key"/>; throws <see cref="KeyNotFoundException"/> if absent.</summary>
    public MessagePackValue this[string key] => TryGetValue(key, out MessagePackValue value)
        ? value
        : throw new KeyNotFoundException($"The map has no key \"{key}\".");

    /// <summary>
    /// Writes this value with MessagePack-CSharp's writer (integers in their smallest encoding,
    /// floats as float 64). The caller flushes <paramref name="writer"/>.
    /// </summary>
    public void WriteTo(ref Lib.MessagePackWriter writer)
    {
        switch (Type)
        {
            case MessagePackType.Nil:
                writer.WriteNil();
                break;
            case MessagePackType.Boolean:
                writer.Write(_bits != 0);
                break;
            case MessagePackType.Integer:
                if (_isSigned)
                {
                    writer.Write((long)_bits);
                }
                else
                {
                    writer.Write(_bits);
                }

                break;
            case MessagePackType.Float:
                writer.Write(BitConverter.UInt64BitsToDouble(_bits));
                break;
            case MessagePackType.String:
                writer.WriteString(AsBytes());
                break;
            case MessagePackType.Binary:
                writer.Write(AsBytes());
                break;
            case MessagePackType.Extension:
                writer.WriteExtensionFormat(new Lib.ExtensionResult(ExtensionType, (byte[])_payload!));
                break;
            case MessagePackType.Array:
                writer.WriteArrayHeader(Items.Count);
                foreach (MessagePackValue item in (MessagePackValue[])_payload!)
                {
                    item.WriteTo(ref writer);
                }

                break;
            case MessagePackType.Map:
                writer.WriteMapHeader(Entries.Count);
                foreach (KeyValuePair<MessagePackValue, MessagePackValue> entry in (KeyValuePair<MessagePackValue, MessagePackValue>[])_payload!)
                {
                    entry.Key.WriteTo(ref writer);
                    entry.Value.WriteTo(ref writer);
                }

                break;
        }
    }

    /// <summary>This value's MessagePack bytes.</summary>
    public byte[] ToMessagePack()
    {
        using var buffer = new PooledBufferWriter();
        var writer = new Lib.MessagePackWriter(buffer);
        WriteTo(ref writer);
        writer.Flush();
        return buffer.ToArray();
    }

    public bool Equals(MessagePackValue? other)
    {
        if (ReferenceEquals(this, other))
        {
            return true;
        }

        if (other is null || other.Type != Type || other._bits != _bits || other._isSigned != _isSigned || other.ExtensionType != ExtensionType)
        {
            return false;
        }

        return _payload switch
        {
            null => true,
            byte[] bytes => bytes.AsSpan().SequenceEqual((byte[])other._payload!),
            MessagePackValue[] items => items.AsSpan().SequenceEqual((MessagePackValue[])other._payload!),
            _ => EntriesEqual((KeyValuePair<MessagePackValue, MessagePackValue>[])_payload, (KeyValuePair<MessagePackValue, MessagePackValue>[])other._payload!),
        };
    }

    public override bool Equals(object? obj) => Equals(obj as MessagePackValue);

    public override int GetHashCode()
    {
        var hash = default(HashCode);
        hash.Add(Type);
        hash.Add(_bits);
        if (_payload is byte[] bytes)
        {
            hash.AddBytes(bytes);
        }
        else if (_payload is MessagePackValue[] items)
        {
            hash.Add(items.Length);
        }

        return hash.ToHashCode();
    }

    /// <summary>The value as compact JSON (see <see cref="MessagePackJson"/>).</summary>
    public override string ToString()
    {
        return MessagePackJson.ToJson(ToMessagePack());
    }

    private static bool EntriesEqual(KeyValuePair<MessagePackValue, MessagePackValue>[] left, KeyValuePair<MessagePackValue, MessagePackValue>[] right)
    {
        if (left.Length != right.Length)
        {
            return false;
        }

        for (int i = 0; i < left.Length; i++)
        {
            if (!left[i].Key.Equals(right[i].Key) || !left[i].Value.Equals(right[i].Value))
            {
                return false;
            }
        }

        return true;
    }

    private void ThrowIfNot(MessagePackType expected)
    {
        if (Type != expected)
        {
            throw WrongType(expected);
        }
    }

    private InvalidOperationException WrongType(MessagePackType expected) =>
        new($"The value is {Type}, not {expected}.");
}
