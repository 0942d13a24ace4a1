using System.Diagnostics;
using Ingest.Transports.Udp;

namespace Ingest.Bench.Udp;

/// <summary>
/// UdpSource alone: one and two udpgen processes send 100-byte datagrams at full rate to one
/// source whose writer only reads the bytes. Reports received events/s, loss that no counter
/// explains (sent - received - kernel drops, which must be 0), kernel drops, and this process's
/// CPU time per received event.
/// </summary>
public sealed class UdpReceiveBenchmark : IBenchmark
{
    private const double SendSeconds = 3;
    private const int DatagramSize = 100;
    private const int SendBatch = 64;

    public string Name => "udp";

    public string Description => "UdpSource receive rate from 1 and 2 udpgen senders (100 B datagrams, full rate)";

    public async Task RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        var udpgen = await UdpGen.LocateAsync(context, cancellationToken).ConfigureAwait(false);
        foreach (var senders in (int[])[1, 2])
        {
            var samples = await context.RepeatAsync($"udp x{senders}", _ => RunOnceAsync(udpgen, senders, cancellationToken)).ConfigureAwait(false);
            var name = $"udp receive, {senders} sender{(senders > 1 ? "s" : string.Empty)}";
            context.Report.Add(name, "received", BenchContext.Median(samples.Select(s => s.ReceivedPerSecond)), "events/s");
            context.Report.Add(name, "sent", BenchContext.Median(samples.Select(s => s.SentPerSecond)), "datagrams/s", "udpgen total");
            context.Report.Add(name, "kernel drops", BenchContext.Median(samples.Select(s => s.DropFraction * 100)), "% of sent", "counted (kernel_dropped)");
            context.Report.Add(name, "unexplained loss", samples.Max(s => (double)s.Unexplained), "datagrams", "max over runs; sent - received - counted drops");
            context.Report.Add(name, "cpu per event", BenchContext.Median(samples.Select(s => s.CpuNsPerEvent)), "ns", "process CPU / received");
            context.Report.Add(name, "batch fill", BenchContext.Median(samples.Select(s => s.MeanBatch)), "datagrams/recvmmsg", $"of {UdpSourceOptions.DefaultReceiveBatch}");
        }
    }

    private static async Task<Sample> RunOnceAsync(string udpgen, int senders, CancellationToken cancellationToken)
    {
        using var source = new UdpSource(new UdpSourceOptions { Endpoint = "127.0.0.1:0" });
        var writer = new TouchingEventWriter();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var run = source.RunAsync(writer, stop.Token);
        var self = Process.GetCurrentProcess();
        var cpuBefore = self.TotalProcessorTime;

        var processes = new List<Process>();
        for (var i = 0; i < senders; i++)
        {
            processes.Add(UdpGen.Start(udpgen, source.LocalEndPoint, SendSeconds, DatagramSize, SendBatch));
        }

        long sent = 0;
        double seconds = 0;
        foreach (var process in processes)
        {
            using (process)
            {
                var result = await UdpGen.WaitAsync(process, cancellationToken).ConfigureAwait(false);
                sent += result.Sent;
                seconds = Math.Max(seconds, result.Seconds);
            }
        }

        // Drain what is still queued: done when everything is accounted for, or nothing moved
        // for half a second (the source syncs the kernel's drop count while idle).
        var dropped = source.Counters["kernel_dropped"];
        var last = -1L;
        var quiet = Stopwatch.StartNew();
        while (writer.Events + dropped.Value < sent && quiet.Elapsed < TimeSpan.FromMilliseconds(500))
        {
            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
            if (writer.Events != last)
            {
                last = writer.Events;
                quiet.Restart();
            }
        }

        self.Refresh();
        var cpu = self.TotalProcessorTime - cpuBefore;
        await stop.CancelAsync().ConfigureAwait(false);
        await run.ConfigureAwait(false);

        var received = writer.Events;
        return new Sample(
            ReceivedPerSecond: received / seconds,
            SentPerSecond: sent / seconds,
            DropFraction: sent == 0 ? 0 : (double)dropped.Value / sent,
            Unexplained: sent - received - dropped.Value,
            CpuNsPerEvent: received == 0 ? double.NaN : cpu.TotalNanoseconds / received,
            MeanBatch: (double)source.Counters["datagrams"].Value / Math.Max(1, source.Counters["batches"].Value));
    }

    private sealed record Sample(double ReceivedPerSecond, double SentPerSecond, double DropFraction, long Unexplained, double CpuNsPerEvent, double MeanBatch);
}
