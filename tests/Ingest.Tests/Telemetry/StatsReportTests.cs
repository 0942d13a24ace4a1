using Ingest.Sinks.Broker;
using Ingest.Telemetry;

namespace Ingest.Tests.Telemetry;

/// <summary>`ingest stats` figures read from a running daemon's control socket agree with its meter and with what was sent.</summary>
public sealed class StatsReportTests
{
    [Fact]
    public async Task The_control_socket_reports_the_meter_s_figures_and_delivery_latency()
    {
        const int datagrams = 300;
        using var broker = EmbeddedBroker.Start();
        await using var daemon = new RunningDaemon(broker.BootstrapServers);
        await daemon.StartedAsync();
        using var recorder = new MetricsRecorder(daemon.Daemon.Metrics!.Meter);

        await daemon.SendAsync(datagrams);
        await daemon.WaitForAsync(() => daemon.Daemon.Snapshot!().Sources.Single(s => s.Channel == "udp").Delivered == datagrams, "the datagrams to be acknowledged");

        var snapshot = await ControlSocket.ReadAsync(daemon.ControlSocket, TestContext.Current.CancellationToken);
        recorder.Collect();
        var udp = snapshot.Sources.Single(s => s.Channel == "udp");
        Assert.Equal(datagrams, udp.Received);
        Assert.Equal(datagrams, udp.Delivered);
        Assert.Equal(recorder.Sum(IngestMetricNames.EventsDelivered, "channel=udp"), udp.Delivered);
        Assert.Equal(recorder.Sum(IngestMetricNames.RecordsDelivered, "channel=udp"), udp.Records);
        Assert.Equal(udp.Records, snapshot.DeliveryLatency.Count);
        Assert.Equal(recorder.Recorded(IngestMetricNames.DeliveryLatency, "channel=udp").Length, snapshot.DeliveryLatency.Count);
        Assert.NotNull(snapshot.DeliveryLatency.P99Ms);
        Assert.Null(snapshot.Commands);

        var table = StatsFormatter.Table(snapshot);
        Assert.Contains($"delivery latency  records {udp.Records}  p50 <= ", table, StringComparison.Ordinal);
    }

    [Fact]
    public void Latency_percentiles_are_the_upper_bounds_of_the_buckets_holding_them()
    {
        var histogram = new LatencyHistogram();
        Assert.Equal(0, histogram.Snapshot().Count);
        Assert.Null(histogram.Snapshot().P50Ms);

        for (var i = 0; i < 98; i++)
        {
            histogram.Record(TimeSpan.FromMilliseconds(3));
        }

        histogram.Record(TimeSpan.FromMilliseconds(700));
        histogram.Record(TimeSpan.FromMilliseconds(700));
        var snapshot = histogram.Snapshot();
        Assert.Equal(100, snapshot.Count);
        Assert.Equal(5, snapshot.P50Ms);
        Assert.Equal(1000, snapshot.P99Ms);

        histogram.Record(TimeSpan.FromMinutes(5));
        Assert.Equal(101, histogram.Snapshot().Count);
    }
}
