using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Ingest.Bench.Support;
using Ingest.Telemetry;

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
        if (!File.Exists(context.IngestPath))
        {
            throw new InvalidOperationException($"{context.IngestPath} is missing: run `make build` (make bench does)");
        }

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
        using var broker = ChildProcess.Start(context.IngestPath, "broker");
        var bootstrap = (await broker.WaitForLineAsync("bootstrap=", TimeSpan.FromSeconds(30)).ConfigureAwait(false)).Split('=', 2)[1];
        var port = FreeUdpPort();
        var socket = Path.Combine(Path.GetTempPath(), $"ingest-bench-{Environment.ProcessId}-{port}.sock");
        using var daemon = ChildProcess.Start(context.IngestPath, "run", "--bootstrap", bootstrap, "--udp", $"127.0.0.1:{port}", "--no-proc",
            "--stats-interval", "0", "--set", $"Stats:ControlSocket={socket}", "--set", "Udp:ReceiveBufferBytes=33554432",
            "--spool-dir", Path.Combine(Path.GetTempPath(), $"ingest-bench-spool-{Environment.ProcessId}-{port}"));
        await daemon.WaitForLineAsync("bootstrap=", TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        for (var i = 0; i < 500 && !File.Exists(socket); i++)
        {
            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }

        await Task.Delay(500, cancellationToken).ConfigureAwait(false); // producer connected, JIT warm-up of startup paths
        var cpuBefore = daemon.CpuNanoseconds();
        var target = new IPEndPoint(IPAddress.Loopback, port);
        var gens = Enumerable.Range(0, generators).Select(_ => UdpGen.Start(udpgen, target, Seconds, Size, 64)).ToList();
        long sent = 0;
        double genSeconds = 0;
        foreach (var g in gens)
        {
            var r = await UdpGen.WaitAsync(g, cancellationToken).ConfigureAwait(false);
            sent += r.Sent;
            genSeconds = Math.Max(genSeconds, r.Seconds);
            g.Dispose();
        }

        // Wait until every datagram is accounted for (delivered or counted) or nothing moves for 2 s.
        SourceSnapshot udp;
        long last = -1;
        var stableSince = DateTime.UtcNow;
        while (true)
        {
            var snapshot = await ControlSocket.ReadAsync(socket, cancellationToken).ConfigureAwait(false);
            udp = snapshot.Sources.Single(s => s.Channel == "udp");
            var accounted = udp.Delivered + udp.DroppedTotal + udp.Transport.GetValueOrDefault("kernel_dropped");
            if (accounted >= sent)
            {
                break;
            }

            if (accounted != last)
            {
                last = accounted;
                stableSince = DateTime.UtcNow;
            }
            else if (DateTime.UtcNow - stableSince > TimeSpan.FromSeconds(2))
            {
                break;
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }

        var cpu = daemon.CpuNanoseconds() - cpuBefore;
        var rss = daemon.PeakRssBytes();
        var exit = await daemon.TerminateAsync(TimeSpan.FromSeconds(60)).ConfigureAwait(false);
        await broker.TerminateAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        if (exit != 0)
        {
            throw new InvalidOperationException($"ingest run exited with {exit}");
        }

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

    private static int FreeUdpPort()
    {
        using var probe = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.Client.LocalEndPoint!).Port;
    }

    private sealed record Sample(double Offered, double Delivered, double LossPercent, long Unexplained, double CpuNsPerEvent, double PeakRssMb);
}
