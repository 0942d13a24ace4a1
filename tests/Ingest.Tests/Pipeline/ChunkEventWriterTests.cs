using System.Threading.Channels;
using Ingest.Encoding.MessagePack;
using Ingest.Pipeline;
using Ingest.Tests.Encoding;
using Ingest.Transports.Events;

namespace Ingest.Tests.Pipeline;

/// <summary>
/// The hot-path encoder itself: what <see cref="ChunkEventWriter"/> puts in a chunk is read back by
/// MessagePack-CSharp (through <see cref="MessagePackValue"/>) and by python3-msgpack, at every
/// size boundary of str, bin, map and array headers and every integer width.
/// </summary>
public sealed class ChunkEventWriterTests
{
    private static readonly EventName Type = new("sample");

    [Fact]
    public void Events_read_back_as_written_by_the_library_and_by_python()
    {
        var (writer, edge) = Create();
        var longText = new string('é', 40_000); // 80,000 UTF-8 bytes: str32
        var bins = new[] { 0, 255, 256, 65_535, 65_536 }.Select(n => Enumerable.Range(0, n).Select(i => (byte)i).ToArray()).ToArray();
        var integers = new long[] { 0, 127, 128, -1, -32, -33, -128, -129, 255, 256, 65_535, 65_536, -32_768, -32_769, int.MaxValue, int.MinValue, uint.MaxValue, long.MaxValue, long.MinValue };

        writer.BeginEvent(Type, 1_700_000_000_123_456_789, 9);
        writer.WriteKey(new EventName("nil"));
        writer.WriteNil();
        writer.WriteKey(new EventName("yes"));
        writer.Write(true);
        writer.WriteKey(new EventName("big"));
        writer.Write(ulong.MaxValue);
        writer.WriteKey(new EventName("pi"));
        writer.Write(Math.PI);
        writer.WriteKey(new EventName("chars"));
        writer.WriteString("grüße ✓".AsSpan());
        writer.WriteKey(new EventName("long"));
        writer.WriteString(longText.AsSpan());
        writer.WriteKey(new EventName("name"));
        writer.Write(new EventName("a-name"));
        writer.WriteKey(new EventName("ints"));
        writer.WriteArrayHeader(integers.Length);
        foreach (var i in integers)
        {
            writer.Write(i);
        }

        writer.WriteKey(new EventName("bins"));
        writer.WriteMapHeader(bins.Length);
        foreach (var b in bins)
        {
            writer.Write((long)b.Length);
            writer.WriteBinary(b);
        }

        writer.EndEvent();

        // An event begun and cancelled leaves nothing behind.
        writer.BeginEvent(Type, 5, 1);
        writer.WriteString("half"u8);
        writer.CancelEvent();

        var wide = Enumerable.Range(0, 70_000).ToArray(); // array32 and map32 headers
        writer.BeginEvent(new EventName("wide"), -5, 2);
        writer.WriteString("list"u8);
        writer.WriteArrayHeader(wide.Length);
        foreach (var i in wide)
        {
            writer.Write((long)i);
        }

        writer.WriteString("map"u8);
        writer.WriteMapHeader(16);
        for (var i = 0; i < 16; i++)
        {
            writer.Write((long)i);
            writer.WriteNil();
        }

        writer.EndEvent();
        writer.Flush();

        Assert.True(edge.Reader.TryRead(out var chunk));
        Assert.Equal(2, chunk.Count);
        var document = WrapInArray(chunk.Span, chunk.Count);

        var events = MessagePackValue.Parse(document).Items;
        Assert.Equal(2, events.Count);
        Assert.Equal(Event(0, 1_700_000_000_123_456_789, "sample", Map(
            ("nil", MessagePackValue.Nil),
            ("yes", MessagePackValue.FromBoolean(true)),
            ("big", MessagePackValue.FromUInt64(ulong.MaxValue)),
            ("pi", MessagePackValue.FromDouble(Math.PI)),
            ("chars", MessagePackValue.FromString("grüße ✓")),
            ("long", MessagePackValue.FromString(longText)),
            ("name", MessagePackValue.FromString("a-name")),
            ("ints", MessagePackValue.FromArray(integers.Select(MessagePackValue.FromInt64).ToArray())),
            ("bins", MessagePackValue.FromMap(bins.Select(b => KeyValuePair.Create(MessagePackValue.FromInt64(b.Length), MessagePackValue.FromBinary(b))).ToArray())))), events[0]);
        // seq 1 went to the cancelled event: CancelEvent rolls back the bytes, not the sequence.
        Assert.Equal(Event(2, -5, "wide", Map(
            ("list", MessagePackValue.FromArray(wide.Select(i => MessagePackValue.FromInt64(i)).ToArray())),
            ("map", MessagePackValue.FromMap(Enumerable.Range(0, 16).Select(i => KeyValuePair.Create(MessagePackValue.FromInt64(i), MessagePackValue.Nil)).ToArray())))), events[1]);

        // An independent implementation reads the same document the same way.
        Assert.Equal(CanonicalJson.FromMessagePack(document), MessagePackPythonInteropTests.RunOracle(["decode"], document).TrimEnd('\n'));
        chunk.Return();
    }

    [Fact]
    public void Smallest_encodings_are_used()
    {
        var (writer, edge) = Create();
        writer.BeginEvent(Type, 1, 1);
        writer.WriteString("k"u8);
        writer.Write(1L);
        writer.EndEvent();
        writer.Flush();

        Assert.True(edge.Reader.TryRead(out var chunk));

        // fixmap(4) seq=0 ts=1 type="sample" data=fixmap(1){"k":1}
        Assert.Equal(
            Hex.Parse("84-a3-73-65-71-00-a2-74-73-01-a4-74-79-70-65-a6-73-61-6d-70-6c-65-a4-64-61-74-61-81-a1-6b-01"),
            chunk.Span.ToArray());
        chunk.Return();
    }

    private static (ChunkEventWriter Writer, Channel<EventChunk> Edge) Create()
    {
        var edge = Channel.CreateUnbounded<EventChunk>();
        var stats = new SourceStats("test", "chunk-writer", new CounterSet());
        return (new ChunkEventWriter(edge.Writer, WhenFull.Block, stats, 1 << 20, CancellationToken.None), edge);
    }

    private static byte[] WrapInArray(ReadOnlySpan<byte> events, int count)
    {
        var document = new byte[5 + events.Length];
        document[0] = 0xdd; // array32
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(document.AsSpan(1), (uint)count);
        events.CopyTo(document.AsSpan(5));
        return document;
    }

    private static MessagePackValue Map(params (string Key, MessagePackValue Value)[] entries) =>
        MessagePackValue.FromMap(entries.Select(e => KeyValuePair.Create(MessagePackValue.FromString(e.Key), e.Value)).ToArray());

    private static MessagePackValue Event(long seq, long ts, string type, MessagePackValue data) =>
        Map(("seq", MessagePackValue.FromInt64(seq)), ("ts", MessagePackValue.FromInt64(ts)), ("type", MessagePackValue.FromString(type)), ("data", data));
}
