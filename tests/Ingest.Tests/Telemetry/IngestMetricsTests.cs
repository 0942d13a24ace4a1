using Ingest.Commands;
using Ingest.Pipeline;
using Ingest.Sinks.Broker;
using Ingest.Telemetry;
using Ingest.Transports.Events;

namespace Ingest.Tests.Telemetry;

/// <summary>
/// The daemon's instruments read with an in-process MeterListener and checked against what the
/// test sent: real UDP datagrams on loopback into the embedded broker (librdkafka's mock cluster).
/// </summary>
public sealed class IngestMetricsTests
{
    private const int Datagrams = 1500;

    [Fact]
    public async Task Delivered_datagrams_are_counted_per_channel_with_batch_histograms_and_latency()
    {
        using var broker = EmbeddedBroker.Start();
        await using var daemon = new RunningDaemon(broker.BootstrapServers);
        await daemon.StartedAsync();
        using var recorder = new MetricsRecorder(daemon.Daemon.Metrics!.Meter);

        await daemon.SendAsync(Datagrams);
        await daemon.WaitForAsync(
            () =>
            {
                recorder.Collect();
                return recorder.Sum(IngestMetricNames.EventsDelivered, "channel=udp") >= Datagrams;
            },
            "every datagram to be acknowledged");

        recorder.Collect();
        Assert.Equal(Datagrams, recorder.Sum(IngestMetricNames.EventsReceived, "channel=udp"));
        Assert.Equal(Datagrams, recorder.Sum(IngestMetricNames.EventsDelivered, "channel=udp"));
        Assert.Equal(0, recorder.Sum(IngestMetricNames.EventsDropped, "channel=udp"));
        foreach (var reason in new[] { "queue_full", "sink_queue_full", "delivery_failed", "shutdown" })
        {
            Assert.NotNull(recorder.Value(IngestMetricNames.EventsDropped, "channel=udp", "source=127.0.0.1:" + daemon.UdpPort, "reason=" + reason));
        }

        Assert.Equal(Datagrams, recorder.Sum(IngestMetricNames.TransportCounter, "channel=udp", "counter=datagrams"));

        // Histograms: one value per acknowledged record, summing to the counters' totals.
        var records = recorder.Sum(IngestMetricNames.RecordsDelivered, "channel=udp");
        var batchEvents = recorder.Recorded(IngestMetricNames.BatchEvents, "channel=udp");
        var batchBytes = recorder.Recorded(IngestMetricNames.BatchBytes, "channel=udp");
        var latency = recorder.Recorded(IngestMetricNames.DeliveryLatency, "channel=udp");
        Assert.True(records > 0);
        Assert.Equal(records, batchEvents.Length);
        Assert.Equal(Datagrams, batchEvents.Sum());
        Assert.Equal(recorder.Sum(IngestMetricNames.BytesDelivered, "channel=udp"), batchBytes.Sum());
        Assert.Equal(records, latency.Length);
        Assert.All(latency, seconds => Assert.InRange(seconds, 0, 60));

        // The producer's figures: every record it accepted was acknowledged, none is left in flight.
        Assert.Equal(records, recorder.Sum(IngestMetricNames.ProducerRecords, "outcome=delivered"));
        Assert.Equal(0, recorder.Sum(IngestMetricNames.ProducerRecords, "outcome=failed"));
        Assert.Equal(0, recorder.Sum(IngestMetricNames.ProducerInFlight));
        Assert.Equal(0, recorder.Sum(IngestMetricNames.QueueDepth, "channel=udp"));
        Assert.NotNull(recorder.Value(IngestMetricNames.SinkQueueDepth));
        Assert.NotNull(recorder.Value(IngestMetricNames.BrokerErrors));
    }

    [Fact]
    public async Task Records_the_broker_never_acknowledges_are_counted_as_dropped_delivery_failed()
    {
        using var broker = EmbeddedBroker.Start();
        await using var daemon = new RunningDaemon(
            broker.BootstrapServers,
            new KeyValuePair<string, string?>("Kafka:Properties:message.timeout.ms", "1500"),
            new KeyValuePair<string, string?>("Spool:Mode", "off"));
        await daemon.StartedAsync();
        using var recorder = new MetricsRecorder(daemon.Daemon.Metrics!.Meter);

        broker.SetBrokerDown(1);
        await daemon.SendAsync(200);
        await daemon.WaitForAsync(
            () =>
            {
                recorder.Collect();
                return recorder.Sum(IngestMetricNames.EventsDropped, "channel=udp", "reason=delivery_failed") >= 200;
            },
            "the undeliverable datagrams to be counted");

        recorder.Collect();
        Assert.Equal(200, recorder.Sum(IngestMetricNames.EventsReceived, "channel=udp"));
        Assert.Equal(200, recorder.Sum(IngestMetricNames.EventsDropped, "channel=udp", "reason=delivery_failed"));
        Assert.Equal(0, recorder.Sum(IngestMetricNames.EventsDelivered, "channel=udp"));
        Assert.True(recorder.Sum(IngestMetricNames.ProducerRecords, "outcome=failed") > 0);
        Assert.Empty(recorder.Recorded(IngestMetricNames.BatchEvents, "channel=udp"));
        broker.SetBrokerUp(1);
    }

