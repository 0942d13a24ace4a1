using System.Globalization;
using Ingest.Bench.Support;

namespace Ingest.Bench.Idle;

/// <summary>
/// `ingest run` with nothing to read, against a separate `ingest broker`: CPU per second and RSS
/// over 60 s (after 5 s to settle), its thread count, and which threads wake how often
/// (voluntary context switches per thread, from /proc/PID/task/*/status). Two configurations:
/// the defaults, and UDP only (proc and netlink off, as in udp-floor).
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
            context.Progress($"idle, {label}: {Seconds} s");
            await using var ingest = await IngestUnderTest.StartAsync(context, TimeSpan.FromSeconds(5), cancellationToken, args).ConfigureAwait(false);
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

            var name = $"idle {Seconds} s, {label}";
            var split = ThreadCpuSplit.Between(threadsBefore, threadsAfter);

            // The process's utime + stime count the threads that ended too (thread-pool workers come
            // and go) and the kernel scales them to the exact run time; the per-thread figures miss those.
            context.Report.Add(name, "CPU", ticks * 1000.0 / ProcStat.TicksPerSecond / Seconds, "ms/s", $"utime + stime, whole process; threads alive throughout: {split.Sum(r => r.RunNs) / 1e6 / Seconds:F2} ms/s (schedstat); goal <= 1");
            context.Report.Add(name, "RSS", rss / 1e6, "MB", $"at the end; max sampled {maxRss / 1e6:F0} MB; goal <= 40");
            context.Report.Add(name, "threads", threadsAfter.Count, "");
            context.Report.Add(name, "wake-ups", split.Sum(r => r.VoluntarySwitches) / (double)Seconds, "/s", "voluntary context switches, all threads");
            context.Report.AddTable(
                string.Create(CultureInfo.InvariantCulture, $"idle {Seconds} s, {label}: CPU and wake-ups per thread (load average {File.ReadAllText("/proc/loadavg")[..14].Trim()})"),
                ThreadCpuSplit.CpuMarkdown(split, 0));
        }
    }
}
