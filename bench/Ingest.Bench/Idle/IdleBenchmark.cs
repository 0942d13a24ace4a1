using System.Globalization;
using Ingest.Bench.Support;

namespace Ingest.Bench.Idle;

/// <summary>
/// `ingest run` with nothing to read, against a separate `ingest broker`: CPU per second and RSS
/// over 60 s (after 5 s to settle), its thread count, and which threads wake how often
/// (voluntary context switches per thread, from /proc/PID/task/*/status). Two configurations:
/// the defaults, and UDP only (proc and netlink off, as in udp-floor). With BENCH_BASELINE_PATH,
/// the baseline build is measured the same way right before this one, with the ratios.
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
            var cpu = new Dictionary<string, double>();
            var rssByBuild = new Dictionary<string, double>();
            foreach (var (build, path) in context.Builds)
            {
                (cpu[build], rssByBuild[build]) = await MeasureAsync(context, label, build, path, args, cancellationToken).ConfigureAwait(false);
            }

            if (cpu.Count == 2)
            {
                var name = $"idle {Seconds} s, {label}";
                context.Report.Add(name, "CPU, this build / baseline", cpu["this build"] / cpu["baseline"], "x", $"baseline {context.BaselinePath}");
                context.Report.Add(name, "RSS, this build / baseline", rssByBuild["this build"] / rssByBuild["baseline"], "x");
            }
        }
    }

    private static async Task<(double CpuMsPerS, double RssMb)> MeasureAsync(BenchContext context, string label, string build, string path, string[] args, CancellationToken cancellationToken)
    {
        context.Progress($"idle, {label}, {build}: {Seconds} s");
        await using var ingest = await IngestUnderTest.StartAsync(path, TimeSpan.FromSeconds(5), cancellationToken, args).ConfigureAwait(false);
        var pid = ingest.Daemon.Id;
        var threadsBefore = ProcStat.Threads(pid);
        var ticksBefore = ProcStat.CpuTicks(pid);
        long maxRss = 0;
        for (var i = 0; i < Seconds; i++)
        {
            await Task.Delay(1000, cancellationToken).ConfigureAwait(false);
            maxRss = Math.Max(maxRss, ProcStat.RssBytes(pid));
        }

        var ticks = ProcStat.CpuTicks(pid) - ticksBefore;
        var threadsAfter = ProcStat.Threads(pid);
        var rss = ProcStat.RssBytes(pid);
        await ingest.StopAsync().ConfigureAwait(false);

        var name = context.Builds.Count > 1 ? $"idle {Seconds} s, {label}, {build}" : $"idle {Seconds} s, {label}";
        var split = ThreadCpuSplit.Between(threadsBefore, threadsAfter);

        // The process's utime + stime count the threads that ended too (thread-pool workers come
        // and go) and the kernel scales them to the exact run time; the per-thread figures miss those.
        var cpu = ticks * 1000.0 / ProcStat.TicksPerSecond / Seconds;
        context.Report.Add(name, "CPU", cpu, "ms/s", $"utime + stime, whole process; threads alive throughout: {split.Sum(r => r.RunNs) / 1e6 / Seconds:F2} ms/s (schedstat); goal <= 1");
        context.Report.Add(name, "RSS", rss / 1e6, "MB", $"at the end; max sampled {maxRss / 1e6:F0} MB; goal <= 40");
        context.Report.Add(name, "threads", threadsAfter.Count, "");
        context.Report.Add(name, "wake-ups", split.Sum(r => r.VoluntarySwitches) / (double)Seconds, "/s", "voluntary context switches, all threads");
        context.Report.AddTable(
            string.Create(CultureInfo.InvariantCulture, $"{name}: CPU and wake-ups per thread (load average {File.ReadAllText("/proc/loadavg")[..14].Trim()})"),
            ThreadCpuSplit.CpuMarkdown(split, 0));
        return (cpu, rss / 1e6);
    }
}
