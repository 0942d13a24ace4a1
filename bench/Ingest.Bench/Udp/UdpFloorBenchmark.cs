using System.Globalization;
using System.Text;
using Ingest.Bench.Support;

namespace Ingest.Bench.Udp;

/// <summary>
/// Issue 14's table, side by side in one run: the floor (bench/udpfloor, a bare recvmmsg loop that
/// only counts) against `ingest run` (defaults; proc and netlink off) publishing to a separate
/// `ingest broker`. Paced: 1 M datagrams of 100 B at 200k/s from one udpgen; CPU per event from
/// /proc/PID/stat utime + stime over delivered events (the floor: getrusage, the same clock) and
/// lost. Full speed: 1 M from two udpgen processes as fast as they go; delivered of 1 M (delivery
/// reports: the daemon's `delivered`), median and spread over the runs. The four scenarios run
/// interleaved, so the machine's load falls on all of them alike. Then the per-thread CPU split of
/// the paced ingest runs, from /proc/PID/task/*/stat. With BENCH_BASELINE_PATH, each run measures
/// the baseline build and this one in turn (which goes first alternates) against the same floor.
/// </summary>
public sealed class UdpFloorBenchmark : IBenchmark
{
    private const long Events = 1_000_000;
    private const double PacedRate = 200_000;
    private const int Size = 100;

    // A paced sender that woke late sends what is due in one sendmmsg: a batch big enough to catch
    // up keeps the offered rate at 200k/s on a loaded machine.
    private const int PacedBatch = 256;
    private const int FullBatch = 64;

    public string Name => "udp-floor";

    public string Description => "issue 14: bare recvmmsg floor vs ingest run, paced 200k/s (CPU/event, lost) and full speed x2 generators (delivered of 1 M), per-thread CPU";

    public async Task RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        var udpgen = await UdpGen.LocateAsync(context, cancellationToken).ConfigureAwait(false);
        var udpfloor = await UdpFloor.LocateAsync(context, cancellationToken).ConfigureAwait(false);
        var builds = context.Builds;
        var loadBefore = LoadAverage();
        var runs = await context.RepeatAsync("udp-floor", async run =>
        {
            // With BENCH_BASELINE_PATH the builds take turns going first, so neither always runs
            // right after the floor (or on a machine that has warmed up to it).
            var order = run % 2 == 0 ? builds : builds.Reverse().ToList();
            var floorPaced = await FloorOnceAsync(context, udpgen, udpfloor, generators: 1, PacedRate, PacedBatch).ConfigureAwait(false);
            var paced = new Dictionary<string, Sample>(StringComparer.Ordinal);
            foreach (var (label, path) in order)
            {
                paced[label] = await IngestOnceAsync(context, label, path, udpgen, generators: 1, PacedRate, PacedBatch, cancellationToken).ConfigureAwait(false);
            }

            var floorFull = await FloorOnceAsync(context, udpgen, udpfloor, generators: 2, 0, FullBatch).ConfigureAwait(false);
            var full = new Dictionary<string, Sample>(StringComparer.Ordinal);
            foreach (var (label, path) in order)
            {
                full[label] = await IngestOnceAsync(context, label, path, udpgen, generators: 2, 0, FullBatch, cancellationToken).ConfigureAwait(false);
            }

            return (floorPaced, paced, floorFull, full);
        }).ConfigureAwait(false);
        var load = $"load average {loadBefore} before, {LoadAverage()} after (2 cores)";

