using System.Diagnostics;
using Ingest.Spool;

namespace Ingest.Bench.Spool;

/// <summary>Issue 9's outage figure: 10,000 datagrams/s for 90 s, broker frozen 40 s, message.timeout.ms=15000.</summary>
public sealed class SpoolOutageBenchmark : IBenchmark
{
    public string Name => "spool-outage";

    public string Description => "ingest run (defaults) at 10,000 events/s for 90 s, separate broker SIGSTOPped 40 s, -X message.timeout.ms=15000: lost by an independent consumer, peak RSS";

    public Task RunAsync(BenchContext context, CancellationToken cancellationToken) =>
        SpoolReport.RunAsync(context, Name, new OutageScenario.Plan(10_000, 90, 20, 40, ["-X", "message.timeout.ms=15000"]), cancellationToken);
}

/// <summary>A 10-minute freeze at 10,000 events/s: the spool holds it, bounded, and replays it.</summary>
public sealed class SpoolLongOutageBenchmark : IBenchmark
{
    public string Name => "spool-long";

    public string Description => "10,000 events/s, broker SIGSTOPped for 10 minutes (-X message.timeout.ms=15000, Spool:MaxBytes=2 GiB, Spool:ReplayMaxBytesPerSecond=8 MiB so the independent consumer keeps up with the mock broker's ~5 MiB retention): lost, order, max spool bytes, peak RSS (takes ~15 min a run)";

    public Task RunAsync(BenchContext context, CancellationToken cancellationToken) =>
        SpoolReport.RunAsync(context, Name, new OutageScenario.Plan(10_000, 640, 20, 600, ["-X", "message.timeout.ms=15000", "--set", "Spool:MaxBytes=2147483648", "--set", "Spool:ReplayMaxBytesPerSecond=8388608"]), cancellationToken);
}

/// <summary>A spool smaller than the outage's data: every loss must be counted as spool_full.</summary>
public sealed class SpoolFullBenchmark : IBenchmark
{
    public string Name => "spool-full";

    public string Description => "10,000 events/s for 60 s, broker frozen 30 s, Spool:MaxBytes=16 MiB: losses vs spool_full, unexplained";

    public Task RunAsync(BenchContext context, CancellationToken cancellationToken) =>
        SpoolReport.RunAsync(context, Name, new OutageScenario.Plan(10_000, 60, 10, 30, ["-X", "message.timeout.ms=15000", "--set", "Spool:MaxBytes=16777216"]), cancellationToken);
}

/// <summary>SIGKILL during an outage in always mode, restart on the same spool, broker resumed.</summary>
public sealed class SpoolSigkillBenchmark : IBenchmark
{
    public string Name => "spool-sigkill";

    public string Description => "Spool:Mode=always, 10,000 events/s for 60 s, broker frozen 10..40 s, daemon SIGKILLed at 25 s and restarted on the same spool: loss among received events";

    public Task RunAsync(BenchContext context, CancellationToken cancellationToken) =>
        SpoolReport.RunAsync(context, Name, new OutageScenario.Plan(10_000, 60, 10, 30, ["-X", "message.timeout.ms=15000", "--set", "Spool:Mode=always"], KillAt: 25), cancellationToken);
}

/// <summary>
/// The segment log's own write and replay throughput (records of the size a 10,000/s UDP source
/// makes), and the daemon CPU of Spool:Mode=always against overflow on the UDP end-to-end path.
/// </summary>
public sealed class SpoolThroughputBenchmark : IBenchmark
{
    private const int Records = 20_000;
    private const int RecordBytes = 26_000;

    public string Name => "spool-throughput";

    public string Description => "segment log append and replay (records/s, MB/s; 26 KB records, fsync interval), and daemon CPU/event of always vs overflow at 10,000 datagrams/s";

