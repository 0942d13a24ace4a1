using System.Buffers;
using System.Threading.Channels;
using Ingest.Encoding.MessagePack;
using Ingest.Pipeline;
using Ingest.Tests.Encoding;
using Ingest.Transports.Events;
using MessagePackReader = global::MessagePack.MessagePackReader;

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

    [Fact]
    public void A_full_chunk_is_handed_over_at_its_rented_size_and_the_open_event_moves_on_whole()
    {
        const int ChunkBytes = 1024;
        var edge = Channel.CreateUnbounded<EventChunk>();
        var stats = new SourceStats("test", "chunk-writer", new CounterSet());
        var writer = new ChunkEventWriter(edge.Writer, WhenFull.Block, stats, ChunkBytes, CancellationToken.None);
        var payloads = Enumerable.Range(0, 40).Select(i => Enumerable.Repeat((byte)i, 100 + i).ToArray()).ToList();
        foreach (var payload in payloads)
        {
            writer.BeginEvent(Type, payload.Length, 2);
            writer.WriteString("src"u8);
            writer.WriteString("127.0.0.1:9"u8);
            writer.WriteString("payload"u8);
            writer.WriteBinary(payload);
            writer.EndEvent();
        }

        writer.Flush();

        var chunks = new List<EventChunk>();
        while (edge.Reader.TryRead(out var chunk))
        {
            chunks.Add(chunk);
        }

        // Every chunk but the last was handed over when the next event did not fit: none grew
        // past the buffer it was rented with (a grow copies the chunk and doubles it).
        Assert.True(chunks.Count > 3, $"{chunks.Count} chunks");
        Assert.All(chunks, c => Assert.Equal(ChunkBytes, c.Buffer.Length));
        Assert.All(chunks.SkipLast(1), c => Assert.True(c.Length > ChunkBytes - 200, $"chunk of {c.Length} bytes"));
        Assert.Equal(payloads.Count, chunks.Sum(c => c.Count));
        Assert.Equal(payloads.Count, stats.Received);

        // Events split across the hand-overs read back whole, in order, with their sequence numbers.
        var events = chunks.SelectMany(c => MessagePackValue.Parse(WrapInArray(c.Span, c.Count)).Items).ToList();
        Assert.Equal(
            payloads.Select((p, i) => Event(i, p.Length, "sample", Map(("src", MessagePackValue.FromString("127.0.0.1:9")), ("payload", MessagePackValue.FromBinary(p))))),
            events);
        chunks.ForEach(c => c.Return());
    }

    [Theory]
    [InlineData(31)]
    [InlineData(32)]
    [InlineData(33)]
    public void Random_values_read_back_by_the_library_and_by_python(int seed)
    {
        // Random values (every integer width, str/bin/array/map boundary, float) written through
        // the EventWriter calls, one per event; the expectation comes from the generator, not a reader.
        var random = new Random(seed);
        var (writer, edge) = Create();
        var expected = new List<string>();
        for (var e = 0; e < 40; e++)
        {
            var (_, canonical, value) = MessagePackRoundTripTests.Generate(random, extensions: false);
            writer.BeginEvent(Type, e, 1);
            writer.WriteString("v"u8);
            WriteValue(writer, value, chars: random.Next(2) == 0);
            writer.EndEvent();
            expected.Add(canonical);
        }

        writer.Flush();
        var document = new List<byte>();
        var count = 0;
        while (edge.Reader.TryRead(out var chunk))
        {
            document.AddRange(chunk.Span.ToArray());
            count += chunk.Count;
            chunk.Return();
        }

        Assert.Equal(40, count);
        var events = WrapInArray(document.ToArray(), count);
        var values = new List<string>();
        var reader = new MessagePackReader(events);
        Assert.Equal(40, reader.ReadArrayHeader());
        for (var e = 0; e < 40; e++)
        {
            values.Add(CanonicalJson.FromMessagePack(DataValue(ref reader)));
        }

        Assert.Equal(expected, values);

        // python3-msgpack reads the same chunk: each event's data.v in canonical form.
        var python = MessagePackPythonInteropTests.RunOracle(["decode"], events).TrimEnd('\n');
        Assert.Equal(CanonicalJson.FromMessagePack(events), python);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(10)]
    [InlineData(11)]
    [InlineData(31)]
    [InlineData(32)]
    [InlineData(85)]
    [InlineData(86)]
    [InlineData(255)]
    [InlineData(256)]
    [InlineData(21845)]
    [InlineData(21846)]
    [InlineData(65536)]
    public void Strings_from_chars_are_header_plus_utf8_at_every_header_size(int chars)
    {
        // WriteString(chars) encodes after room for the largest header and moves the bytes when a
        // smaller header fits: lengths straddle those points for 1, 2 and 3 UTF-8 bytes per char
        // (a lone surrogate becomes U+FFFD, 3 bytes).
        foreach (var sample in new[] { 'a', '\u0416', '\u6f22', '\ud800' })
        {
            var text = new string(sample, chars);
            var utf8 = System.Text.Encoding.UTF8.GetBytes(text);
            var header = new byte[MessagePackPrimitives.MaxHeaderLength];
            var headerLength = MessagePackPrimitives.WriteStringHeader(header, utf8.Length);
            Assert.Equal([.. header.AsSpan(0, headerLength), .. utf8], EncodeAsEventData(MessagePackValue.FromString(text)));
        }
    }

    /// <summary>What <see cref="ChunkEventWriter"/> writes for <paramref name="value"/> as an event's data field "v".</summary>
    internal static byte[] EncodeAsEventData(MessagePackValue value)
    {
        var (writer, edge) = Create();
        writer.BeginEvent(Type, 1, 1);
        writer.WriteString("v"u8);
        WriteValue(writer, value, chars: true);
        writer.EndEvent();
        writer.Flush();
        Assert.True(edge.Reader.TryRead(out var chunk));
        var reader = new MessagePackReader(chunk.Span.ToArray());
        var data = DataValue(ref reader);
        Assert.True(reader.End);
        chunk.Return();
        return data;
    }

    /// <summary>Reads one event map and returns the raw bytes of its data's only field.</summary>
    private static byte[] DataValue(ref MessagePackReader reader)
    {
        byte[]? data = null;
        var fields = reader.ReadMapHeader();
        for (var i = 0; i < fields; i++)
        {
            if (reader.ReadString() == "data")
            {
                Assert.Equal(1, reader.ReadMapHeader());
                Assert.Equal("v", reader.ReadString());
                data = reader.ReadRaw().ToArray();
            }
            else
            {
                reader.Skip();
            }
        }

        return data ?? throw new InvalidDataException("no data field");
    }

    /// <summary>Writes a tree through the EventWriter calls (no extensions: EventWriter has none).</summary>
    private static void WriteValue(EventWriter writer, MessagePackValue value, bool chars)
    {
        switch (value.Type)
        {
            case MessagePackType.Nil:
                writer.WriteNil();
                break;
            case MessagePackType.Boolean:
                writer.Write(value.AsBoolean());
                break;
            case MessagePackType.Integer:
                if (value.AsDouble() >= 0)
                {
                    writer.Write(value.AsUInt64());
                }
                else
                {
                    writer.Write(value.AsInt64());
                }

                break;
            case MessagePackType.Float:
                writer.Write(value.AsDouble());
                break;
            case MessagePackType.String:
                if (chars)
                {
                    writer.WriteString(value.AsString().AsSpan());
                }
                else
                {
                    writer.WriteString(value.AsBytes());
                }

                break;
            case MessagePackType.Binary:
                writer.WriteBinary(value.AsBytes());
                break;
            case MessagePackType.Array:
                writer.WriteArrayHeader(value.Items.Count);
                foreach (var item in value.Items)
                {
                    WriteValue(writer, item, chars);
                }

                break;
            case MessagePackType.Map:
                writer.WriteMapHeader(value.Entries.Count);
                foreach (var entry in value.Entries)
                {
                    WriteValue(writer, entry.Key, chars);
                    WriteValue(writer, entry.Value, chars);
                }

                break;
            default:
                throw new ArgumentException($"an EventWriter cannot write {value.Type}", nameof(value));
        }
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