        var floorPaced = runs.Select(r => r.floorPaced).ToList();
        var floorFull = runs.Select(r => r.floorFull).ToList();
        const string paced = "udp-floor, paced 200k/s, 1 M x 100 B";
        const string full = "udp-floor, full speed, 2 generators, 1 M x 100 B";
        context.Report.Add(paced, "floor CPU", Median(floorPaced, s => s.CpuNsPerEvent), "ns/event", Range(floorPaced, s => s.CpuNsPerEvent));
        context.Report.Add(paced, "floor lost", floorPaced.Max(s => s.Lost), "datagrams", "max over runs");
        context.Report.Add(full, "floor received", Median(floorFull, s => s.Delivered), "of 1 M", Range(floorFull, s => s.Delivered));
        var rows = new List<(string Label, List<Sample> Paced, List<Sample> Full, List<double> PacedRatios)>();
        foreach (var (label, path) in builds)
        {
            var ingestPaced = runs.Select(r => r.paced[label]).ToList();
            var ingestFull = runs.Select(r => r.full[label]).ToList();
            var pacedRatios = runs.Select(r => r.paced[label].CpuNsPerEvent / r.floorPaced.CpuNsPerEvent).ToList();
            rows.Add((label, ingestPaced, ingestFull, pacedRatios));
            var who = builds.Count > 1 ? $"{label}: " : "";
            context.Report.Add(paced, who + "offered (floor / ingest)", BenchContext.Median(floorPaced.Select(s => s.OfferedPerSecond)), "datagrams/s", $"ingest runs: {Fmt(BenchContext.Median(ingestPaced.Select(s => s.OfferedPerSecond)))}; {path}");
            context.Report.Add(paced, who + "ingest CPU", Median(ingestPaced, s => s.CpuNsPerEvent), "ns/event", Range(ingestPaced, s => s.CpuNsPerEvent) + "; utime+stime / delivered");
            context.Report.Add(paced, who + "ingest / floor CPU", BenchContext.Median(pacedRatios), "x", $"{Range(pacedRatios)}, per run pair; goal <= 1.3");
            context.Report.Add(paced, who + "ingest lost", ingestPaced.Max(s => s.Lost), "datagrams", $"max over runs (unexplained by counters {ingestPaced.Max(s => s.Unexplained)})");
            context.Report.Add(paced, who + "ingest peak RSS", Median(ingestPaced, s => s.PeakRssMb), "MB");
            context.Report.Add(full, who + "ingest delivered", Median(ingestFull, s => s.Delivered), "of 1 M", $"{Range(ingestFull, s => s.Delivered)}, spread {Spread(ingestFull.Select(s => s.Delivered)):F0} %; delivery reports");
            context.Report.Add(full, who + "ingest / floor delivered", BenchContext.Median(runs.Select(r => r.full[label].Delivered / r.floorFull.Delivered)), "x", "per run pair");
            context.Report.Add(full, who + "ingest losses counted", Median(ingestFull, s => s.Lost - s.Unexplained), "datagrams", $"kernel_dropped + dropped; unexplained max {ingestFull.Max(s => s.Unexplained)}");
            context.Report.Add(full, who + "ingest CPU", Median(ingestFull, s => s.CpuNsPerEvent), "ns/event", Range(ingestFull, s => s.CpuNsPerEvent));
            context.Report.Add(full, who + "ingest peak RSS", Median(ingestFull, s => s.PeakRssMb), "MB", "goal <= 300");
        }

        if (builds.Count > 1)
        {
            context.Report.Add(full, "delivered, this build / baseline", Median(rows[1].Full, s => s.Delivered) / Median(rows[0].Full, s => s.Delivered), "x", "medians; goal >= 1.2");
            context.Report.Add(paced, "CPU/event, this build / baseline", Median(rows[1].Paced, s => s.CpuNsPerEvent) / Median(rows[0].Paced, s => s.CpuNsPerEvent), "x", "medians");
        }

