using System.Buffers;
using System.Buffers.Binary;
using Utf8 = System.Text.Encoding;

namespace Ingest.Spool;

/// <summary>
/// A pipeline record as a spool frame's payload: everything needed to publish it again after a
/// restart, and to count it against its source.
/// <c>version u8 | count i32 | channel | source | topic (u16 length + UTF-8 each) | key (u16 length + bytes) | value</c>.
/// </summary>
public sealed class SpooledRecord(string channel, string source, string topic, byte[] key, byte[] value, int count)
{
    private const byte Version = 1;

    public string Channel { get; } = channel;

    public string Source { get; } = source;

    public string Topic { get; } = topic;

    public byte[] Key { get; } = key;

    public byte[] Value { get; } = value;

    public int Count { get; } = count;

    /// <summary>Encodes into a pooled buffer; return it to <see cref="ArrayPool{T}.Shared"/> after use.</summary>
    public static byte[] Encode(string channel, string source, string topic, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, int count, out int length)
    {
        length = 1 + 4 + 8 + Utf8.UTF8.GetByteCount(channel) + Utf8.UTF8.GetByteCount(source) + Utf8.UTF8.GetByteCount(topic) + key.Length + value.Length;
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        var span = buffer.AsSpan();
        span[0] = Version;
        BinaryPrimitives.WriteInt32LittleEndian(span[1..], count);
        var n = 5;
        n += WriteString(span[n..], channel);
        n += WriteString(span[n..], source);
        n += WriteString(span[n..], topic);
        BinaryPrimitives.WriteUInt16LittleEndian(span[n..], checked((ushort)key.Length));
        n += 2;
        key.CopyTo(span[n..]);
        n += key.Length;
        value.CopyTo(span[n..]);
        length = n + value.Length;
        return buffer;
    }

    /// <summary>Decodes a payload; null when it is not a record this version wrote (counted as damage by the caller).</summary>
    public static SpooledRecord? Decode(ReadOnlySpan<byte> payload)
    {
        try
        {
            if (payload.Length < 13 || payload[0] != Version)
            {
                return null;
            }

            var count = BinaryPrimitives.ReadInt32LittleEndian(payload[1..]);
            var n = 5;
            var channel = ReadString(payload, ref n);
            var source = ReadString(payload, ref n);
            var topic = ReadString(payload, ref n);
            var keyLength = BinaryPrimitives.ReadUInt16LittleEndian(payload[n..]);
            n += 2;
            var key = payload.Slice(n, keyLength).ToArray();
            n += keyLength;
            return count < 0 || topic.Length == 0 ? null : new SpooledRecord(channel, source, topic, key, payload[n..].ToArray(), count);
        }
        catch (ArgumentOutOfRangeException)
        {
            return null;
        }
    }

    private static int WriteString(Span<byte> destination, string value)
    {
        var written = Utf8.UTF8.GetBytes(value, destination[2..]);
        BinaryPrimitives.WriteUInt16LittleEndian(destination, checked((ushort)written));
        return 2 + written;
    }

    private static string ReadString(ReadOnlySpan<byte> payload, ref int n)
    {
        var length = BinaryPrimitives.ReadUInt16LittleEndian(payload[n..]);
        var value = Utf8.UTF8.GetString(payload.Slice(n + 2, length));
        n += 2 + length;
        return value;
    }
}
