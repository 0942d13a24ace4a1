using System.Diagnostics;
using System.Globalization;
using System.Text;
using Ingest.Testing;
using Ingest.Transports.Interop;
using Ingest.Transports.Netlink;
using Tmds.Linux;

namespace Ingest.Bench.Netlink;

/// <summary>
/// Netlink multicast receive rate on the host. In a private namespace, `ip -batch` makes a burst
/// of N RTM_NEWADDR/RTM_DELADDR notifications (adding and removing addresses on a veth) while the
/// reader is held, so the burst waits in a large receive buffer; then the reader is let go and
/// the drain is timed. That measures the receiver, not `ip` (which manages a few thousand
/// changes per second on a shared machine). Two readers, side by side in every run: the
/// RtnetlinkSource decoding into a counting writer, and a bare netlink socket that only
/// receives (the ceiling).
/// </summary>
public sealed class RtnetlinkBurstBenchmark : IBenchmark
{
    private const int Events = 20_000;
    private const int ReceiveBuffer = 64 << 20;

    public string Name => "netlink";

    public string Description => $"rtnetlink burst of {Events:N0} address notifications: RtnetlinkSource vs bare socket drain rate";

    public async Task RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        if (LibC.geteuid() != 0)
        {
            context.Progress("netlink: needs root (ip netns add, SO_RCVBUFFORCE); skipped");
            return;
        }