        context.Report.AddTable($"udp-floor side by side (median of {runs.Count} runs, min – max; {load})", SideBySide(floorPaced, floorFull, rows));
        foreach (var (label, ingestPaced, _, _) in rows)
        {
            var split = ThreadCpuSplit.Sum(ingestPaced.Select(s => ThreadCpuSplit.Between(s.ThreadsBefore, s.ThreadsAfter)));
            context.Report.AddTable(
                $"per-thread CPU of `ingest run` ({label}), paced 200k/s, {ingestPaced.Count} runs x 1 M summed ({ingestPaced.Sum(s => s.DeliveredCount):N0} delivered)",
                ThreadCpuSplit.CpuMarkdown(split, ingestPaced.Sum(s => s.DeliveredCount)));
        }
    }

    private static async Task<Sample> FloorOnceAsync(BenchContext context, string udpgen, string udpfloor, int generators, double rate, int batch)
    {
        using var floor = await UdpFloor.StartAsync(udpfloor, Events).ConfigureAwait(false);
        var (sent, seconds) = await SendAsync(udpgen, floor.EndPoint, generators, rate, batch, CancellationToken.None).ConfigureAwait(false);
        var result = await floor.WaitAsync().ConfigureAwait(false);
        context.Progress(string.Create(CultureInfo.InvariantCulture, $"  floor x{generators}: sent {sent:N0} in {seconds:F2} s, received {result.Received:N0}, kernel_dropped {result.KernelDropped:N0}, {result.Received / (double)Math.Max(1, result.Batches):F1}/recvmmsg, CPU {result.CpuNs / 1e6:F0} ms"));
        return new Sample(sent / seconds, result.Received, sent - result.Received, sent - result.Received - result.KernelDropped, (double)result.CpuNs / Math.Max(1, result.Received), 0, [], []);
    }

    private static async Task<Sample> IngestOnceAsync(BenchContext context, string label, string ingestPath, string udpgen, int generators, double rate, int batch, CancellationToken cancellationToken)
    {
        // Defaults, but proc and netlink off, like the measurement.
        await using var ingest = await IngestUnderTest.StartAsync(ingestPath, TimeSpan.FromMilliseconds(500), cancellationToken, "--no-proc", "--set", "Netlink:Enabled=false").ConfigureAwait(false);
        var pid = ingest.Daemon.Id;
        var threadsBefore = ProcStat.Threads(pid);
        var ticksBefore = ProcStat.CpuTicks(pid);
        var (sent, seconds) = await SendAsync(udpgen, ingest.Udp, generators, rate, batch, cancellationToken).ConfigureAwait(false);
        var udp = await ingest.WaitAccountedAsync(sent, TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(false);
        var ticks = ProcStat.CpuTicks(pid) - ticksBefore;
        var threadsAfter = ProcStat.Threads(pid);
        var rss = ingest.Daemon.PeakRssBytes();
        await ingest.StopAsync().ConfigureAwait(false);

        var kernelDropped = udp.Transport.GetValueOrDefault("kernel_dropped");
        var lost = sent - udp.Delivered;
        context.Progress(string.Create(CultureInfo.InvariantCulture, $"  ingest ({label}) x{generators}: sent {sent:N0} in {seconds:F2} s, delivered {udp.Delivered:N0}, kernel_dropped {kernelDropped:N0}, dropped {udp.DroppedTotal:N0}, CPU {ticks * 10} ms, peak RSS {rss / 1e6:F0} MB"));
        return new Sample(sent / seconds, udp.Delivered, lost, lost - kernelDropped - udp.DroppedTotal, ticks * ProcStat.NsPerTick / Math.Max(1, udp.Delivered), rss / 1e6, threadsBefore, threadsAfter);
    }

    /// <summary>1 M datagrams from <paramref name="generators"/> udpgen processes (their share each); returns sent and the slowest one's seconds.</summary>
    private static async Task<(long Sent, double Seconds)> SendAsync(string udpgen, System.Net.IPEndPoint target, int generators, double rate, int batch, CancellationToken cancellationToken)
    {
        var gens = Enumerable.Range(0, generators).Select(_ => UdpGen.StartCount(udpgen, target, Events / generators, rate / generators, Size, batch)).ToList();
        long sent = 0;
        double seconds = 0;
        foreach (var g in gens)
        {
            using (g)
            {
                var r = await UdpGen.WaitAsync(g, cancellationToken).ConfigureAwait(false);
                sent += r.Sent;
                seconds = Math.Max(seconds, r.Seconds);
            }
        }

        return (sent, seconds);
    }

    private static string SideBySide(List<Sample> floorPaced, List<Sample> floorFull, List<(string Label, List<Sample> Paced, List<Sample> Full, List<double> PacedRatios)> builds)
    {
        var sb = new StringBuilder();
        sb.AppendLine("| receiver | paced 200k/s: CPU per delivered event | / floor (per run pair) | lost | full speed, 2 generators: delivered of 1 M | / floor | spread | peak RSS paced / full |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        var floorDelivered = Median(floorFull, s => s.Delivered);
        sb.AppendLine(CultureInfo.InvariantCulture, $"| bare C `recvmmsg` loop that only counts (the floor) | {Us(floorPaced)} | | {floorPaced.Max(s => s.Lost)} | {Fmt(floorDelivered)} ({Range(floorFull, s => s.Delivered)}) | | {Spread(floorFull.Select(s => s.Delivered)):F0} % | |");
        foreach (var (label, paced, full, ratios) in builds)
        {
            var name = builds.Count > 1 ? $"`ingest run`, {label} (defaults, proc and netlink off)" : "`ingest run` (defaults, proc and netlink off)";
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {Us(paced)} | {BenchContext.Median(ratios):F2}x ({Range(ratios)}) | {paced.Max(s => s.Lost)} | {Fmt(Median(full, s => s.Delivered))} ({Range(full, s => s.Delivered)}) | {Median(full, s => s.Delivered) / floorDelivered:F2}x | {Spread(full.Select(s => s.Delivered)):F0} % | {Median(paced, s => s.PeakRssMb):F0} / {Median(full, s => s.PeakRssMb):F0} MB |");
        }

        return sb.ToString();

        static string Us(List<Sample> samples) =>
            string.Create(CultureInfo.InvariantCulture, $"{Median(samples, s => s.CpuNsPerEvent) / 1000:F2} µs ({samples.Min(s => s.CpuNsPerEvent) / 1000:F2} – {samples.Max(s => s.CpuNsPerEvent) / 1000:F2})");
    }

    private static double Median(IEnumerable<Sample> samples, Func<Sample, double> value) => BenchContext.Median(samples.Select(value));

    private static string Range(IEnumerable<Sample> samples, Func<Sample, double> value) => Range(samples.Select(value).ToList());

    private static string Range(IReadOnlyCollection<double> values) => $"{Fmt(values.Min())} – {Fmt(values.Max())}";

    private static string Fmt(double v) => BenchReport.Format(v);

    /// <summary>(max - min) / median, in percent.</summary>
    private static double Spread(IEnumerable<double> values)
    {
        var list = values.ToList();
        return 100 * (list.Max() - list.Min()) / BenchContext.Median(list);
    }

    private static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

    private sealed record Sample(double OfferedPerSecond, double Delivered, long Lost, long Unexplained, double CpuNsPerEvent, double PeakRssMb, List<ThreadSample> ThreadsBefore, List<ThreadSample> ThreadsAfter)
    {
        public long DeliveredCount => (long)Delivered;
    }
}