    [Fact]
    public void Commands_by_status_ring_lag_and_netlink_overruns_come_from_registered_components()
    {
        using var metrics = new IngestMetrics();
        using var recorder = new MetricsRecorder(metrics.Meter);

        var commands = new CommandStats();
        commands.OnResult(CommandStatus.Applied);
        commands.OnResult(CommandStatus.Applied);
        commands.OnResult(CommandStatus.Denied);
        commands.OnWrongHost();
        commands.OnRejectedUnverified(RejectReason.Malformed);
        commands.OnRejectedUnverified(RejectReason.Malformed);
        commands.OnRejectedUnverified(RejectReason.BadSignature);
        commands.OnDisabled("replay store: No space left on device");
        metrics.AddCommands(commands);

        long producer = 4096, consumer = 1024;
        metrics.AddRingLag("ring", "kingest0", () => producer - consumer);

        var netlinkCounters = new CounterSet();
        netlinkCounters["overrun"].Add(7);
        var udpCounters = new CounterSet();
        udpCounters["overrun"].Add(99);
        metrics.AddSources([new SourceStats("netlink", "route", netlinkCounters), new SourceStats("udp", "127.0.0.1:1", udpCounters)]);

        recorder.Collect();
        Assert.Equal(2, recorder.Value(IngestMetricNames.Commands, "status=applied"));
        Assert.Equal(1, recorder.Value(IngestMetricNames.Commands, "status=denied"));
        Assert.Equal(0, recorder.Value(IngestMetricNames.Commands, "status=replayed"));
        Assert.Equal(1, recorder.Value(IngestMetricNames.Commands, "status=wrong_host"));
        Assert.Equal(2, recorder.Value(IngestMetricNames.CommandsRejectedUnverified, "reason=malformed"));
        Assert.Equal(1, recorder.Value(IngestMetricNames.CommandsRejectedUnverified, "reason=bad_signature"));
        Assert.Equal(0, recorder.Value(IngestMetricNames.CommandsRejectedUnverified, "reason=unknown_kid"));
        Assert.Equal(0, recorder.Sum(IngestMetricNames.CommandPathUp));
        Assert.Equal(3072, recorder.Value(IngestMetricNames.RingLag, "channel=ring", "source=kingest0"));
        Assert.Equal(7, recorder.Sum(IngestMetricNames.NetlinkOverruns));
        Assert.Equal(7, recorder.Value(IngestMetricNames.NetlinkOverruns, "channel=netlink", "source=route"));

        // Observable instruments read live figures: later changes show at the next collection.
        commands.OnResult(CommandStatus.Failed);
        commands.OnRunning();
        consumer = 4096;
        netlinkCounters["overrun"].Increment();
        recorder.Collect();
        Assert.Equal(1, recorder.Value(IngestMetricNames.Commands, "status=failed"));
        Assert.Equal(1, recorder.Sum(IngestMetricNames.CommandPathUp));
        Assert.Equal(0, recorder.Value(IngestMetricNames.RingLag, "channel=ring", "source=kingest0"));
        Assert.Equal(8, recorder.Sum(IngestMetricNames.NetlinkOverruns));
    }

    [Fact]
    public void Every_documented_instrument_is_published()
    {
        using var metrics = new IngestMetrics();
        using var recorder = new MetricsRecorder(metrics.Meter);
        var expected = typeof(IngestMetricNames).GetFields().Select(f => (string)f.GetRawConstantValue()!).Order(StringComparer.Ordinal);
        Assert.Equal(expected, recorder.Instruments.Order(StringComparer.Ordinal));

        var doc = File.ReadAllText(Path.Combine(RepoRoot(), "docs", "operations.md"));
        Assert.All(expected, name => Assert.Contains(name, doc, StringComparison.Ordinal));
    }

    internal static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Ingest.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Ingest.sln not found above " + AppContext.BaseDirectory);
    }
}
