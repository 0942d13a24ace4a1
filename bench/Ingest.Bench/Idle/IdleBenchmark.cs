using System.Globalization;
using Ingest.Bench.Support;

namespace Ingest.Bench.Idle;

/// <summary>
/// `ingest run` with nothing to read, against a separate `ingest broker`: CPU per second and RSS
/// over 60 s (after 5 s to settle), its thread count, and which threads wake how often
/// (voluntary context switches per thread, from /proc/PID/task/*/status). Two configurations:
/// the defaults, and UDP only (proc and netlink off, as in udp-floor). `--runs N` measures each
/// N times and reports the median and the range: a wake-up on a VM costs 0.1-0.3 ms, so one idle
/// minute varies by 10-30 % from run to run. With BENCH_BASELINE_PATH the baseline build is
/// measured in the same rounds, the two builds taking turns to go first, with the ratio of medians.
/// </summary>
public sealed class IdleBenchmark : IBenchmark
{
    // Overridable for a quick look: BENCH_IDLE_SECONDS.
    private static readonly int Seconds = int.TryParse(Environment.GetEnvironmentVariable("BENCH_IDLE_SECONDS"), out var s) ? s : 60;

    public string Name => "idle";

    public string Description => "ingest run with nothing to read: CPU ms/s and RSS over 60 s, threads, wake-ups per thread";

    public async Task RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        foreach (var (label, args) in new (string, string[])[]
        {
            ("defaults", []),
            ("udp only (proc, netlink off)", ["--no-proc", "--set", "Netlink:Enabled=false"]),
        })
        {
            var samples = context.Builds.ToDictionary(b => b.Label, _ => new List<Sample>());
            for (var run = 0; run < context.Runs; run++)
            {
                // Taking turns to go first: a slow minute on the host does not always land on one build.
                var builds = run % 2 == 0 ? context.Builds : context.Builds.Reverse();
                foreach (var (build, path) in builds)
                {
                    var last = run == context.Runs - 1;
                    context.Progress($"idle, {label}, {build}: {Seconds} s, run {run + 1}/{context.Runs}");
                    samples[build].Add(await MeasureAsync(context, label, build, path, args, last, cancellationToken).ConfigureAwait(false));
                }
            }

            var medians = new Dictionary<string, (double Cpu, double Rss)>();
            foreach (var (build, runs) in samples)
            {
                var name = context.Builds.Count > 1 ? $"idle {Seconds} s, {label}, {build}" : $"idle {Seconds} s, {label}";
                var cpu = BenchContext.Median(runs.Select(r => r.CpuMsPerS));
                var rss = BenchContext.Median(runs.Select(r => r.RssMb));
                medians[build] = (cpu, rss);
                context.Report.Add(name, "CPU", cpu, "ms/s", string.Create(CultureInfo.InvariantCulture,
                    $"median of {runs.Count}, range {runs.Min(r => r.CpuMsPerS):F2}-{runs.Max(r => r.CpuMsPerS):F2}; the process's CPU clock, ended threads included (utime + stime: {BenchContext.Median(runs.Select(r => r.TicksMsPerS)):F2}); goal <= 1"));
                context.Report.Add(name, "RSS", rss, "MB", string.Create(CultureInfo.InvariantCulture, $"at the end, median; max sampled {runs.Max(r => r.MaxRssMb):F0} MB; goal <= 40"));
                context.Report.Add(name, "threads", BenchContext.Median(runs.Select(r => (double)r.Threads)), "");
                context.Report.Add(name, "wake-ups", BenchContext.Median(runs.Select(r => r.WakeupsPerS)), "/s", "voluntary context switches of the threads alive throughout, median");
            }

            if (medians.Count == 2)
            {
                var name = $"idle {Seconds} s, {label}";
                context.Report.Add(name, "CPU, this build / baseline", medians["this build"].Cpu / medians["baseline"].Cpu, "x", $"medians; baseline {context.BaselinePath}");
                context.Report.Add(name, "RSS, this build / baseline", medians["this build"].Rss / medians["baseline"].Rss, "x");
            }
        }
    }

    private static async Task<Sample> MeasureAsync(BenchContext context, string label, string build, string path, string[] args, bool withTable, CancellationToken cancellationToken)
    {
        await using var ingest = await IngestUnderTest.StartAsync(path, TimeSpan.FromSeconds(5), cancellationToken, args).ConfigureAwait(false);
        var pid = ingest.Daemon.Id;
        var threadsBefore = ProcStat.Threads(pid);
        var ticksBefore = ProcStat.CpuTicks(pid);
        var nsBefore = ProcStat.CpuNs(pid);
        long maxRss = 0;
        for (var i = 0; i < Seconds; i++)
        {
            await Task.Delay(1000, cancellationToken).ConfigureAwait(false);
            maxRss = Math.Max(maxRss, ProcStat.RssBytes(pid));
        }

        var ns = ProcStat.CpuNs(pid) - nsBefore;
        var ticks = ProcStat.CpuTicks(pid) - ticksBefore;
        var threadsAfter = ProcStat.Threads(pid);
        var rss = ProcStat.RssBytes(pid);
        await ingest.StopAsync().ConfigureAwait(false);

        var split = ThreadCpuSplit.Between(threadsBefore, threadsAfter);
        var sample = new Sample(
            ns / 1e6 / Seconds,
            ticks * 1000.0 / ProcStat.TicksPerSecond / Seconds,
            rss / 1e6,
            maxRss / 1e6,
            threadsAfter.Count,
            split.Sum(r => r.VoluntarySwitches) / (double)Seconds);
        context.Progress(string.Create(CultureInfo.InvariantCulture, $"idle, {label}, {build}: {sample.CpuMsPerS:F3} ms/s, {sample.WakeupsPerS:F1} wake-ups/s, RSS {sample.RssMb:F1} MB"));
        if (withTable)
        {
            var name = context.Builds.Count > 1 ? $"idle {Seconds} s, {label}, {build}" : $"idle {Seconds} s, {label}";
            context.Report.AddTable(
                string.Create(CultureInfo.InvariantCulture, $"{name} (last run): CPU and wake-ups per thread (load average {File.ReadAllText("/proc/loadavg")[..14].Trim()})"),
                ThreadCpuSplit.CpuMarkdown(split, 0));
        }

        return sample;
    }

    /// <param name="CpuMsPerS">The process's CPU clock (ns-exact, ended threads included), per second.</param>
    /// <param name="TicksMsPerS">utime + stime (10 ms ticks), per second: what top and ps show.</param>
    private sealed record Sample(double CpuMsPerS, double TicksMsPerS, double RssMb, double MaxRssMb, int Threads, double WakeupsPerS);
}
