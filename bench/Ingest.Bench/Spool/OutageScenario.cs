using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Ingest.Bench.Support;
using Ingest.Bench.Udp;
using Ingest.Encoding;
using Ingest.Sinks.Kafka;
using Ingest.Telemetry;

namespace Ingest.Bench.Spool;

/// <summary>
/// A broker outage as an operator would see it: udpgen offers datagrams at a fixed rate to
/// `ingest run` (the published daemon, on its defaults plus the flags given), which publishes into
/// a separate `ingest broker` process that is frozen (SIGSTOP) for a while, then resumed
/// (SIGCONT). An independent consumer in this process reads the topic as it goes (the mock broker
/// keeps only about 5 MiB per partition) and counts distinct udpgen sequence numbers. Optionally
/// the daemon is SIGKILLed during the freeze and restarted on the same spool.
/// </summary>
internal static partial class OutageScenario
{
    public sealed record Plan(double Rate, double Seconds, double FreezeAt, double FreezeSeconds, string[] DaemonArgs, double? KillAt = null);

    public sealed record Result(
        long Sent,
        long Distinct,
        long Duplicates,
        long EvictedBeforeRead,
        long NoListener,
        long KernelDropped,
        long Lost,
        long Unexplained,
        Dictionary<string, long> Dropped,
        double PeakRssMb,
        long MaxSpoolBytes,
        long SpoolFull,
        long SpoolCorrupt,
        double DaemonCpuSeconds,
        double DrainSeconds,
        long Reordered,
        string? FirstReordering);

