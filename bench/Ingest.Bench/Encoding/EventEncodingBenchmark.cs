using System.Buffers;
using System.Diagnostics;
using Ingest.Encoding.MessagePack;
using LibraryWriter = global::MessagePack.MessagePackWriter;

namespace Ingest.Bench.Encoding;

/// <summary>
/// The hot path's encoding alone, side by side on one thread: the UDP event ChunkEventWriter
/// writes (fixmap of seq, ts, type, data{src, payload}) encoded with the span primitives it
/// uses, and with MessagePack-CSharp's MessagePackWriter the way ChunkEventWriter would have to
/// use it (the writer is a ref struct, so one per EventWriter call over an IBufferWriter on the
/// chunk's buffer, flushed at the end of each call). Decides issue 12's 3 % rule.
/// </summary>
public sealed class EventEncodingBenchmark : IBenchmark
{
    private const int Events = 2_000_000;
    private const int ChunkBytes = 256 * 1024;

    private static readonly byte[] Type = "datagram"u8.ToArray();
    private static readonly byte[] Src = "src"u8.ToArray();
    private static readonly byte[] PayloadKey = "payload"u8.ToArray();
    private static readonly byte[] Address = "10.1.2.3:40000"u8.ToArray();
    private static readonly byte[] Payload = new byte[64];

    public string Name => "event-encode";

    public string Description => "UDP event encoding: span primitives vs MessagePack-CSharp MessagePackWriter, one thread";

    public async Task RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        var buffer = new ChunkBuffer(ChunkBytes + 1024);
        Check(buffer);
        var samples = await context.RepeatAsync("event-encode", _ => Task.FromResult((Primitives: Once(buffer, EncodePrimitives), Library: Once(buffer, EncodeLibrary)))).ConfigureAwait(false);
        var primitives = BenchContext.Median(samples.Select(s => s.Primitives));
        var library = BenchContext.Median(samples.Select(s => s.Library));
        context.Report.Add("event-encode", "span primitives (ChunkEventWriter today)", primitives, "ns/event");
        context.Report.Add("event-encode", "MessagePack-CSharp MessagePackWriter", library, "ns/event", $"{library / primitives:F2}x the primitives ({((library / primitives) - 1) * 100:+0.0;-0.0} %)");
    }

    /// <summary>Both encoders must produce the same bytes, or the comparison means nothing.</summary>
    private static void Check(ChunkBuffer buffer)
    {
        buffer.Reset();
        EncodePrimitives(buffer, 12345);
        var a = buffer.WrittenSpan.ToArray();
        buffer.Reset();
        EncodeLibrary(buffer, 12345);
        if (!a.AsSpan().SequenceEqual(buffer.WrittenSpan))
        {
            throw new InvalidOperationException($"event-encode: encodings differ: {Convert.ToHexString(a)} vs {Convert.ToHexString(buffer.WrittenSpan)}");
        }
    }

    private static double Once(ChunkBuffer buffer, Action<ChunkBuffer, ulong> encode)
    {
        buffer.Reset();
        var clock = Stopwatch.StartNew();
        for (ulong seq = 0; seq < Events; seq++)
        {
            encode(buffer, seq);
            if (buffer.Length >= ChunkBytes)
            {
                buffer.Reset();
            }
        }

        return clock.Elapsed.TotalNanoseconds / Events;
    }

    // ChunkEventWriter.BeginEvent + WriteString + WriteBinary, as written there.
    private static void EncodePrimitives(ChunkBuffer chunk, ulong seq)
    {
        var span = chunk.GetSpan(5 + 9 + 3 + 9 + 5 + 5 + Type.Length + 5 + 5);
        var n = 0;
        span[n++] = 0x84;
        n += WriteFixStr(span[n..], "seq"u8);
        n += MessagePackPrimitives.WriteUInt64(span[n..], seq);
        n += WriteFixStr(span[n..], "ts"u8);
        n += MessagePackPrimitives.WriteInt64(span[n..], 1_700_000_000_000_000_000 + (long)seq);
        n += WriteFixStr(span[n..], "type"u8);
        n += MessagePackPrimitives.WriteStringHeader(span[n..], Type.Length);
        Type.CopyTo(span[n..]);
        n += Type.Length;
        n += WriteFixStr(span[n..], "data"u8);
        n += MessagePackPrimitives.WriteMapHeader(span[n..], 2);
        chunk.Advance(n);

        WriteUtf8(chunk, Src);
        WriteUtf8(chunk, Address);
        WriteUtf8(chunk, PayloadKey);
        span = chunk.GetSpan(5 + Payload.Length);
        n = MessagePackPrimitives.WriteBinaryHeader(span, Payload.Length);
        Payload.CopyTo(span[n..]);
        chunk.Advance(n + Payload.Length);
    }

    private static void WriteUtf8(ChunkBuffer chunk, ReadOnlySpan<byte> utf8)
    {
        var span = chunk.GetSpan(5 + utf8.Length);
        var n = MessagePackPrimitives.WriteStringHeader(span, utf8.Length);
        utf8.CopyTo(span[n..]);
        chunk.Advance(n + utf8.Length);
    }

    private static int WriteFixStr(Span<byte> span, ReadOnlySpan<byte> utf8)
    {
        span[0] = (byte)(0xa0 | utf8.Length);
        utf8.CopyTo(span[1..]);
        return 1 + utf8.Length;
    }

    // The same event through MessagePackWriter: one writer per EventWriter call.
    private static void EncodeLibrary(ChunkBuffer chunk, ulong seq)
    {
        var w = new LibraryWriter(chunk);
        w.WriteMapHeader(4);
        w.WriteString("seq"u8);
        w.Write(seq);
        w.WriteString("ts"u8);
        w.Write(1_700_000_000_000_000_000 + (long)seq);
        w.WriteString("type"u8);
        w.WriteString(Type);
        w.WriteString("data"u8);
        w.WriteMapHeader(2);
        w.Flush();

        WriteLibraryUtf8(chunk, Src);
        WriteLibraryUtf8(chunk, Address);
        WriteLibraryUtf8(chunk, PayloadKey);
        w = new LibraryWriter(chunk);
        w.Write(Payload.AsSpan());
        w.Flush();
    }

    private static void WriteLibraryUtf8(ChunkBuffer chunk, ReadOnlySpan<byte> utf8)
    {
        var w = new LibraryWriter(chunk);
        w.WriteString(utf8);
        w.Flush();
    }

    /// <summary>A chunk's buffer as an IBufferWriter, as ChunkEventWriter would expose it to the library.</summary>
    private sealed class ChunkBuffer(int capacity) : IBufferWriter<byte>
    {
        private readonly byte[] _buffer = new byte[capacity];

        public int Length { get; private set; }

        public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, Length);

        public void Reset() => Length = 0;

        public void Advance(int count) => Length += count;

        public Memory<byte> GetMemory(int sizeHint = 0) => _buffer.AsMemory(Length);

        public Span<byte> GetSpan(int sizeHint = 0) => _buffer.AsSpan(Length);
    }
}
