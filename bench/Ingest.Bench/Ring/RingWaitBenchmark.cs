using System.Diagnostics;
using Ingest.Bench.Support;
using Ingest.Configuration;
using Ingest.Daemon;
using Ingest.Transports.Ring;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ingest.Bench.Ring;

/// <summary>
/// Ring ABI 1 against ABI 2, side by side: the same user-space ring and daemon, the consumer waiting
/// either on the published (acknowledged) consumer position, as ABI 1's poll and KINGEST_IOC_WAIT
/// let it (<see cref="RingWaitSemantics.PublishedPosition"/>: a 1 ms sleep loop while records are
/// in flight), or on its read position, as KINGEST_IOC_WAIT_READ does
/// (<see cref="RingWaitSemantics.ReadPosition"/>). Per mode, one daemon into the embedded broker:
/// CPU while the ring is idle, event-to-Kafka-ack latency (producer publish to the broker's
/// acknowledgement reaching the source) at 10 events/s and at 1,000,000 events/s with the default
/// linger, the reader thread's CPU at 10 events/s, and the 1 M/s rate achieved.
/// </summary>
/// <remarks>
/// Durations: INGEST_BENCH_IDLE_SECONDS (60), INGEST_BENCH_LOW_RATE_SECONDS (30),
/// INGEST_BENCH_HIGH_RATE_SECONDS (3, repeated --runs times). The process CPU includes the embedded
/// broker and librdkafka, which a production daemon does not host; the reader thread's CPU is what
/// the ABI changes.
/// </remarks>
public sealed class RingWaitBenchmark : IBenchmark
{
    private const ulong RingBytes = 16UL << 20;
    private static readonly int IdleSeconds = Setting("INGEST_BENCH_IDLE_SECONDS", 60);
    private static readonly int LowRateSeconds = Setting("INGEST_BENCH_LOW_RATE_SECONDS", 30);
    private static readonly int HighRateSeconds = Setting("INGEST_BENCH_HIGH_RATE_SECONDS", 3);

    private static readonly int DefaultLingerMs = new Ingest.Pipeline.BatchOptions().LingerMs;
    private static readonly string DefaultKafkaLinger = Ingest.Sinks.Kafka.KafkaRecordSink.BuildConfig(new Ingest.Sinks.Kafka.KafkaProducerOptions { BootstrapServers = "-" })["linger.ms"];

    public string Name => "ring-wait";

    public string Description => "ring ABI 1 vs 2 wait: idle CPU, event-to-ack latency at 10/s and 1 M/s";

    public async Task RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        var results = new Dictionary<RingWaitSemantics, ModeResult>();
        foreach (var mode in (RingWaitSemantics[])[RingWaitSemantics.PublishedPosition, RingWaitSemantics.ReadPosition])
        {
            results[mode] = await RunModeAsync(context, new Variant(mode, DefaultLingerMs, KafkaLingerMs: null, Full: true), cancellationToken).ConfigureAwait(false);
        }

        // Where ABI 2's low-rate latency goes: the same daemon with librdkafka lingering on top of
        // the batcher (its 5 ms, the producer default before), and with neither lingering (the
        // floor: ring wake-up, pipeline, produce, broker acknowledgement, delivery report).
        var kafkaLinger = await RunModeAsync(context, new Variant(RingWaitSemantics.ReadPosition, DefaultLingerMs, KafkaLingerMs: "5", Full: false), cancellationToken).ConfigureAwait(false);
        var floor = await RunModeAsync(context, new Variant(RingWaitSemantics.ReadPosition, 0, KafkaLingerMs: "0", Full: false), cancellationToken).ConfigureAwait(false);

        const string name = "ring wait (ABI 1 published position | ABI 2 read position)";
        var v1 = results[RingWaitSemantics.PublishedPosition];
        var v2 = results[RingWaitSemantics.ReadPosition];
        void Pair(string what, Func<ModeResult, double> pick, string unit, string note)
        {
            context.Report.Add(name, what + ", ABI 1", pick(v1), unit, note);
            context.Report.Add(name, what + ", ABI 2", pick(v2), unit, note);
        }

