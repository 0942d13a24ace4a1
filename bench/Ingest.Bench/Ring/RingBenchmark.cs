using System.Diagnostics;
using Ingest.Bench.Support;
using Ingest.Configuration;
using Ingest.Daemon;
using Ingest.Transports.Events;
using Ingest.Transports.Ring;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ingest.Bench.Ring;

/// <summary>
/// The mmap ring, side by side in one process: (1) raw, the user-space producer against the
/// consumer's validation walk alone (the ceiling), and (2) the same producer into a
/// <see cref="RingSource"/> run by the real daemon (<see cref="IngestDaemon"/> with the source as
/// an extra source) into the embedded broker, counting events the broker acknowledged. 64-byte
/// records, a 16 MiB ring (enough for the records in flight to the broker; the module allows 64 KiB..64 MiB). Reports events/s medians, their ratio and the
/// process's peak RSS.
/// </summary>
public sealed class RingBenchmark : IBenchmark
{
    private const ulong RingBytes = 16UL << 20;
    private const long RawEvents = 40_000_000;
    private const long PipelineEvents = 10_000_000;

    // Overridable for experiments: INGEST_BENCH_BATCH_BYTES, INGEST_BENCH_KAFKA_LINGER_MS (librdkafka's linger.ms).
    private static readonly int BatchBytes = int.TryParse(Environment.GetEnvironmentVariable("INGEST_BENCH_BATCH_BYTES"), out var b) ? b : new Ingest.Pipeline.BatchOptions().MaxBytes;
    private static readonly string? KafkaLingerMs = Environment.GetEnvironmentVariable("INGEST_BENCH_KAFKA_LINGER_MS") is { Length: > 0 } l ? l : null;
    private const long WarmUpEvents = 3_000_000;

    public string Name => "ring";

    public string Description => "mmap ring: raw read rate vs ring -> RingSource -> pipeline -> Kafka (64 B events)";

    public async Task RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        // Warm-up, discarded: the daemon runs for days, so the figures are for tiered-up code
        // (a cold run spends much of its few seconds in quick-jitted and instrumented code).
        context.Progress("ring: warm-up");
        await Task.Run(() => RunRaw(WarmUpEvents), cancellationToken).ConfigureAwait(false);
        await RunPipelineAsync(context, WarmUpEvents, cancellationToken).ConfigureAwait(false);

        ResetPeakRss();
        var raw = await context.RepeatAsync("ring raw", _ => Task.Run(() => RunRaw(RawEvents), cancellationToken)).ConfigureAwait(false);
        double rawRss = PeakRssMiB();
        ResetPeakRss();
        var kafka = await context.RepeatAsync("ring -> kafka", _ => RunPipelineAsync(context, PipelineEvents, cancellationToken)).ConfigureAwait(false);
        double kafkaRss = PeakRssMiB();

