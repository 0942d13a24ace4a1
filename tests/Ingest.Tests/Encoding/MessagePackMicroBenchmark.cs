using System.Diagnostics;
using System.Runtime.CompilerServices;
using Ingest.Encoding.MessagePack;
using Lib = global::MessagePack;

namespace Ingest.Tests.Encoding;

/// <summary>
/// Stopwatch micro benchmarks of the hot path's span primitives and the library reads the fleet view makes, in ns per operation. Figures for
/// reports only, never asserted; a BenchmarkDotNet project in bench/ can call the same bodies.
/// Run: <c>dotnet test tests/Ingest.Tests --filter FullyQualifiedName~MessagePackMicroBenchmark -- xUnit.Explicit=only</c>
/// (or the test executable with <c>-method "*MessagePackMicroBenchmark*" -explicit only</c>).
/// </summary>
public class MessagePackMicroBenchmark(ITestOutputHelper output)
{
    private const int Iterations = 20_000_000;

    private static readonly long[] s_values = [5, -7, 200, 70_000, -70_000, 1L << 40, -(1L << 40), 1_763_779_393_000_000_000];

    [Fact(Explicit = true)]
    public void Report()
    {
        Measure("WriteInt64 (mixed widths)", WriteInt64);
        Measure("WriteString primitive: header + copy of \"eth0\" UTF-8", WriteShortUtf8String);
        Measure("MessagePack-CSharp ReadInt64 (mixed widths)", ReadInt64);
        Measure("Bounded skip (fleet view) of a 6-field event map", SkipEvent);
    }

    [Fact]
    public void HotOperationsDoNotAllocate()
    {
        // Allocation is behaviour, not timing: the per-event primitives, and the library reads the
        // fleet view makes per heartbeat, must stay at zero.
        // Warm-up long enough to pass tiered compilation's promotion: the library reader's skip
        // allocates 40 bytes once on the way (measured), never per call.
        WriteInt64(100_000);
        WriteShortUtf8String(100_000);
        ReadInt64(100_000);
        SkipEvent(100_000);

        long before = GC.GetAllocatedBytesForCurrentThread();
        WriteInt64(100_000);
        WriteShortUtf8String(100_000);
        ReadInt64(100_000);
        SkipEvent(100_000);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private void Measure(string name, Func<int, long> body)
    {
        body(Iterations / 10); // warm up through tiered compilation
        long ticks = long.MaxValue;
        for (int run = 0; run < 3; run++)
        {
            var stopwatch = Stopwatch.StartNew();
            body(Iterations);
            ticks = Math.Min(ticks, stopwatch.ElapsedTicks);
        }

        double ns = ticks * (1e9 / Stopwatch.Frequency) / Iterations;
        output.WriteLine($"{name,-60} {ns,8:F2} ns/op");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long WriteInt64(int iterations)
    {
        Span<byte> buffer = stackalloc byte[MessagePackPrimitives.MaxHeaderLength];
        long total = 0;
        for (int i = 0; i < iterations; i++)
        {
            total += MessagePackPrimitives.WriteInt64(buffer, s_values[i & 7]);
        }

        return total;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long WriteShortUtf8String(int iterations)
    {
        Span<byte> buffer = stackalloc byte[64];
        ReadOnlySpan<byte> value = "eth0"u8;
        long total = 0;
        for (int i = 0; i < iterations; i++)
        {
            int written = MessagePackPrimitives.WriteStringHeader(buffer, value.Length);
            value.CopyTo(buffer[written..]);
            total += written + value.Length;
        }

        return total;
    }

    private static readonly byte[] s_integers = EncodeIntegers();

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long ReadInt64(int iterations)
    {
        long total = 0;
        var reader = new Lib.MessagePackReader(s_integers);
        for (int i = 0; i < iterations; i++)
        {
            if (reader.End)
            {
                reader = new Lib.MessagePackReader(s_integers);
            }

            total += reader.ReadInt64();
        }

        return total;
    }

    private static readonly byte[] s_event = EncodeEvent();

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long SkipEvent(int iterations)
    {
        long total = 0;
        for (int i = 0; i < iterations; i++)
        {
            var reader = new Lib.MessagePackReader(s_event);
            UntrustedMessagePack.Skip(ref reader, MessagePackReaderOptions.Default);
            total += reader.Consumed;
        }

        return total;
    }

    private static byte[] EncodeIntegers() => Msgpack.Build(static (ref Lib.MessagePackWriter writer) =>
    {
        foreach (long value in s_values)
        {
            writer.Write(value);
        }
    });

    private static byte[] EncodeEvent() => Msgpack.Build(static (ref Lib.MessagePackWriter writer) =>
    {
        writer.WriteMapHeader(6);
        writer.Write("type");
        writer.Write("netlink.link");
        writer.Write("seq");
        writer.Write(123_456UL);
        writer.Write("ts");
        writer.Write(1_763_779_393_000_000_000L);
        writer.Write("ifname");
        writer.Write("eth0");
        writer.Write("flags");
        writer.WriteArrayHeader(2);
        writer.Write("UP");
        writer.Write("RUNNING");
        writer.Write("mtu");
        writer.Write(1500L);
    });
}