        string defaults = $"batcher linger {DefaultLingerMs} ms, librdkafka linger.ms {DefaultKafkaLinger} (defaults)";
        Pair("idle: reader thread CPU", r => r.IdleReaderCpuMsPerS, "ms/s", $"{IdleSeconds} s, nothing produced; target < 1");
        Pair("idle: process CPU", r => r.IdleProcessCpuMsPerS, "ms/s", "daemon + embedded broker + librdkafka in one process");
        Pair("10/s: p50 event-to-ack", r => r.Low.P50, "ms", $"{LowRateSeconds} s at 10 events/s, {defaults}");
        Pair("10/s: p99 event-to-ack", r => r.Low.P99, "ms", "target < 30");
        Pair("10/s: reader thread CPU", r => r.LowReaderCpuMsPerS, "ms/s", "the reader while each event is in flight");
        Pair("1 M/s: p50 event-to-ack", r => r.High.P50, "ms", $"median of {context.Runs} runs of {HighRateSeconds} s");
        Pair("1 M/s: p99 event-to-ack", r => r.High.P99, "ms", $"median of {context.Runs} runs");
        Pair("1 M/s: rate achieved", r => r.HighRate, "events/s", "paced producer, all acknowledged");
        context.Report.Add(name, "10/s p99, ABI 2 / ABI 1", v2.Low.P99 / v1.Low.P99 * 100, "%", "lower is better");
        context.Report.Add(name, "10/s reader CPU, ABI 2 / ABI 1", v2.LowReaderCpuMsPerS / Math.Max(v1.LowReaderCpuMsPerS, 1e-9) * 100, "%", "lower is better");