        double rawRate = BenchContext.Median(raw);
        double kafkaRate = BenchContext.Median(kafka.Select(s => s.Rate));
        const string name = "ring (64 B events, 16 MiB ring)";
        context.Report.Add(name, "raw read", rawRate, "events/s", $"producer + validating reader, {RawEvents:N0} events");
        context.Report.Add(name, "into Kafka", kafkaRate, "events/s", $"RingSource -> daemon pipeline -> embedded broker, acknowledged, {PipelineEvents:N0} events; target >= 2,000,000");
        context.Report.Add(name, "Kafka / raw", kafkaRate / rawRate * 100, "%", "target >= 50 %");
        context.Report.Add(name, "producer full waits", BenchContext.Median(kafka.Select(s => (double)s.FullWaits)), "waits", "ring full: the producer slept 1 ms (the module would drop)");
        context.Report.Add(name, "lost", kafka.Max(s => (double)s.Lost), "events", "max over runs: produced - acknowledged");
        context.Report.Add(name, "peak RSS, raw", rawRss, "MiB", "VmHWM of the bench process during the raw runs");
        context.Report.Add(name, "peak RSS, into Kafka", kafkaRss, "MiB", "VmHWM of the bench process during the Kafka runs (ring, pipeline, librdkafka, broker); target < 300");
    }

    private static double RunRaw(long events)
    {
        using var ring = new MemoryRing(RingBytes);
        using var mapping = ring.OpenConsumerMapping();
        var load = new RingLoad(ring, events);
        var reader = new RawRingReader(mapping, events);
        var counters = new CounterSet();
        var watch = Stopwatch.StartNew();
        load.Start();
        long read = reader.Run(counters);
        watch.Stop();
        load.Join();
        if (read != events || counters["invalid"].Value != 0 || counters["torn"].Value != 0)
        {
            throw new InvalidOperationException($"raw ring read {read} of {events} (invalid {counters["invalid"].Value}, torn {counters["torn"].Value})");
        }

        return events / watch.Elapsed.TotalSeconds;
    }

    private static async Task<PipelineSample> RunPipelineAsync(BenchContext context, long events, CancellationToken cancellationToken)
    {
        using var ring = new MemoryRing(RingBytes);
        var source = new RingSource(ring.OpenConsumerMapping());
        var options = new IngestOptions
        {
            HostId = "bench",
            Udp = { Enabled = false },
            Proc = { Enabled = false },
            Netlink = { Enabled = false },
            Signals = { Enabled = false },
            Upcall = { Enabled = false },
            Ring = { Enabled = "off" }, // the benchmark adds its own memory ring
            Pipeline = { Batch = { MaxBytes = BatchBytes } },
            Spool = { Directory = Path.Combine(Path.GetTempPath(), $"ingest-bench-ring-spool-{Guid.NewGuid():N}") },
            Stats = { IntervalSeconds = 0, ControlSocket = Path.Combine(Path.GetTempPath(), $"ingest-bench-ring-{Environment.ProcessId}.sock") },
        };
        if (KafkaLingerMs is not null)
        {
            options.Kafka.Properties["linger.ms"] = KafkaLingerMs;
        }

        var daemon = new IngestDaemon(options, NullLoggerFactory.Instance, TextWriter.Null);
        daemon.ExtraSources.Add(source);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var running = await InProcessDaemon.StartAsync(daemon, stop.Token, cancellationToken).ConfigureAwait(false);

        var load = new RingLoad(ring, events);
        var watch = Stopwatch.StartNew();
        load.Start();
        long delivered = 0;
        var deadline = TimeSpan.FromSeconds(120);
        while (delivered < events && watch.Elapsed < deadline && !running.IsCompleted)
        {
            await Task.Delay(5, cancellationToken).ConfigureAwait(false);
            delivered = Delivered(daemon);
        }

        watch.Stop();
        load.Join();
        var gc = GC.GetGCMemoryInfo();
        context.Progress($"ring -> kafka: VmHWM {PeakRssMiB():F0} MiB, GC heap {gc.HeapSizeBytes >> 20} MiB, committed {gc.TotalCommittedBytes >> 20} MiB, gen2 {GC.CollectionCount(2)}");
        await stop.CancelAsync().ConfigureAwait(false);
        int exit = await running.ConfigureAwait(false);
        if (exit != 0 || delivered < events)
        {
            context.Progress($"ring -> kafka: delivered {delivered} of {events} (daemon exit {exit})");
        }

        return new PipelineSample(delivered / watch.Elapsed.TotalSeconds, load.FullWaits, events - delivered);
    }

    private static long Delivered(IngestDaemon daemon)
    {
        foreach (var s in daemon.Snapshot!().Sources)
        {
            if (s.Channel == "ring")
            {
                return s.Delivered;
            }
        }

        return 0;
    }

    /// <summary>Resets VmHWM to the current RSS (clear_refs "5"), so each scenario reports its own peak.</summary>
    private static void ResetPeakRss() => File.WriteAllText("/proc/self/clear_refs", "5");

    private static double PeakRssMiB()
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), System.Globalization.CultureInfo.InvariantCulture) / 1024.0;
            }
        }

        return double.NaN;
    }

    private sealed record PipelineSample(double Rate, long FullWaits, long Lost);
}