    public async Task RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        var writes = new List<double>();
        var reads = new List<double>();
        var payload = new byte[RecordBytes];
        Random.Shared.NextBytes(payload);
        for (var run = 0; run < context.Runs; run++)
        {
            var dir = Path.Combine(Path.GetTempPath(), $"ingest-bench-log-{Environment.ProcessId}-{run}");
            using (var log = SegmentLog.Open(dir, 4L << 30, 64L << 20))
            {
                var sw = Stopwatch.StartNew();
                for (var i = 0; i < Records; i++)
                {
                    log.TryAppend(payload, i);
                }

                log.Flush();
                writes.Add(Records / sw.Elapsed.TotalSeconds);
                sw.Restart();
                var n = 0;
                SpoolFrame last = default;
                while (log.TryRead(out var frame))
                {
                    last = frame;
                    if (++n % 256 == 0)
                    {
                        log.Commit(frame.Next, 256);
                    }
                }

                log.Commit(last.Next, n % 256);
                reads.Add(n / sw.Elapsed.TotalSeconds);
                context.Progress($"  log run {run + 1}: append {writes[^1]:F0} records/s, replay {reads[^1]:F0} records/s ({n} read)");
            }

            Directory.Delete(dir, recursive: true);
        }

        var label = $"segment log, {RecordBytes / 1000} KB records";
        context.Report.Add(label, "append", BenchContext.Median(writes), "records/s", $"{BenchContext.Median(writes) * RecordBytes / 1e6:F0} MB/s");
        context.Report.Add(label, "replay (read + commit)", BenchContext.Median(reads), "records/s", $"{BenchContext.Median(reads) * RecordBytes / 1e6:F0} MB/s");

        var cpu = new Dictionary<string, List<double>>(StringComparer.Ordinal) { ["overflow"] = [], ["always"] = [] };
        for (var run = 0; run < context.Runs; run++)
        {
            foreach (var mode in cpu.Keys)
            {
                var r = await OutageScenario.RunAsync(context, new OutageScenario.Plan(10_000, 20, 1e9, 0, ["--set", $"Spool:Mode={mode}"]), cancellationToken).ConfigureAwait(false);
                cpu[mode].Add(r.DaemonCpuSeconds * 1e9 / Math.Max(1, r.Distinct));
            }
        }

        var overflow = BenchContext.Median(cpu["overflow"]);
        var always = BenchContext.Median(cpu["always"]);
        context.Report.Add("udp e2e 10,000/s, 20 s", "daemon CPU, overflow", overflow, "ns/event");
        context.Report.Add("udp e2e 10,000/s, 20 s", "daemon CPU, always", always, "ns/event", $"always/overflow = {always / overflow:F2}");
    }
}

internal static class SpoolReport
{
    public static async Task RunAsync(BenchContext context, string name, OutageScenario.Plan plan, CancellationToken cancellationToken)
    {
        var samples = await context.RepeatAsync(name, _ => OutageScenario.RunAsync(context, plan, cancellationToken)).ConfigureAwait(false);
        context.Report.Add(name, "sent", BenchContext.Median(samples.Select(s => (double)s.Sent)), "datagrams");
        context.Report.Add(name, "lost (independent consumer)", BenchContext.Median(samples.Select(s => (double)s.Lost)), "events",
            $"max {samples.Max(s => s.Lost)}; no listener {samples.Max(s => s.NoListener)}, kernel dropped {samples.Max(s => s.KernelDropped)}, evicted before read {samples.Max(s => s.EvictedBeforeRead)}");
        context.Report.Add(name, "lost among received", BenchContext.Median(samples.Select(s => 100.0 * (s.Lost - s.NoListener - s.KernelDropped) / Math.Max(1, s.Sent - s.NoListener - s.KernelDropped))), "%");
        context.Report.Add(name, "unexplained by counters", BenchContext.Median(samples.Select(s => (double)s.Unexplained)), "events", $"max {samples.Max(s => s.Unexplained)}");
        context.Report.Add(name, "spool_full", BenchContext.Median(samples.Select(s => (double)s.Dropped.GetValueOrDefault("spool_full"))), "events");
        context.Report.Add(name, "duplicates", BenchContext.Median(samples.Select(s => (double)s.Duplicates)), "events");
        context.Report.Add(name, "out of order in the topic", BenchContext.Median(samples.Select(s => (double)s.Reordered)), "events",
            samples.FirstOrDefault(s => s.FirstReordering is not null)?.FirstReordering ?? "seq increasing per source");
        context.Report.Add(name, "daemon peak RSS", BenchContext.Median(samples.Select(s => s.PeakRssMb)), "MB", $"max {samples.Max(s => s.PeakRssMb):F0}");
        context.Report.Add(name, "max spool size", BenchContext.Median(samples.Select(s => s.MaxSpoolBytes / 1e6)), "MB");
        context.Report.Add(name, "drain after the load", BenchContext.Median(samples.Select(s => s.DrainSeconds)), "s");
    }
}