        const string parts = "ring wait ABI 2 at 10 events/s: where the latency goes";
        context.Report.Add(parts, "p50, floor: no linger at all", floor.Low.P50, "ms", $"p99 {floor.Low.P99:F1} ms: ring wake-up, pipeline, produce, broker ack, delivery report");
        context.Report.Add(parts, $"p50, + batcher linger {DefaultLingerMs} ms (defaults)", v2.Low.P50, "ms", $"p99 {v2.Low.P99:F1} ms; librdkafka linger.ms {DefaultKafkaLinger}");
        context.Report.Add(parts, "p50, + librdkafka linger.ms 5 on top", kafkaLinger.Low.P50, "ms", $"p99 {kafkaLinger.Low.P99:F1} ms; the producer default before: a second linger after the batcher's");
        context.Report.Add(parts, "batcher linger's share, p50", v2.Low.P50 - floor.Low.P50, "ms", $"nominal {DefaultLingerMs} ms, armed up to one 4 ms clock tick early; the rest is timer and thread-pool wake-up");
        context.Report.Add(parts, "librdkafka linger's share, p50", kafkaLinger.Low.P50 - v2.Low.P50, "ms", "waste: the record is already a batch");
    }

    private static async Task<ModeResult> RunModeAsync(BenchContext context, Variant variant, CancellationToken cancellationToken)
    {
        var mode = variant.Mode;
        using var ring = new MemoryRing(RingBytes);
        var source = new AckTimingSource(new RingSource(ring.OpenConsumerMapping(mode)));
        var options = new IngestOptions
        {
            HostId = "bench",
            Udp = { Enabled = false },
            Proc = { Enabled = false },
            Netlink = { Enabled = false },
            Signals = { Enabled = false },
            Upcall = { Enabled = false },
            Ring = { Enabled = "off" }, // the benchmark adds its own memory ring
            // Its own spool folder: the default one may be locked by a daemon running on the machine.
            Spool = { Directory = Path.Combine(Path.GetTempPath(), $"ingest-bench-ringwait-spool-{Guid.NewGuid():N}") },
            Stats = { IntervalSeconds = 0, ControlSocket = Path.Combine(Path.GetTempPath(), $"ingest-bench-ringwait-{Environment.ProcessId}.sock") },
        };
        options.Pipeline.Batch.LingerMs = variant.BatchLingerMs;
        if (variant.KafkaLingerMs is { } kafkaLinger)
        {
            options.Kafka.Properties["linger.ms"] = kafkaLinger;
        }

        string label = variant.Full ? mode.ToString() : $"{mode}, batcher linger {variant.BatchLingerMs} ms, linger.ms {variant.KafkaLingerMs ?? DefaultKafkaLinger}";
        var daemon = new IngestDaemon(options, NullLoggerFactory.Instance, TextWriter.Null);
        daemon.ExtraSources.Add(source);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var running = await InProcessDaemon.StartAsync(daemon, stop.Token, cancellationToken).ConfigureAwait(false);

        var producer = new RingProducer(ring);

        // Warm-up: a short burst so the broker connection, topic metadata and JIT are ready.
        var warm = new PacedLoad(producer, 100_000, TimeSpan.FromSeconds(1), sampleEvery: 1000).Run();
        await source.WaitForAsync(warm.EndPosition, TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
        await Task.Delay(500, cancellationToken).ConfigureAwait(false);

        var reader = ReaderThread.Find();
        var (idleReader, idleProcess) = (double.NaN, double.NaN);
        if (variant.Full)
        {
            context.Progress($"ring-wait {label}: idle {IdleSeconds} s");
            (idleReader, idleProcess) = await MeasureCpuAsync(reader, TimeSpan.FromSeconds(IdleSeconds), cancellationToken).ConfigureAwait(false);
        }

        context.Progress($"ring-wait {label}: 10 events/s for {LowRateSeconds} s");
        long readerBefore = reader.CpuNs();
        var lowWatch = Stopwatch.StartNew();
        var low = await Task.Run(() => new PacedLoad(producer, 10, TimeSpan.FromSeconds(LowRateSeconds), sampleEvery: 1).Run(), cancellationToken).ConfigureAwait(false);
        await source.WaitForAsync(low.EndPosition, TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
        double lowReaderCpu = (reader.CpuNs() - readerBefore) / 1e6 / lowWatch.Elapsed.TotalSeconds;
        var lowLatency = Percentiles(source.Latencies(low.Samples));

        var highRuns = new List<(Percentile Latency, double Rate)>();
        for (int i = 0; variant.Full && i < context.Runs; i++)
        {
            context.Progress($"ring-wait {label}: 1,000,000 events/s for {HighRateSeconds} s, run {i + 1}/{context.Runs}");
            var high = await Task.Run(() => new PacedLoad(producer, 1_000_000, TimeSpan.FromSeconds(HighRateSeconds), sampleEvery: 1000).Run(), cancellationToken).ConfigureAwait(false);
            await source.WaitForAsync(high.EndPosition, TimeSpan.FromSeconds(120), cancellationToken).ConfigureAwait(false);
            highRuns.Add((Percentiles(source.Latencies(high.Samples)), high.Rate));
            await Task.Delay(500, cancellationToken).ConfigureAwait(false);
        }

        await stop.CancelAsync().ConfigureAwait(false);
        await running.ConfigureAwait(false);
        var result = new ModeResult(
            idleReader,
            idleProcess,
            lowLatency,
            lowReaderCpu,
            new Percentile(BenchContext.Median(highRuns.Select(r => r.Latency.P50)), BenchContext.Median(highRuns.Select(r => r.Latency.P99))),
            BenchContext.Median(highRuns.Select(r => r.Rate)));
        context.Progress($"ring-wait {label}: idle reader {result.IdleReaderCpuMsPerS:F3} ms/s, process {result.IdleProcessCpuMsPerS:F1} ms/s; "
            + $"10/s p50 {lowLatency.P50:F1} p99 {lowLatency.P99:F1} ms, reader {lowReaderCpu:F3} ms/s; 1M/s p50 {result.High.P50:F1} p99 {result.High.P99:F1} ms at {result.HighRate:N0}/s; doorbell rings {ring.DoorbellRings}");
        return result;
    }

    private static async Task<(double Reader, double Process)> MeasureCpuAsync(ReaderThread reader, TimeSpan duration, CancellationToken cancellationToken)
    {
        var process = Process.GetCurrentProcess();
        process.Refresh();
        var processBefore = process.TotalProcessorTime;
        long readerBefore = reader.CpuNs();
        var watch = Stopwatch.StartNew();
        await Task.Delay(duration, cancellationToken).ConfigureAwait(false);
        double seconds = watch.Elapsed.TotalSeconds;
        process.Refresh();
        return ((reader.CpuNs() - readerBefore) / 1e6 / seconds, (process.TotalProcessorTime - processBefore).TotalMilliseconds / seconds);
    }

    private static Percentile Percentiles(List<double> latenciesMs)
    {
        if (latenciesMs.Count == 0)
        {
            return new Percentile(double.NaN, double.NaN);
        }

        latenciesMs.Sort();
        double At(double q) => latenciesMs[Math.Min(latenciesMs.Count - 1, (int)Math.Ceiling(q * latenciesMs.Count) - 1)];
        return new Percentile(At(0.50), At(0.99));
    }

    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), out int v) && v > 0 ? v : fallback;

    private sealed record Percentile(double P50, double P99);

    /// <param name="KafkaLingerMs">librdkafka's linger.ms, or null for the producer's default.</param>
    /// <param name="Full">Idle CPU and 1 M/s too, or only the 10 events/s latency.</param>
    private sealed record Variant(RingWaitSemantics Mode, int BatchLingerMs, string? KafkaLingerMs, bool Full);

    private sealed record ModeResult(double IdleReaderCpuMsPerS, double IdleProcessCpuMsPerS, Percentile Low, double LowReaderCpuMsPerS, Percentile High, double HighRate);
}
