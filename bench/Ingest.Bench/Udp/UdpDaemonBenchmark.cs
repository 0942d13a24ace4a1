using System.Globalization;
using Ingest.Bench.Support;

namespace Ingest.Bench.Udp;

/// <summary>
/// Issue 2's end-to-end figure: udpgen processes offer 100-byte datagrams as fast as they can to
/// `ingest run` (the published daemon), which publishes into a separate `ingest broker` process.
/// Measured from outside: offered rate, delivered events/s, loss, the daemon's CPU per delivered
/// event and its peak RSS.
/// </summary>
public sealed class UdpDaemonBenchmark : IBenchmark
{
    private const double Seconds = 5;
    private const int Size = 100;

    public string Name => "udp-e2e";

    public string Description => "udpgen (1 and 2 processes) -> ingest run -> ingest broker (separate process): delivered/s, loss, daemon CPU/event, peak RSS";

    public async Task RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        var udpgen = await UdpGen.LocateAsync(context, cancellationToken).ConfigureAwait(false);
        foreach (var generators in new[] { 1, 2 })
        {
            var samples = await context.RepeatAsync($"udp-e2e x{generators}", _ => OnceAsync(context, udpgen, generators, cancellationToken)).ConfigureAwait(false);
            var label = $"udp-e2e, {generators} generator{(generators > 1 ? "s" : "")}";
            context.Report.Add(label, "offered", BenchContext.Median(samples.Select(s => s.Offered)), "datagrams/s");
            context.Report.Add(label, "delivered", BenchContext.Median(samples.Select(s => s.Delivered)), "events/s");
            context.Report.Add(label, "loss", BenchContext.Median(samples.Select(s => s.LossPercent)), "%", $"unexplained by counters: {samples.Max(s => s.Unexplained)} (max)");
            context.Report.Add(label, "daemon CPU", BenchContext.Median(samples.Select(s => s.CpuNsPerEvent)), "ns/event");
            context.Report.Add(label, "daemon peak RSS", BenchContext.Median(samples.Select(s => s.PeakRssMb)), "MB");
        }
    }

    private static async Task<Sample> OnceAsync(BenchContext context, string udpgen, int generators, CancellationToken cancellationToken)
    {
        await using var ingest = await IngestUnderTest.StartAsync(context, TimeSpan.FromMilliseconds(500), cancellationToken,
            "--no-proc", "--stats-interval", "0", "--set", "Udp:ReceiveBufferBytes=33554432").ConfigureAwait(false);
        var daemon = ingest.Daemon;
        var cpuBefore = daemon.CpuNanoseconds();
        var gens = Enumerable.Range(0, generators).Select(_ => UdpGen.Start(udpgen, ingest.Udp, Seconds, Size, 64)).ToList();
        long sent = 0;
        double genSeconds = 0;
        foreach (var g in gens)
        {
            var r = await UdpGen.WaitAsync(g, cancellationToken).ConfigureAwait(false);
            sent += r.Sent;
            genSeconds = Math.Max(genSeconds, r.Seconds);
            g.Dispose();
        }

        // Every datagram accounted for (delivered or counted), or nothing moved for 2 s.
        var udp = await ingest.WaitAccountedAsync(sent, TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(false);
        var cpu = daemon.CpuNanoseconds() - cpuBefore;
        var rss = daemon.PeakRssBytes();
        await ingest.StopAsync().ConfigureAwait(false);

        var kernelDropped = udp.Transport.GetValueOrDefault("kernel_dropped");
        var lost = sent - udp.Delivered;
        var sample = new Sample(
            Offered: sent / genSeconds,
            Delivered: udp.Delivered / genSeconds,
            LossPercent: 100.0 * lost / Math.Max(1, sent),
            Unexplained: lost - kernelDropped - udp.DroppedTotal,
            CpuNsPerEvent: (double)cpu / Math.Max(1, udp.Delivered),
            PeakRssMb: rss / 1e6);
        context.Progress(string.Create(CultureInfo.InvariantCulture, $"  sent {sent:N0}, delivered {udp.Delivered:N0}, kernel_dropped {kernelDropped:N0}, dropped {udp.DroppedTotal:N0}, CPU {cpu / 1e9:F2} s, RSS {rss / 1e6:F0} MB"));
        return sample;
    }

    private sealed record Sample(double Offered, double Delivered, double LossPercent, long Unexplained, double CpuNsPerEvent, double PeakRssMb);
}
