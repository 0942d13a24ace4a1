using System.Diagnostics;
using System.Globalization;
using Ingest.Bench.Support;

namespace Ingest.Bench.Startup;

/// <summary>
/// `ingest run` from exec to its UDP socket bound, against a separate `ingest broker`. "Bound" is
/// seen from outside, by polling /proc/net/udp for the port every millisecond, so the measurement
/// costs the daemon nothing (no readiness line to print or flush). Also: exec to the first stdout
/// line (bootstrap=...), and the CPU the daemon spent until bound. With BENCH_BASELINE_PATH, the
/// baseline build starts right before this one in every run (interleaved), with the ratio.
/// </summary>
public sealed class StartupBenchmark : IBenchmark
{
    public string Name => "startup";

    public string Description => "ingest run: exec -> UDP bound (polling /proc/net/udp), median of N; CPU spent until then";

    public async Task RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        if (!File.Exists(context.IngestPath))
        {
            throw new InvalidOperationException($"{context.IngestPath} is missing: run `make build` (make bench does)");
        }

        using var broker = ChildProcess.Start(context.IngestPath, "broker");
        var bootstrap = (await broker.WaitForLineAsync("bootstrap=", TimeSpan.FromSeconds(30)).ConfigureAwait(false)).Split('=', 2)[1];
        var builds = context.Builds;
        var runs = await context.RepeatAsync("startup", async _ =>
        {
            var samples = new Sample[builds.Count];
            for (var b = 0; b < builds.Count; b++)
            {
                samples[b] = await OnceAsync(context, builds[b].Path, bootstrap, cancellationToken).ConfigureAwait(false);
            }

            return samples;
        }).ConfigureAwait(false);
        await broker.TerminateAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);

        var bound = new double[builds.Count];
        for (var b = 0; b < builds.Count; b++)
        {
            var samples = runs.Select(r => r[b]).ToList();
            var name = builds.Count > 1 ? $"startup, ingest run (defaults, separate broker), {builds[b].Label}" : "startup, ingest run (defaults, separate broker)";
            bound[b] = BenchContext.Median(samples.Select(s => s.BoundMs));
            context.Report.Add(name, "exec -> UDP bound", bound[b], "ms", $"{samples.Min(s => s.BoundMs):F0} – {samples.Max(s => s.BoundMs):F0}; goal < 300; {builds[b].Path}");
            context.Report.Add(name, "exec -> first stdout line", BenchContext.Median(samples.Select(s => s.FirstLineMs)), "ms", "bootstrap=...");
            context.Report.Add(name, "CPU until bound", BenchContext.Median(samples.Select(s => s.CpuMs)), "ms", "utime + stime");
        }

        if (builds.Count > 1)
        {
            context.Report.Add("startup, ingest run (defaults, separate broker)", "exec -> UDP bound, this build / baseline", bound[1] / bound[0], "x", "medians");
        }

        context.Report.Add("startup, ingest run (defaults, separate broker)", "load average", double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture), "", "1 min, at the end (2 cores)");
    }

    private static async Task<Sample> OnceAsync(BenchContext context, string ingestPath, string bootstrap, CancellationToken cancellationToken)
    {
        var port = IngestUnderTest.FreeUdpPort();
        var hexPort = string.Create(CultureInfo.InvariantCulture, $":{port:X4} ");
        var runtime = Directory.CreateTempSubdirectory("ingest-bench-").FullName;
        var watch = Stopwatch.StartNew();
        using var daemon = ChildProcess.Start(ingestPath, "run", "--bootstrap", bootstrap, "--udp", $"127.0.0.1:{port}", "--set", $"RuntimeDirectory={runtime}");
        double bound = double.NaN, firstLine = double.NaN;
        long cpuTicks = 0;
        while (watch.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (double.IsNaN(firstLine) && daemon.Lines.Count > 0)
            {
                firstLine = watch.Elapsed.TotalMilliseconds;
            }

            if (File.ReadAllText("/proc/net/udp").Contains(hexPort, StringComparison.Ordinal))
            {
                bound = watch.Elapsed.TotalMilliseconds;
                cpuTicks = ProcStat.CpuTicks(daemon.Id);
                break;
            }

            await Task.Delay(1, cancellationToken).ConfigureAwait(false);
        }

        if (double.IsNaN(firstLine))
        {
            await daemon.WaitForLineAsync("bootstrap=", TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            firstLine = watch.Elapsed.TotalMilliseconds;
        }

        var exit = await daemon.TerminateAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        Directory.Delete(runtime, recursive: true);
        if (double.IsNaN(bound) || exit != 0)
        {
            throw new InvalidOperationException($"ingest run: UDP port {port} never bound or exit {exit}");
        }

        context.Progress(string.Create(CultureInfo.InvariantCulture, $"  bound after {bound:F0} ms, first line after {firstLine:F0} ms, CPU {cpuTicks * 10} ms"));
        return new Sample(bound, firstLine, cpuTicks * 1000.0 / ProcStat.TicksPerSecond);
    }

    private sealed record Sample(double BoundMs, double FirstLineMs, double CpuMs);
}
