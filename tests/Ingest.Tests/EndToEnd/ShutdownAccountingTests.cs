using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using Ingest.Tests.Support;

namespace Ingest.Tests.EndToEnd;

/// <summary>
/// SIGTERM under load, against the real `ingest` executable and a separate embedded broker:
/// at exit every source's figures add up exactly (received = delivered + dropped + in_flight +
/// spooled, nothing left in flight), and an independent consumer (kcat + python3-msgpack) finds
/// what the figures say was delivered.
/// </summary>
public partial class ShutdownAccountingTests
{
    [Fact]
    public async Task Sigterm_under_load_leaves_every_source_exactly_accounted()
    {
        var ct = TestContext.Current.CancellationToken;
        var kcat = ProcessRunner.Find("kcat");
        var python = ProcessRunner.Find("/usr/bin/python3");
        if (kcat is null || python is null)
        {
            Assert.Skip($"kcat or /usr/bin/python3 missing (kcat={kcat ?? "absent"}); `make deps-test` installs them");
        }

        using var broker = CliProcess.Start("broker");
        var bootstrap = (await broker.WaitForLineAsync("bootstrap=")).Split('=', 2)[1];
        var port = FreeUdpPort();
        var socket = Path.Combine(Path.GetTempPath(), $"ingest-shutdown-{Guid.NewGuid():N}.sock");

        // Every source `ingest run` starts on this host (udp, proc, netlink, signal, upcall) with
        // small batches and a short shutdown flush, so the stop finds work on every edge.
        using var daemon = CliProcess.Start(
            "run", "--bootstrap", bootstrap, "--udp", $"127.0.0.1:{port}", "--stats-interval", "0", "--host-id", "shutdown-host",
            "--set", $"Stats:ControlSocket={socket}",
            "--set", "Proc:IntervalSeconds=0.1",
            "--set", "Pipeline:Batch:MaxEvents=200",
            "--set", "Pipeline:Batch:LingerMs=5",
            "--set", "ShutdownTimeoutSeconds=2",
            "--set", $"RuntimeDirectory={Path.Combine(Path.GetTempPath(), $"ingest-shutdown-{Guid.NewGuid():N}")}");
        await daemon.WaitForLineAsync("bootstrap=");
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!File.Exists(socket) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, ct);
        }

        // Datagrams before, during and after the SIGTERM: about 10k/s and at most MaxDatagrams, so
        // the topic stays within the embedded broker's retention (~5 MiB a partition) and the
        // independent count below sees every delivered event.
        const int MaxDatagrams = 40_000;
        using var flood = new CancellationTokenSource();
        long sent = 0;
        var sender = Task.Run(
            () =>
            {
                using var client = new UdpClient(AddressFamily.InterNetwork);
                client.Connect(IPAddress.Loopback, port);
                var payload = new byte[64];
                while (!flood.IsCancellationRequested && sent < MaxDatagrams)
                {
                    try
                    {
                        client.Send(payload);
                        if (++sent % 10 == 0)
                        {
                            Thread.Sleep(1);
                        }
                    }
                    catch (SocketException)
                    {
                        // Connection refused: the daemon closed its port while stopping.
                    }
                }
            },
            ct);
        await Task.Delay(2000, ct);
        daemon.Terminate();
        Assert.Equal(0, await daemon.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        await flood.CancelAsync();
        await sender;

        var finals = daemon.Stdout.Select(l => FinalLine().Match(l)).Where(m => m.Success).ToList();
        Assert.True(finals.Count >= 3, $"expected a final line per source; stdout: {string.Join('\n', daemon.Stdout)}");
        var figures = new Dictionary<string, (long Received, long Delivered, long Dropped, long InFlight, long Spooled, long Possibly)>();
        foreach (var m in finals)
        {
            long N(string name) => long.Parse(m.Groups[name].Value, System.Globalization.CultureInfo.InvariantCulture);
            var f = (N("received"), N("delivered"), N("dropped"), N("inflight"), N("spooled"), N("possibly"));
            figures[m.Groups["source"].Value] = f;
            Assert.True(f.Item1 == f.Item2 + f.Item3 + f.Item4 + f.Item5, $"{m.Value}: received != delivered + dropped + in_flight + spooled");
            Assert.True(f.Item4 == 0, $"{m.Value}: records still in flight at exit");
            Assert.Equal("0", m.Groups["unaccounted"].Value);
        }

        var udp = figures[$"udp/127.0.0.1:{port}"];
        Assert.True(udp.Received > 1000, $"the load did not arrive: {udp}");
        Assert.Contains(figures.Keys, k => k.StartsWith("proc/", StringComparison.Ordinal));
        Assert.DoesNotContain("is not delivered=", daemon.Stderr, StringComparison.Ordinal);

        // An independent consumer: every event counted delivered is in the topic, at most the
        // possibly-delivered ones more, and nothing the daemon never received.
        var dump = await ProcessRunner.RunAsync(kcat, ["-b", bootstrap, "-C", "-t", "kernel.events", "-o", "beginning", "-e", "-q", "-f", "%R%s"], timeout: TimeSpan.FromSeconds(120));
        Assert.True(dump.ExitCode == 0, dump.Stderr);
        var script = Path.Combine(AppContext.BaseDirectory, "EndToEnd", "decode_records.py");
        var decoded = await ProcessRunner.RunAsync(python, [script], stdin: dump.Stdout, timeout: TimeSpan.FromSeconds(120));
        Assert.True(decoded.ExitCode == 0, decoded.Stderr);
        var udpSeqs = decoded.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement)
            .Where(e => e.GetProperty("channel").GetString() == "udp")
            .Select(e => e.GetProperty("seq").GetInt64())
            .ToHashSet();
        Assert.True(udpSeqs.Count >= udp.Delivered, $"the topic holds {udpSeqs.Count} udp events, the daemon counted {udp.Delivered} delivered");
        Assert.True(udpSeqs.Count <= udp.Delivered + udp.Possibly, $"the topic holds {udpSeqs.Count} udp events: more than delivered {udp.Delivered} + possibly_delivered {udp.Possibly}");
        Assert.True(udpSeqs.Count == 0 || udpSeqs.Max() < udp.Received, "an event in the topic the daemon never counted as received");

        broker.Terminate();
        Assert.Equal(0, await broker.WaitForExitAsync(TimeSpan.FromSeconds(30)));
    }

    /// <summary>
    /// The purge path of the shipped (NativeAOT) executable: with the broker SIGSTOPped, nothing
    /// can be delivered, so at SIGTERM the shutdown flush times out and rd_kafka_purge (reached
    /// through Confluent.Kafka's internal handle) must give every record its report. Without it the
    /// records would still be in flight at exit, and the final line would not add up.
    /// </summary>
    [Fact]
    public async Task Sigterm_with_the_broker_stopped_purges_every_record_and_counts_it_dropped()
    {
        var ct = TestContext.Current.CancellationToken;
        using var broker = CliProcess.Start("broker");
        var bootstrap = (await broker.WaitForLineAsync("bootstrap=")).Split('=', 2)[1];
        var port = FreeUdpPort();
        var socket = Path.Combine(Path.GetTempPath(), $"ingest-purge-{Guid.NewGuid():N}.sock");
        using var daemon = CliProcess.Start(
            "run", "--bootstrap", bootstrap, "--udp", $"127.0.0.1:{port}", "--no-proc", "--stats-interval", "0", "--host-id", "purge-host",
            "--set", "Spool:Mode=off",
            "--set", "Heartbeat:Enabled=false",
            "--set", "Netlink:Uevent=false", "--set", "Netlink:Rtnetlink=false", "--set", "Signals:Enabled=false", "--set", "Upcall:Enabled=false",
            "--set", "Pipeline:Batch:LingerMs=5",
            "--set", "ShutdownTimeoutSeconds=1",
            "--set", $"Stats:ControlSocket={socket}",
            "--set", $"RuntimeDirectory={Path.Combine(Path.GetTempPath(), $"ingest-purge-{Guid.NewGuid():N}")}");
        await daemon.WaitForLineAsync("bootstrap=");

        // The control socket is up once every source has started (the UDP port is bound).
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!File.Exists(socket) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, ct);
        }

        Assert.Equal(0, kill(broker.Pid, SIGSTOP));
        try
        {
            const int Datagrams = 300;
            using (var client = new UdpClient(AddressFamily.InterNetwork))
            {
                client.Connect(IPAddress.Loopback, port);
                for (var i = 0; i < Datagrams; i++)
                {
                    await client.SendAsync(new byte[32], ct);
                }
            }

            await Task.Delay(1000, ct);
            daemon.Terminate();
            Assert.Equal(0, await daemon.WaitForExitAsync(TimeSpan.FromSeconds(60)));

            var final = daemon.Stdout.Select(l => FinalLine().Match(l)).Single(m => m.Success && m.Groups["source"].Value == $"udp/127.0.0.1:{port}");
            long N(string name) => long.Parse(final.Groups[name].Value, System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(N("received") == Datagrams, $"the datagrams did not all arrive: {final.Value}");
            Assert.True(N("delivered") == 0 && N("inflight") == 0 && N("dropped") == Datagrams, $"every record purged and counted: {final.Value}");
            Assert.Equal("0", final.Groups["unaccounted"].Value);
            Assert.DoesNotContain("rd_kafka_purge failed", daemon.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            kill(broker.Pid, SIGCONT);
        }
    }

    [GeneratedRegex(@"^final (?<source>\S+): received=(?<received>\d+) delivered=(?<delivered>\d+) dropped=(?<dropped>\d+) in_flight=(?<inflight>-?\d+) spooled=(?<spooled>-?\d+) rewinds=\d+ unaccounted=(?<unaccounted>-?\d+) \(.*possibly_delivered=(?<possibly>\d+)[^)]*\)$")]
    private static partial Regex FinalLine();

    private const int SIGSTOP = 19;
    private const int SIGCONT = 18;

    [LibraryImport("libc")]
    private static partial int kill(int pid, int signal);

    private static int FreeUdpPort()
    {
        using var probe = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.Client.LocalEndPoint!).Port;
    }
}
