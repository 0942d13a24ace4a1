using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Ingest.Bench.Support;
using Ingest.Sinks.Broker;
using Ingest.Sinks.Kafka;
using Ingest.Transports.Netlink;

namespace Ingest.Bench.Fleet;

/// <summary>
/// N real idle daemons (default 200; FLEET_N overrides) on this machine against one embedded
/// broker, each with its own HostId, runtime directory and UDP port, heartbeating at the default
/// 10 s: per-host idle CPU and RSS, broker bytes/s per host (on the wire, counted by each host's
/// relay to the broker, both ways; and the record values and keys it adds to kernel.events), and
/// `ingest fleet` CPU following them; then fleet commands to all N, completion p50/p99.
/// </summary>
public sealed class FleetHostsBenchmark : IBenchmark
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(60);
    private const int Commands = 4;

    public string Name => "fleet-hosts";

    public string Description => $"{Count} idle daemons, each in its own netns: per-host CPU, RSS, broker bytes/s; `ingest fleet` CPU; fleet command p50/p99";

    private static int Count => int.TryParse(Environment.GetEnvironmentVariable("FLEET_N"), CultureInfo.InvariantCulture, out var n) && n > 0 ? n : 200;

    public async Task RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        var samples = await context.RepeatAsync("fleet-hosts", _ => OnceAsync(context, Count, cancellationToken)).ConfigureAwait(false);
        var note = $"N={samples.Min(s => s.Hosts)} (asked {Count}), heartbeat 10 s, UDP source idle, /proc scrapes on (10 s), {Window.TotalSeconds:0} s window";
        context.Report.Add("fleet-hosts", "daemon idle CPU per host", BenchContext.Median(samples.Select(s => s.CpuPercentPerHost)), "% of one core", note);
        context.Report.Add("fleet-hosts", "daemon RSS per host (median)", BenchContext.Median(samples.Select(s => s.RssMiB)), "MiB");
        context.Report.Add("fleet-hosts", "broker bytes/s per host, host to broker", BenchContext.Median(samples.Select(s => s.WireUpPerSecondPerHost)), "B/s", "on the wire (Kafka protocol), every connection of the daemon");
        context.Report.Add("fleet-hosts", "broker bytes/s per host, broker to host", BenchContext.Median(samples.Select(s => s.WireDownPerSecondPerHost)), "B/s", "on the wire: produce acks, command-consumer fetches, metadata");
        context.Report.Add("fleet-hosts", "kernel.events bytes/s per host", BenchContext.Median(samples.Select(s => s.BytesPerSecondPerHost)), "B/s", "record values + keys (what the topic stores)");
        context.Report.Add("fleet-hosts", "heartbeat record size", BenchContext.Median(samples.Select(s => s.HeartbeatBytes)), "B");
        context.Report.Add("fleet-hosts", "ingest fleet CPU at N", BenchContext.Median(samples.Select(s => s.FleetCpuPercent)), "% of one core");
        context.Report.Add("fleet-hosts", "hosts in the fleet view", BenchContext.Median(samples.Select(s => (double)s.HostsSeen)), "hosts", "live view, after the window");
        context.Report.Add("fleet-hosts", "hosts in `fleet --once` (not stale)", BenchContext.Median(samples.Select(s => (double)s.HostsOnce)), "hosts");
        context.Report.Add("fleet-hosts", "fleet command completion p50", BenchContext.Median(samples.Select(s => s.CommandP50Ms)), "ms", $"per host, publish to verified result; {Commands} commands to all N, --parallel 256");
        context.Report.Add("fleet-hosts", "fleet command completion p99", BenchContext.Median(samples.Select(s => s.CommandP99Ms)), "ms");
        context.Report.Add("fleet-hosts", "fleet command wall time, all N", BenchContext.Median(samples.Select(s => s.CommandWallSeconds)), "s", "`ingest send` process start to exit");
        context.Report.Add("fleet-hosts", "hosts applied per fleet command", BenchContext.Median(samples.Select(s => s.Applied)), "hosts");
    }

    private static async Task<Sample> OnceAsync(BenchContext context, int count, CancellationToken cancellationToken)
    {
        using var broker = EmbeddedBroker.Start();
        broker.CreateTopic("kernel.events", 4);
        var root = Path.Combine(Path.GetTempPath(), $"ingest-fleet-bench-{Guid.NewGuid():N}");
        Directory.CreateDirectory(root);
        var daemons = new List<ChildProcess>();
        var relays = new List<TcpForwarder>();
        var namespaces = new List<string>();
        var brokerEndpoint = IPEndPoint.Parse(broker.BootstrapServers);
        var operatorKey = Path.Combine(root, "ops.key");
        Ingest.Commands.CommandKeys.Generate(operatorKey, Path.Combine(root, "ops.pub"));
        var hostKeys = Directory.CreateDirectory(Path.Combine(root, "hosts")).FullName;
        var tag = Guid.NewGuid().ToString("N")[..6];
        try
        {
            for (var i = 0; i < count; i++)
            {
                // The largest N this machine holds: stop adding daemons before memory runs short
                // (other work shares the machine).
                if (MemAvailableBytes() < MinFreeBytes)
                {
                    context.Progress($"fleet-hosts: stopping at {i} daemons: MemAvailable below {MinFreeBytes >> 30} GiB");
                    count = i;
                    break;
                }

                var runtime = Path.Combine(root, $"h{i}");
                Directory.CreateDirectory(runtime);
                var hostKey = Path.Combine(runtime, "host.key");
                Ingest.Commands.CommandKeys.Generate(hostKey, Path.Combine(hostKeys, $"bench-{i:D4}.pub"));
                // Each daemon in its own network namespace (commands write a per-namespace
                // sysctl), reaching the broker through a relay opened inside it (tests/Ingest.Tests/Fleet/SimulatedFleet.cs).
                var netns = $"ingest-b{tag}-{i:D4}";
                await Ip("netns", "add", netns).ConfigureAwait(false);
                namespaces.Add(netns);
                await Ip("-n", netns, "link", "set", "lo", "up").ConfigureAwait(false);
                relays.Add(NetworkNamespace.Run(Path.Combine(NetworkNamespace.NamedDirectory, netns), () => new TcpForwarder(brokerEndpoint, brokerEndpoint)));
                daemons.Add(ChildProcess.Start(
                    "/usr/sbin/ip", "netns", "exec", netns, context.IngestPath,
                    "run", "--bootstrap", broker.BootstrapServers, "--host-id", $"bench-{i:D4}", "--udp", $"127.0.0.1:{FreeUdpPort()}", "--stats-interval", "0", "--spool-dir", Path.Combine(runtime, "spool"),
                    "--set", $"RuntimeDirectory={runtime}", "--set", "Netlink:Enabled=false", "--set", "Signals:Enabled=false", "--set", "Upcall:Enabled=false", "--set", "Ring:Enabled=off",
                    "--set", "Commands:Enabled=true", "--set", $"Commands:HostKey={hostKey}", "--set", $"Commands:TrustedKeys:0={Path.Combine(root, "ops.pub")}", "--set", $"Commands:StateDirectory={Path.Combine(runtime, "state")}",
                    "--set", "Commands:Sysctl:0:Key=net.ipv4.tcp_keepalive_time", "--set", "Commands:Sysctl:0:Min=30", "--set", "Commands:Sysctl:0:Max=7200"));
                if (i % 20 == 19)
                {
                    // Start in waves so start-up (JIT) does not starve the ones already running.
                    await Task.WhenAll(daemons.Skip(i - 19).Select(d => d.WaitForLineAsync("bootstrap=", TimeSpan.FromMinutes(5)))).ConfigureAwait(false);
                    context.Progress($"fleet-hosts: {i + 1}/{count} daemons up");
                }
            }

            await Task.WhenAll(daemons.Select(d => d.WaitForLineAsync("bootstrap=", TimeSpan.FromMinutes(5)))).ConfigureAwait(false);
            context.Progress($"fleet-hosts: {count} daemons up; settling 20 s");
            await Task.Delay(TimeSpan.FromSeconds(20), cancellationToken).ConfigureAwait(false);

            using var fleet = ChildProcess.Start(context.IngestPath, "fleet", "--bootstrap", broker.BootstrapServers, "--json", "--limit", "40", "--sort", "seen", "--since", "60", "--refresh", "1");
            // What the hosts add to kernel.events from now on: read from the topic's end. (Reading
            // "since now" instead made the reader guess, on this broker without offsets-for-times,
            // from the newest record's time whether to read the partitions from their oldest
            // record; under load that guess timed out and the counter read 0.)
            using var reader = new KafkaRecentReader(broker.BootstrapServers, "kernel.events", since: null);
            while (!reader.Assigned)
            {
                reader.Read(TimeSpan.FromMilliseconds(200));
            }

            await Task.Delay(TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
            var wireUpBefore = relays.Sum(r => r.BytesToTarget);
            var wireDownBefore = relays.Sum(r => r.BytesFromTarget);
            var cpuBefore = daemons.Select(d => d.CpuNanoseconds()).ToArray();
            var selfBefore = ProcStat.Threads(Environment.ProcessId);
            var fleetBefore = fleet.CpuNanoseconds();
            var clock = Stopwatch.StartNew();
            long bytes = 0;
            long heartbeatBytes = 0;
            while (clock.Elapsed < Window)
            {
                var record = reader.Read(TimeSpan.FromMilliseconds(100));
                if (record is not null)
                {
                    bytes += record.Value.Length + (record.Key?.Length ?? 0);
                    if (heartbeatBytes == 0 && record.Value.AsSpan().IndexOf("heartbeat"u8) >= 0)
                    {
                        heartbeatBytes = record.Value.Length + (record.Key?.Length ?? 0);
                    }
                }
            }

            var seconds = clock.Elapsed.TotalSeconds;

            // This process hosts the broker (librdkafka's mock cluster: one thread per broker) and
            // the N relays: if its threads use a whole core, the broker is what lags.
            var self = ThreadCpuSplit.Between(selfBefore, ProcStat.Threads(Environment.ProcessId)).OrderByDescending(r => r.RunNs).Take(4);
            context.Progress($"fleet-hosts: broker process (mock broker + relays + bench reader) CPU: {string.Join(", ", self.Select(r => $"{r.Name} x{r.Threads} {r.RunNs / 1e9 / seconds * 100:F1} %"))}");
            var wireUp = (relays.Sum(r => r.BytesToTarget) - wireUpBefore) / seconds / count;
            var wireDown = (relays.Sum(r => r.BytesFromTarget) - wireDownBefore) / seconds / count;
            var cpu = daemons.Select((d, i) => (d.CpuNanoseconds() - cpuBefore[i]) / 1e9 / seconds * 100).ToArray();
            var fleetCpu = (fleet.CpuNanoseconds() - fleetBefore) / 1e9 / seconds * 100;
            var rss = daemons.Select(d => d.RssBytes() / 1048576.0).ToArray();
            var last = fleet.Lines.LastOrDefault(l => l.StartsWith('{'));
            var seen = last is null ? 0 : JsonDocument.Parse(last).RootElement.GetProperty("hosts_total").GetInt32();
            context.Progress($"fleet-hosts: CPU per host median {BenchContext.Median(cpu):F3} % (max {cpu.Max():F3}), RSS median {BenchContext.Median(rss):F1} MiB (max {rss.Max():F1}), wire {wireUp:F1} B/s up + {wireDown:F1} B/s down per host, kernel.events {bytes / seconds / count:F1} B/s per host (reader: {reader.AssignFailures} failed positioning, last '{reader.LastAssignError}'), fleet {fleetCpu:F2} %, {seen} hosts seen");
            await fleet.TerminateAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);

            // Every host in a one-shot view; a host missing or stale is named, with its daemon's state.
            var names = Enumerable.Range(0, count).Select(i => $"bench-{i:D4}").ToList();
            using var once = ChildProcess.Start(context.IngestPath, "fleet", "--bootstrap", broker.BootstrapServers, "--once", "--json", "--since", "120", "--timeout", "60");
            await once.WaitForExitAsync(TimeSpan.FromMinutes(2)).ConfigureAwait(false);
            var onceJson = once.Lines.FirstOrDefault(l => l.StartsWith('{'));
            var live = new HashSet<string>(StringComparer.Ordinal);
            if (onceJson is not null)
            {
                foreach (var h in JsonDocument.Parse(onceJson).RootElement.GetProperty("hosts").EnumerateArray())
                {
                    if (!h.GetProperty("stale").GetBoolean())
                    {
                        live.Add(h.GetProperty("host").GetString()!);
                    }
                }
            }

            var absent = names.Where(n => !live.Contains(n)).ToList();
            context.Progress($"fleet-hosts: `fleet --once` shows {live.Count} live of {count}{(onceJson is null ? $" (no JSON; stderr: {string.Join(" | ", once.ErrorLines)})" : "")}");
            foreach (var name in absent.Take(10))
            {
                var d = daemons[names.IndexOf(name)];
                context.Progress($"fleet-hosts:   {name} absent or stale: daemon {(d.HasExited ? "exited" : "running")}; stderr tail: {string.Join(" | ", d.ErrorLines.TakeLast(3))}");
            }

            // Fleet commands: one `ingest send --hosts-file` to all N, a few times; each host's
            // completion is from its command's publication to its result.
            var hostsFile = Path.Combine(root, "hosts.txt");
            await File.WriteAllLinesAsync(hostsFile, Enumerable.Range(0, count).Select(i => $"bench-{i:D4}"), cancellationToken).ConfigureAwait(false);
            var completions = new List<double>();
            var walls = new List<double>();
            var applied = 0;
            for (var round = 0; round < Commands; round++)
            {
                var wall = Stopwatch.StartNew();
                using var send = ChildProcess.Start(context.IngestPath, "send", "--bootstrap", broker.BootstrapServers, "--key", operatorKey, "--host-pub", hostKeys, "--hosts-file", hostsFile,
                    "--sysctl", $"net.ipv4.tcp_keepalive_time={600 + round}", "--timeout", "60", "--parallel", "256");
                var exit = await send.WaitForExitAsync(TimeSpan.FromMinutes(3)).ConfigureAwait(false);
                walls.Add(wall.Elapsed.TotalSeconds);
                foreach (var line in send.Lines)
                {
                    var match = System.Text.RegularExpressions.Regex.Match(line, @"^applied .*\(([0-9]+) ms\)$");
                    if (match.Success)
                    {
                        applied++;
                        completions.Add(double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture));
                    }
                }

                context.Progress($"fleet-hosts: fleet command {round + 1}: exit {exit}, {send.Lines.LastOrDefault(l => l.StartsWith("summary:", StringComparison.Ordinal)) ?? "NO SUMMARY"}");
                foreach (var line in send.Lines.Where(l => l.StartsWith("refused or failed:", StringComparison.Ordinal) || l.StartsWith("timed out:", StringComparison.Ordinal) || l.StartsWith("without an outcome:", StringComparison.Ordinal)))
                {
                    context.Progress($"fleet-hosts:   {line}");
                }

                if (exit != 0)
                {
                    foreach (var line in send.ErrorLines)
                    {
                        context.Progress($"fleet-hosts:   stderr: {line}");
                    }
                }
            }

            completions.Sort();
            var p50 = completions.Count > 0 ? completions[completions.Count / 2] : double.NaN;
            var p99 = completions.Count > 0 ? completions[Math.Min(completions.Count - 1, (int)Math.Ceiling(completions.Count * 0.99) - 1)] : double.NaN;
            context.Progress($"fleet-hosts: command completion p50 {p50} ms, p99 {p99} ms, {applied} applied of {Commands * count}, wall {string.Join(", ", walls.Select(w => w.ToString("F1", CultureInfo.InvariantCulture)))} s");
            return new Sample(count, BenchContext.Median(cpu), BenchContext.Median(rss), wireUp, wireDown, bytes / seconds / count, heartbeatBytes, fleetCpu, seen, live.Count, p50, p99, BenchContext.Median(walls), applied / (double)Commands);
        }
        finally
        {
            await Task.WhenAll(daemons.Select(async d =>
            {
                try
                {
                    await d.TerminateAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }

                d.Dispose();
            })).ConfigureAwait(false);
            foreach (var relay in relays)
            {
                relay.Dispose();
            }

            foreach (var netns in namespaces)
            {
                await Ip("netns", "del", netns).ConfigureAwait(false);
            }

            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private const long MinFreeBytes = 3L << 30;

    private static async Task Ip(params string[] args)
    {
        using var ip = ChildProcess.Start("/usr/sbin/ip", args);
        var exit = await ip.WaitForExitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        if (exit != 0)
        {
            throw new InvalidOperationException($"ip {string.Join(' ', args)} exited {exit}");
        }
    }

    private static long MemAvailableBytes()
    {
        foreach (var line in File.ReadLines("/proc/meminfo"))
        {
            if (line.StartsWith("MemAvailable:", StringComparison.Ordinal))
            {
                return long.Parse(line.AsSpan(13).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture) * 1024;
            }
        }

        return long.MaxValue;
    }

    private static int FreeUdpPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    private sealed record Sample(int Hosts, double CpuPercentPerHost, double RssMiB, double WireUpPerSecondPerHost, double WireDownPerSecondPerHost, double BytesPerSecondPerHost, double HeartbeatBytes, double FleetCpuPercent, int HostsSeen, int HostsOnce, double CommandP50Ms, double CommandP99Ms, double CommandWallSeconds, double Applied);
}