        var netns = $"ingest-bench-{Environment.ProcessId}";
        Exec("ip", $"netns add {netns}");
        try
        {
            Exec("ip", $"-n {netns} link add bench0 type veth peer name bench1");
            Exec("ip", $"-n {netns} link set bench0 up");
            var options = new NetlinkSourceOptions
            {
                NetworkNamespace = Path.Combine(NetworkNamespace.NamedDirectory, netns),
                ReceiveBufferSize = ReceiveBuffer,
            };
            var batch = BuildBatch();
            var samples = await context.RepeatAsync("rtnetlink burst", async run =>
            {
                var source = await MeasureSourceAsync(netns, options, batch, 1300 + run, cancellationToken).ConfigureAwait(false);
                var bare = await MeasureBareAsync(netns, options, batch, cancellationToken).ConfigureAwait(false);
                return (Source: source, Bare: bare);
            }).ConfigureAwait(false);

            var note = $"{Events:N0} notifications, rcvbuf {ReceiveBuffer >> 20} MiB, median of {context.Runs}";
            context.Report.Add("netlink rtnetlink source", "drain rate", BenchContext.Median(samples.Select(s => s.Source.PerSecond)), "events/s", note);
            context.Report.Add("netlink bare socket", "drain rate", BenchContext.Median(samples.Select(s => s.Bare.PerSecond)), "msgs/s", note + " (ceiling)");
            context.Report.Add("netlink rtnetlink source", "lost", BenchContext.Median(samples.Select(s => (double)s.Source.Lost)), "events", note);
            context.Report.Add("netlink rtnetlink source", "overruns", BenchContext.Median(samples.Select(s => (double)s.Source.Overruns)), "ENOBUFS", note);
            context.Report.Add("netlink bare socket", "lost", BenchContext.Median(samples.Select(s => (double)s.Bare.Lost)), "msgs", note);
            context.Report.Add("netlink producer", "ip -batch", BenchContext.Median(samples.Select(s => s.Source.ProducedPerSecond)), "changes/s", "for scale: the kernel side of the burst");
        }
        finally
        {
            Exec("ip", $"netns del {netns}");
        }
    }

    private static async Task<Sample> MeasureSourceAsync(string netns, NetlinkSourceOptions options, string batch, int mtu, CancellationToken cancellationToken)
    {
        var source = new RtnetlinkSource(options);
        var writer = new CountingEventWriter();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var running = source.RunAsync(writer, cts.Token);
        await source.Ready.ConfigureAwait(false);

        // One event (a new MTU each run: setting the same one is no change) parks the source in
        // Flush; then the burst lands in its socket.
        writer.Hold();
        Exec("ip", $"-n {netns} link set bench0 mtu {mtu}");
        await writer.WaitHeldAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
        var produced = Produce(netns, batch);

        var start = Stopwatch.GetTimestamp();
        writer.Release();
        var target = Events + 1;
        await WaitForAsync(() => writer.Count, target, cancellationToken).ConfigureAwait(false);
        var sample = new Sample(
            PerSecond: (writer.Count - 1) / Stopwatch.GetElapsedTime(start, writer.LastEndTimestamp).TotalSeconds,
            Lost: target - writer.Count,
            Overruns: source.Counters["overrun"].Value,
            ProducedPerSecond: Events / produced.TotalSeconds);
        await cts.CancelAsync().ConfigureAwait(false);
        await running.ConfigureAwait(false);
        return sample;
    }

    private static async Task<Sample> MeasureBareAsync(string netns, NetlinkSourceOptions options, string batch, CancellationToken cancellationToken)
    {
        using var socket = NetlinkSocket.Open(NetlinkProtocol.Route, networkNamespace: options.NetworkNamespace);
        socket.SetReceiveBufferSize(options.ReceiveBufferSize);
        socket.JoinGroup(Sys.RTNLGRP_LINK);
        socket.JoinGroup(Sys.RTNLGRP_IPV4_IFADDR);
        socket.JoinGroup(Sys.RTNLGRP_IPV6_IFADDR);
        var produced = Produce(netns, batch);

        long received = 0, overruns = 0, last = 0;
        var start = Stopwatch.GetTimestamp();
        var reader = Task.Factory.StartNew(
            () =>
            {
                var buffer = new byte[options.DatagramBufferSize];
                while (Volatile.Read(ref received) < Events)
                {
                    switch (socket.TryReceive(buffer).Status)
                    {
                        case NetlinkReceiveStatus.WouldBlock:
                            if (!socket.Wait(500))
                            {
                                return; // nothing for half a second: the rest was lost
                            }

                            break;
                        case NetlinkReceiveStatus.Overrun:
                            overruns++;
                            break;
                        default:
                            Volatile.Write(ref last, Stopwatch.GetTimestamp());
                            Volatile.Write(ref received, received + 1);
                            break;
                    }
                }
            },
            cancellationToken,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
        await reader.ConfigureAwait(false);
        return new Sample(received / Stopwatch.GetElapsedTime(start, last).TotalSeconds, Events - received, overruns, Events / produced.TotalSeconds);
    }

    private static async Task WaitForAsync(Func<long> count, long target, CancellationToken cancellationToken)
    {
        var seen = count();
        var quietSince = Stopwatch.GetTimestamp();
        while (count() < target && Stopwatch.GetElapsedTime(quietSince).TotalMilliseconds < 500)
        {
            await Task.Delay(2, cancellationToken).ConfigureAwait(false);
            if (count() != seen)
            {
                seen = count();
                quietSince = Stopwatch.GetTimestamp();
            }
        }
    }

    private static TimeSpan Produce(string netns, string batch)
    {
        var start = Stopwatch.GetTimestamp();
        Exec("ip", $"-n {netns} -batch -", batch);
        return Stopwatch.GetElapsedTime(start);
    }

    // Adding and removing the same few addresses keeps each change O(1) in the kernel (a long
    // address list makes every add slower); each line is one notification.
    private static string BuildBatch()
    {
        var sb = new StringBuilder(Events * 40);
        for (var i = 0; i < Events / 2; i++)
        {
            var address = string.Create(CultureInfo.InvariantCulture, $"10.9.0.{(i % 8) + 1}/32");
            sb.Append(CultureInfo.InvariantCulture, $"addr add {address} dev bench0\naddr del {address} dev bench0\n");
        }

        return sb.ToString();
    }

    private static void Exec(string file, string args, string? stdin = null)
    {
        var info = new ProcessStartInfo(file, args) { RedirectStandardError = true, RedirectStandardInput = stdin is not null };
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {file}");
        if (stdin is not null)
        {
            process.StandardInput.Write(stdin);
            process.StandardInput.Close();
        }

        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {args} exited {process.ExitCode}: {stderr}");
        }
    }

    private readonly record struct Sample(double PerSecond, long Lost, long Overruns, double ProducedPerSecond);
}
