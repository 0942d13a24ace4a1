using System.Diagnostics;
using Ingest.Commands;
using Ingest.Sinks.Broker;
using Ingest.Sinks.Commands;
using Ingest.Sinks.Kafka;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ingest.Bench.Commands;

/// <summary>
/// The command path end to end through the embedded broker: signed sysctl writes applied by a
/// dispatcher to a harmless allowlisted target (a regular-file sysctl tree in a temp directory),
/// results read back. Latency: one command at a time, send → applied result. Throughput: a burst
/// published at once, until the last result arrives (the host applies strictly one at a time,
/// fsyncing each id). A denied command (no effector) is the baseline. Every result is signed by
/// the host and verified by the sender (as `ingest send` does): the round trip includes both.
/// </summary>
public sealed class CommandRoundTripBenchmark : IBenchmark
{
    private const string Host = "bench-host";
    private const int LatencySamples = 200;
    private const int Burst = 1000;
    private const int Junk = 100_000;
    private const string JunkHost = "bench-junk-host";

    public string Name => "commands";

    public string Description => "signed command round trip (send → applied result) and commands/s per host";

    public async Task RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        var medians = new List<double>();
        var p99s = new List<double>();
        var deniedMedians = new List<double>();
        var rates = new List<double>();
        var behindJunk = new List<double>();
        await context.RepeatAsync("commands", async run =>
        {
            using var world = new World();
            using var broker = EmbeddedBroker.Start();
            await using var dispatcher = CommandDispatcher.Start(broker.BootstrapServers, Host, world.Options, new Dictionary<string, string>(), NullLogger.Instance);
            using var sender = new CommandSender(broker.BootstrapServers, world.Signer, world.HostKeys);

            // Warm-up: connections, metadata, JIT.
            await Expect(sender, world.Request("7000"), CommandStatus.Applied, cancellationToken);

            var latencies = new double[LatencySamples];
            var denied = new double[LatencySamples / 4];
            for (int i = 0; i < latencies.Length; i++)
            {
                long start = Stopwatch.GetTimestamp();
                await Expect(sender, world.Request((30 + i).ToString(System.Globalization.CultureInfo.InvariantCulture)), CommandStatus.Applied, cancellationToken);
                latencies[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }

            for (int i = 0; i < denied.Length; i++)
            {
                long start = Stopwatch.GetTimestamp();
                await Expect(sender, world.Request("1"), CommandStatus.Denied, cancellationToken);
                denied[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }

            Array.Sort(latencies);
            medians.Add(BenchContext.Median(latencies));
            p99s.Add(latencies[(int)Math.Ceiling(latencies.Length * 0.99) - 1]);
            deniedMedians.Add(BenchContext.Median(denied));
            rates.Add(await BurstAsync(broker.BootstrapServers, world, cancellationToken));
            behindJunk.Add(await BehindJunkAsync(broker.BootstrapServers, world, cancellationToken));
            return 0;
        });

        context.Report.Add(Name, "round trip, applied (median)", BenchContext.Median(medians), "ms", "signed command + verified host-signed result; sysctl write to a file tree, one at a time");
        context.Report.Add(Name, "round trip, applied (p99)", BenchContext.Median(p99s), "ms");
        context.Report.Add(Name, "round trip, denied (median)", BenchContext.Median(deniedMedians), "ms", "baseline: verified, stored, refused by the allowlist");
        context.Report.Add(Name, "throughput per host", BenchContext.Median(rates), "commands/s", $"burst of {Burst}, applied one at a time, fsync per id");
        context.Report.Add(Name, "applied behind junk", BenchContext.Median(behindJunk), "ms", $"host start → verified applied, {Junk} one-byte records queued ahead (requirement: < 5000)");
    }

    private static async Task Expect(CommandSender sender, CommandRequest request, CommandStatus status, CancellationToken ct)
    {
        CommandResult? result = await sender.SendAsync(request, TimeSpan.FromSeconds(30), ct).ConfigureAwait(false);
        if (result?.Status != status)
        {
            throw new InvalidOperationException($"expected {status}, got {result?.ToString() ?? "no result"}");
        }
    }

    /// <summary>
    /// Queues <see cref="Junk"/> one-byte records for a host that is not running yet, then starts
    /// it and times one valid command from the start to its verified result (the worst case: the
    /// whole backlog is read first).
    /// </summary>
    private static async Task<double> BehindJunkAsync(string bootstrap, World world, CancellationToken ct)
    {
        byte[] key = System.Text.Encoding.UTF8.GetBytes(JunkHost);
        using (var sink = new KafkaRecordSink(new KafkaProducerOptions { BootstrapServers = bootstrap }, _ => { }))
        {
            var handler = new CountingHandler();
            for (int i = 0; i < Junk; i++)
            {
                while (!sink.TryProduce(CommandTopics.Commands, key, [(byte)i], [], handler, null))
                {
                    await sink.WaitForSpaceAsync(ct).ConfigureAwait(false);
                }
            }

            sink.Flush(TimeSpan.FromSeconds(60));
        }

        var options = new CommandOptions
        {
            Enabled = true,
            TrustedKeys = world.Options.TrustedKeys,
            HostKey = world.JunkHostKey,
            StateDirectory = Path.Combine(world.Options.StateDirectory!, JunkHost),
            SysctlRoot = world.Options.SysctlRoot,
            FetchWaitMaxMs = world.Options.FetchWaitMaxMs,
            IoctlDevice = world.Options.IoctlDevice,
            Sysctl = world.Options.Sysctl,
        };
        using var sender = new CommandSender(bootstrap, world.Signer, world.HostKeys);
        long start = Stopwatch.GetTimestamp();
        await using var dispatcher = CommandDispatcher.Start(bootstrap, JunkHost, options, new Dictionary<string, string>(), NullLogger.Instance);
        var request = CommandRequest.Sysctl(CommandRequest.NewId(), JunkHost, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5), "net.ipv4.tcp_keepalive_time", "4321");
        await Expect(sender, request, CommandStatus.Applied, ct).ConfigureAwait(false);
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    /// <summary>Publishes <see cref="Burst"/> signed commands at once; returns results per second until the last arrives.</summary>
    private static async Task<double> BurstAsync(string bootstrap, World world, CancellationToken ct)
    {
        byte[] key = System.Text.Encoding.UTF8.GetBytes(Host);
        var values = new byte[Burst][];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = world.Signer.Sign(world.Request("600"));
        }

        using var results = KeyedPartitionReader.Open(bootstrap, CommandTopics.Results, key, KeyedPartitionStart.End, null, null, TimeSpan.FromSeconds(30), ct);
        using var sink = new KafkaRecordSink(new KafkaProducerOptions { BootstrapServers = bootstrap }, _ => { });
        var handler = new CountingHandler();
        long start = Stopwatch.GetTimestamp();
        foreach (byte[] value in values)
        {
            while (!sink.TryProduce(CommandTopics.Commands, key, value, [], handler, null))
            {
                await sink.WaitForSpaceAsync(ct).ConfigureAwait(false);
            }
        }

        int seen = 0;
        var deadline = Stopwatch.StartNew();
        while (seen < Burst && deadline.Elapsed < TimeSpan.FromMinutes(5))
        {
            if (results.Read(TimeSpan.FromMilliseconds(100)) is { } record
                && world.HostKeys.TryVerify(Host, record.Value, out CommandResult? result, out _)
                && result!.Status == CommandStatus.Applied)
            {
                seen++;
            }
        }

        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        if (seen < Burst || handler.Failed > 0)
        {
            throw new InvalidOperationException($"burst: {seen}/{Burst} applied results, {handler.Failed} undelivered commands");
        }

        return Burst / seconds;
    }

