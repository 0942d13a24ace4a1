using System.Diagnostics;
using System.Text.Json;
using Ingest.Bench.Support;
using Ingest.Sinks.Broker;
using Ingest.Sinks.Kafka;

namespace Ingest.Bench.Fleet;

/// <summary>
/// `ingest fleet` as shipped, following kernel.events while 10,000 synthetic hosts heartbeat at
/// the default 10 s (1,000 records/s, produced at a steady pace into the embedded broker): the
/// view's CPU as a share of one core, and whether it saw every host. Then `--once` over the
/// backlog: how fast it catches up.
/// </summary>
public sealed class FleetViewBenchmark : IBenchmark
{
    private const int Hosts = 10_000;
    private const double IntervalSeconds = 10;
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(30);

    public string Name => "fleet-view";

    public string Description => $"`ingest fleet` CPU following {Hosts:N0} hosts' heartbeats (every {IntervalSeconds} s)";

    public async Task RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        var template = await HeartbeatRecords.TemplateEventAsync().ConfigureAwait(false);
        var samples = await context.RepeatAsync("fleet-view", _ => OnceAsync(context, template, cancellationToken)).ConfigureAwait(false);
        context.Report.Add("fleet-view", "ingest fleet CPU, following", BenchContext.Median(samples.Select(s => s.CpuPercent)), "% of one core", $"{Hosts:N0} hosts, {Hosts / IntervalSeconds:N0} heartbeats/s, refresh 1 s, --json --limit 40 --sort seen (a terminal's worth of rows, all hosts sorted)");
        context.Report.Add("fleet-view", "hosts in its last view", BenchContext.Median(samples.Select(s => (double)s.HostsSeen)), "hosts");
        context.Report.Add("fleet-view", "ingest fleet --once catch-up", BenchContext.Median(samples.Select(s => s.CatchUpPerSecond)), "records/s", "what the embedded broker retains (about 5 MiB per partition), process start included");
    }

    private static async Task<(double CpuPercent, int HostsSeen, double CatchUpPerSecond)> OnceAsync(BenchContext context, byte[] template, CancellationToken cancellationToken)
    {
        using var broker = EmbeddedBroker.Start();
        broker.CreateTopic("kernel.events", 4);
        using var sink = new KafkaRecordSink(new KafkaProducerOptions { BootstrapServers = broker.BootstrapServers }, _ => { });
        using var fleet = ChildProcess.Start(context.IngestPath, "fleet", "--bootstrap", broker.BootstrapServers, "--json", "--limit", "40", "--sort", "seen", "--since", "0", "--refresh", "1");
        await Task.Delay(TimeSpan.FromSeconds(3), cancellationToken).ConfigureAwait(false);

        var keys = Enumerable.Range(0, Hosts).Select(i => System.Text.Encoding.UTF8.GetBytes($"sensor-{i:D6}")).ToArray();
        var cpuBefore = 0L;
        var produced = 0L;
        var clock = Stopwatch.StartNew();
        var warmup = TimeSpan.FromSeconds(5);
        var total = warmup + Window;
        var perTick = (int)(Hosts / IntervalSeconds / 10); // every 100 ms
        var next = 0;
        var measuring = false;
        while (clock.Elapsed < total)
        {
            if (!measuring && clock.Elapsed >= warmup)
            {
                measuring = true;
                cpuBefore = fleet.CpuNanoseconds();
            }

            var ts = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;
            for (var i = 0; i < perTick; i++)
            {
                var host = next++ % Hosts;
                var value = HeartbeatRecords.For($"sensor-{host:D6}", HeartbeatRecords.WithTimestamp(template, ts));
                while (!sink.TryProduce("kernel.events", keys[host], value, [], NoHandler.Instance, null))
                {
                    await sink.WaitForSpaceAsync(cancellationToken).ConfigureAwait(false);
                }

                produced++;
            }

            var due = TimeSpan.FromMilliseconds(100.0 * (produced / perTick));
            if (due > clock.Elapsed)
            {
                await Task.Delay(due - clock.Elapsed, cancellationToken).ConfigureAwait(false);
            }
        }

        var cpu = fleet.CpuNanoseconds() - cpuBefore;
        await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(false);
        var last = fleet.Lines.LastOrDefault(l => l.StartsWith('{'));
        var seen = last is null ? 0 : JsonDocument.Parse(last).RootElement.GetProperty("hosts_total").GetInt32();
        await fleet.TerminateAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        sink.Flush(TimeSpan.FromSeconds(10));

        // --once over what is in the topic now (the backlog since the start, older records skipped by time).
        var once = Stopwatch.StartNew();
        using var oneShot = ChildProcess.Start(context.IngestPath, "fleet", "--bootstrap", broker.BootstrapServers, "--once", "--json", "--since", "600", "--timeout", "120");
        await oneShot.WaitForExitAsync(TimeSpan.FromSeconds(150)).ConfigureAwait(false);
        var onceSeconds = once.Elapsed.TotalSeconds;
        var document = oneShot.Lines.LastOrDefault(l => l.StartsWith('{'));
        var read = document is null ? 0 : JsonDocument.Parse(document).RootElement.GetProperty("records_read").GetInt64();
        return (cpu / 1e9 / Window.TotalSeconds * 100, seen, read / onceSeconds);
    }

    private sealed class NoHandler : IDeliveryHandler
    {
        public static readonly NoHandler Instance = new();

        public void OnDelivery(object? state, DeliveryOutcome outcome)
        {
        }
    }
}
