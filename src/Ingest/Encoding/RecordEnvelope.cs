using System.Buffers.Binary;
using Ingest.Encoding.MessagePack;

namespace Ingest.Encoding;

/// <summary>
/// The Kafka record value around a batch (docs/wire-format.md):
/// <c>{"v":1,"host":str,"channel":str,"source":str,"events":[...]}</c>. Everything before the
/// events array is constant per source, so it is encoded once; the array header is the fixed
/// 5-byte array32 form so the count can be written when the batch closes.
/// </summary>
public sealed class RecordEnvelope
{
    public const int SchemaVersion = 1;
    public const string ContentType = "application/x-msgpack";

    private const int CountHeaderLength = 5;

    private readonly byte[] _prefix;

    public RecordEnvelope(string host, string channel, string source)
    {
        Host = host;
        Channel = channel;
        Source = source;
        var buffer = new byte[256 + (4 * (host.Length + channel.Length + source.Length))];
        var span = buffer.AsSpan();
        var n = MessagePackPrimitives.WriteMapHeader(span, 5);
        n += WriteString(span[n..], "v");
        n += MessagePackPrimitives.WriteInt64(span[n..], SchemaVersion);
        n += WriteString(span[n..], "host");
        n += WriteString(span[n..], host);
        n += WriteString(span[n..], "channel");
        n += WriteString(span[n..], channel);
        n += WriteString(span[n..], "source");
        n += WriteString(span[n..], source);
        n += WriteString(span[n..], "events");
        _prefix = buffer.AsSpan(0, n).ToArray();
        KeyUtf8 = System.Text.Encoding.UTF8.GetBytes(host);
    }

    public string Host { get; }

    public string Channel { get; }

    public string Source { get; }

    /// <summary>Record key: the host id, UTF-8.</summary>
    public byte[] KeyUtf8 { get; }

    public int Overhead => _prefix.Length + CountHeaderLength;

    /// <summary>Writes the envelope's prefix and the events array header for <paramref name="count"/> events; returns bytes written.</summary>
    public int WriteHeader(Span<byte> destination, int count)
    {
        _prefix.CopyTo(destination);
        destination[_prefix.Length] = global::MessagePack.MessagePackCode.Array32;
        BinaryPrimitives.WriteUInt32BigEndian(destination[(_prefix.Length + 1)..], (uint)count);
        return Overhead;
    }

    private static int WriteString(Span<byte> destination, string value)
    {
        var length = System.Text.Encoding.UTF8.GetByteCount(value);
        var n = MessagePackPrimitives.WriteStringHeader(destination, length);
        return n + System.Text.Encoding.UTF8.GetBytes(value, destination[n..]);
    }
}