    private sealed class CountingHandler : IDeliveryHandler
    {
        private int _failed;

        public int Failed => Volatile.Read(ref _failed);

        public void OnDelivery(object? state, DeliveryOutcome outcome)
        {
            if (!outcome.Delivered)
            {
                Interlocked.Increment(ref _failed);
            }
        }
    }

    /// <summary>Keys, a state directory and a one-key sysctl tree in a temp directory.</summary>
    private sealed class World : IDisposable
    {
        private readonly string _base = Directory.CreateTempSubdirectory("ingest-bench-commands-").FullName;

        public World()
        {
            string tree = Path.Combine(_base, "sys", "net", "ipv4");
            Directory.CreateDirectory(tree);
            File.WriteAllText(Path.Combine(tree, "tcp_keepalive_time"), "7200\n");
            CommandKeys.Generate(Path.Combine(_base, "ops.key"), Path.Combine(_base, "ops.pub"));
            CommandKeys.Generate(Path.Combine(_base, Host + ".key"), Path.Combine(_base, Host + ".pub"));
            CommandKeys.Generate(Path.Combine(_base, JunkHost + ".key"), Path.Combine(_base, JunkHost + ".pub"));
            JunkHostKey = Path.Combine(_base, JunkHost + ".key");
            Signer = CommandSigner.Load(Path.Combine(_base, "ops.key"));
            HostKeys = HostKeys.Open(_base);
            Options = new CommandOptions
            {
                Enabled = true,
                TrustedKeys = [Path.Combine(_base, "ops.pub")],
                HostKey = Path.Combine(_base, Host + ".key"),
                StateDirectory = Path.Combine(_base, "state"),
                SysctlRoot = Path.Combine(_base, "sys"),
                IoctlDevice = Path.Combine(_base, "no-device"),
                // The mock broker holds an empty fetch for the whole wait (CommandOptions.FetchWaitMaxMs).
                FetchWaitMaxMs = 10,
                Sysctl = [new SysctlRuleOptions { Key = "net.ipv4.tcp_keepalive_time", Min = 30, Max = 7200 }],
            };
        }

        public CommandSigner Signer { get; }

        public string JunkHostKey { get; }

        /// <summary>The operator's view of the host's result key: every result is verified as `ingest send` does.</summary>
        public HostKeys HostKeys { get; }

        public CommandOptions Options { get; }

        public CommandRequest Request(string value) =>
            CommandRequest.Sysctl(CommandRequest.NewId(), Host, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5), "net.ipv4.tcp_keepalive_time", value);

        public void Dispose()
        {
            Signer.Dispose();
            HostKeys.Dispose();
            Directory.Delete(_base, recursive: true);
        }
    }
}