    public static async Task<Result> RunAsync(BenchContext context, Plan plan, CancellationToken cancellationToken)
    {
        var udpgen = await UdpGen.LocateAsync(context, cancellationToken).ConfigureAwait(false);
        using var broker = ChildProcess.Start(context.IngestPath, "broker");
        var bootstrap = (await broker.WaitForLineAsync("bootstrap=", TimeSpan.FromSeconds(30)).ConfigureAwait(false)).Split('=', 2)[1];
        var port = FreeUdpPort();
        var tag = $"{Environment.ProcessId}-{port}";
        var socket = Path.Combine(Path.GetTempPath(), $"ingest-bench-spool-{tag}.sock");
        var spool = Path.Combine(Path.GetTempPath(), $"ingest-bench-spool-{tag}");
        string[] args =
        [
            "run", "--bootstrap", bootstrap, "--udp", $"127.0.0.1:{port}", "--no-proc", "--stats-interval", "0",
            "--set", $"Stats:ControlSocket={socket}", "--set", "Udp:ReceiveBufferBytes=33554432", "--spool-dir", spool,
            .. plan.DaemonArgs,
        ];

        using var counter = new TopicCounter(bootstrap);
        var daemon = ChildProcess.Start(context.IngestPath, args);
        var daemons = new List<ChildProcess> { daemon };
        try
        {
            await daemon.WaitForLineAsync("bootstrap=", TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            await WaitForFileAsync(socket, cancellationToken).ConfigureAwait(false);
            await Task.Delay(1000, cancellationToken).ConfigureAwait(false);
            var snmpBefore = UdpSnmp();
            double cpu = 0;
            var cpuBase = daemon.CpuNanoseconds();
            long maxSpool = 0;
            double peakRss = 0;
            var start = DateTime.UtcNow;
            using var gen = UdpGen.Start(udpgen, new IPEndPoint(IPAddress.Loopback, port), plan.Seconds, 100, 64, plan.Rate);
            var frozen = false;
            var resumed = false;
            var killed = plan.KillAt is null;
            var dead = false;
            var genTask = UdpGen.WaitAsync(gen, cancellationToken);
            while (!genTask.IsCompleted || (frozen && !resumed))
            {
                var t = (DateTime.UtcNow - start).TotalSeconds;
                if (!frozen && t >= plan.FreezeAt)
                {
                    _ = kill(broker.Id, 19); // SIGSTOP
                    frozen = true;
                    context.Progress($"  broker frozen at {t:F1} s");
                }

                if (frozen && !resumed && t >= plan.FreezeAt + plan.FreezeSeconds)
                {
                    _ = kill(broker.Id, 18); // SIGCONT
                    resumed = true;
                    context.Progress($"  broker resumed at {t:F1} s");
                    if (dead)
                    {
                        // The restart comes once the broker is back, on the spool the killed daemon left.
                        await Task.Delay(1000, cancellationToken).ConfigureAwait(false);
                        context.Progress($"  broker alive after resume: {!broker.HasExited}; restarting the daemon on the same spool");
                        File.Delete(socket);
                        daemon = ChildProcess.Start(context.IngestPath, args);
                        daemons.Add(daemon);
                        await daemon.WaitForLineAsync("bootstrap=", TimeSpan.FromSeconds(30)).ConfigureAwait(false);
                        cpuBase = daemon.CpuNanoseconds();
                        dead = false;
                    }
                }

                if (!killed && t >= plan.KillAt)
                {
                    cpu += (daemon.CpuNanoseconds() - cpuBase) / 1e9;
                    peakRss = Math.Max(peakRss, daemon.PeakRssBytes() / 1e6);
                    _ = kill(daemon.Id, 9);
                    context.Progress($"  daemon SIGKILLed at {t:F1} s, during the outage");
                    killed = true;
                    dead = true;
                }

                if (!dead)
                {
                    maxSpool = Math.Max(maxSpool, await SpoolBytesAsync(socket, cancellationToken).ConfigureAwait(false));
                    peakRss = Math.Max(peakRss, daemon.PeakRssBytes() / 1e6);
                }

                await Task.Delay(500, cancellationToken).ConfigureAwait(false);
            }

            var sent = (await genTask.ConfigureAwait(false)).Sent;
            var drainStart = DateTime.UtcNow;

            // Drain: the spool empties and the consumer has read what the daemon delivered.
            StatsSnapshot? last = null;
            var quietSince = DateTime.UtcNow;
            long lastDistinct = -1;
            // A backlog still in the spool keeps the wait going (up to 5 minutes): the producer may
            // need its own timeouts to reconnect after the freeze.
            while (DateTime.UtcNow - quietSince < TimeSpan.FromSeconds(15)
                || (last is { Spool.Records: > 0 } && DateTime.UtcNow - drainStart < TimeSpan.FromMinutes(5)))
            {
                try
                {
                    last = await ControlSocket.ReadAsync(socket, cancellationToken).ConfigureAwait(false);
                    maxSpool = Math.Max(maxSpool, last.Spool?.Bytes ?? 0);
                }
                catch (Exception e) when (e is IOException or SocketException)
                {
                }

                var distinct = counter.Distinct;
                if (distinct != lastDistinct)
                {
                    lastDistinct = distinct;
                    quietSince = DateTime.UtcNow;
                }

                if (last is { Spool: { Records: 0 } } && distinct >= sent)
                {
                    break;
                }

                await Task.Delay(500, cancellationToken).ConfigureAwait(false);
            }

            var drainSeconds = (DateTime.UtcNow - drainStart).TotalSeconds;
            peakRss = Math.Max(peakRss, daemon.PeakRssBytes() / 1e6);
            cpu += (daemon.CpuNanoseconds() - cpuBase) / 1e9;
            var snmpAfter = UdpSnmp();
            var exit = await daemon.TerminateAsync(TimeSpan.FromSeconds(60)).ConfigureAwait(false);
            await Task.Delay(1000, cancellationToken).ConfigureAwait(false);
            var final = FinalStats(daemon);
            if (exit != 0)
            {
                context.Progress($"  warning: ingest run exited with {exit}");
            }

            var logDir = Path.Combine(context.RepoRoot, "out", "bench-logs");
            Directory.CreateDirectory(logDir);
            for (var i = 0; i < daemons.Count; i++)
            {
                await File.WriteAllLinesAsync(Path.Combine(logDir, $"daemon-{tag}-{i}.log"), daemons[i].ErrorLines.Concat(daemons[i].Lines), cancellationToken).ConfigureAwait(false);
            }

            var noListener = snmpAfter.NoPorts - snmpBefore.NoPorts;
            var kernelDropped = snmpAfter.RcvbufErrors - snmpBefore.RcvbufErrors;
            var dropped = last?.Sources.Where(s => s.Channel == "udp").SelectMany(s => s.Dropped).GroupBy(d => d.Key).ToDictionary(g => g.Key, g => g.Sum(d => d.Value), StringComparer.Ordinal) ?? [];
            var lost = sent - counter.Distinct;
            var result = new Result(
                sent,
                counter.Distinct,
                counter.Duplicates,
                counter.Evicted,
                noListener,
                kernelDropped,
                lost,
                lost - noListener - kernelDropped - dropped.Values.Sum(),
                dropped,
                peakRss,
                maxSpool,
                last?.Spool?.Full ?? 0,
                last?.Spool?.Corrupt ?? 0,
                cpu,
                drainSeconds,
                counter.Reordered,
                counter.FirstReordering);
            context.Progress(string.Create(CultureInfo.InvariantCulture,
                $"  sent {sent:N0}, distinct in topic {counter.Distinct:N0} (duplicates {counter.Duplicates:N0}, evicted before read {counter.Evicted:N0}), lost {lost:N0}, no listener {noListener:N0}, kernel dropped {kernelDropped:N0}, dropped {string.Join(' ', dropped.Where(d => d.Value > 0).Select(d => $"{d.Key}={d.Value}"))}, peak RSS {peakRss:F0} MB, max spool {maxSpool / 1e6:F1} MB, CPU {cpu:F1} s, drain {drainSeconds:F0} s, out of order {counter.Reordered:N0}{(counter.FirstReordering is { } first ? $" (first: {first})" : "")}; {final}"));
            return result;
        }
        finally
        {
            _ = kill(broker.Id, 18);
            foreach (var d in daemons)
            {
                d.Dispose();
            }

            await broker.TerminateAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            TryDelete(spool);
        }
    }

    private static string FinalStats(ChildProcess daemon) =>
        daemon.Lines.LastOrDefault(l => l.StartsWith("stats", StringComparison.Ordinal)) ?? "(no final stats line)";

    private static async Task<long> SpoolBytesAsync(string socket, CancellationToken cancellationToken)
    {
        try
        {
            return (await ControlSocket.ReadAsync(socket, cancellationToken).ConfigureAwait(false)).Spool?.Bytes ?? 0;
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            return 0;
        }
    }

    private static async Task WaitForFileAsync(string path, CancellationToken cancellationToken)
    {
        for (var i = 0; i < 500 && !File.Exists(path); i++)
        {
            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Udp NoPorts (datagrams to a port nobody listens on) and RcvbufErrors from /proc/net/snmp.</summary>
    private static (long NoPorts, long RcvbufErrors) UdpSnmp()
    {
        var lines = File.ReadAllLines("/proc/net/snmp").Where(l => l.StartsWith("Udp:", StringComparison.Ordinal)).ToArray();
        var names = lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var values = lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        long Get(string name) => long.Parse(values[Array.IndexOf(names, name)], CultureInfo.InvariantCulture);
        return (Get("NoPorts"), Get("RcvbufErrors"));
    }

    private static void TryDelete(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (IOException)
        {
        }
    }

    private static int FreeUdpPort()
    {
        using var probe = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.Client.LocalEndPoint!).Port;
    }

    [LibraryImport("libc")]
    private static partial int kill(int pid, int signal);

    /// <summary>Reads the topic on its own thread and counts distinct udpgen sequence numbers.</summary>
    private sealed class TopicCounter : IDisposable
    {
        private readonly List<KafkaTopicReader> _readers = [];
        private readonly Thread _thread;
        private readonly HashSet<ulong> _seen = [];
        private readonly Dictionary<int, long> _offsets = [];
        private volatile bool _stop;
        private long _distinct;
        private long _duplicates;
        private long _evicted;
        private long _reordered;
        private ulong _highest;
        private volatile string? _firstReordering;

        public TopicCounter(string bootstrap)
        {
            // One reader per partition, assigned by hand: no consumer group whose session a long
            // broker freeze would expire.
            for (var partition = 0; partition < 4; partition++)
            {
                _readers.Add(new KafkaTopicReader(bootstrap, "kernel.events", fromBeginning: true, properties: new Dictionary<string, string> { ["fetch.max.bytes"] = "52428800" }, partition: partition, log: _ => { }));
            }

            _thread = new Thread(Run) { IsBackground = true, Name = "topic-counter" };
            _thread.Start();
        }

        public long Distinct => Interlocked.Read(ref _distinct);

        public long Duplicates => Interlocked.Read(ref _duplicates);

        /// <summary>
        /// Distinct udpgen sequence numbers first seen after a higher one. udpgen sends them in
        /// order to one socket, so they are received, and must reach the topic, in that order (per
        /// source, one partition); duplicates of earlier ones are allowed.
        /// </summary>
        public long Reordered => Interlocked.Read(ref _reordered);

        public string? FirstReordering => _firstReordering;

        /// <summary>Offsets the mock broker dropped (it keeps ~5 MiB per partition) before this reader got to them.</summary>
        public long Evicted => Interlocked.Read(ref _evicted);

        public void Dispose()
        {
            _stop = true;
            _thread.Join();
            foreach (var reader in _readers)
            {
                reader.Dispose();
            }
        }

        private void Run()
        {
            while (!_stop)
            {
                foreach (var reader in _readers)
                {
                    for (var i = 0; i < 1000 && !_stop; i++)
                    {
                        var record = reader.Read(TimeSpan.FromMilliseconds(i == 0 ? 50 : 0));
                        if (record is null)
                        {
                            break;
                        }

                        Count(record);
                    }
                }
            }
        }

        private void Count(KafkaRecord record)
        {
            if (_offsets.TryGetValue(record.Partition, out var last) && record.Offset > last + 1)
            {
                Interlocked.Add(ref _evicted, record.Offset - last - 1);
            }

            _offsets[record.Partition] = record.Offset;
            var decoded = RecordDecoder.Decode(record.Value);
            if (decoded.Channel != "udp")
            {
                return;
            }

            foreach (var raw in decoded.Events)
            {
                // A raw datagram event ends with its payload (bin8, 100 bytes): udpgen's seq is its first 8 bytes.
                if (raw.Length < 102 || raw[^102] != 0xc4 || raw[^101] != 100)
                {
                    continue;
                }

                var seq = BitConverter.ToUInt64(raw, raw.Length - 100);
                if (_seen.Add(seq))
                {
                    Interlocked.Increment(ref _distinct);
                    if (seq < _highest)
                    {
                        Interlocked.Increment(ref _reordered);
                        _firstReordering ??= $"udpgen seq {seq} first seen after {_highest}";
                    }

                    _highest = Math.Max(_highest, seq);
                }
                else
                {
                    Interlocked.Increment(ref _duplicates);
                }
            }
        }
    }
}
