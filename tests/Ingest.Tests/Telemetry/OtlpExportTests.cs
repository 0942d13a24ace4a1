using Ingest.Sinks.Broker;
using Ingest.Telemetry;

namespace Ingest.Tests.Telemetry;

/// <summary>Not run alongside other daemons: the OTLP exporter reads every meter named "Ingest" in the process.</summary>
[CollectionDefinition(nameof(OtlpExportCollection), DisableParallelization = true)]
public sealed class OtlpExportCollection;

/// <summary>
/// The daemon configured with an OTLP endpoint exports its metrics and spans over HTTP/protobuf
/// to a receiver written here, which decodes the protobuf and checks names and figures.
/// </summary>
[Collection(nameof(OtlpExportCollection))]
public sealed class OtlpExportTests
{
    private const int Datagrams = 500;

    [Fact]
    public async Task Metrics_and_batch_spans_arrive_at_an_otlp_http_receiver()
    {
        await using var receiver = new OtlpReceiver();
        using var broker = EmbeddedBroker.Start();
        await using var daemon = new RunningDaemon(
            broker.BootstrapServers,
            new KeyValuePair<string, string?>("Telemetry:OtlpEndpoint", receiver.Endpoint),
            new KeyValuePair<string, string?>("Telemetry:ExportIntervalMilliseconds", "200"),
            new KeyValuePair<string, string?>("Telemetry:BatchSpanSampleRatio", "1"),
            new KeyValuePair<string, string?>("Telemetry:ServiceName", "ingest-otlp-test"));
        await daemon.StartedAsync();
        await daemon.SendAsync(Datagrams);

        var delivered = IngestMetricNames.EventsDelivered + "|udp";
        await daemon.WaitForAsync(
            () => receiver.Sums.TryGetValue(delivered, out var n) && n >= Datagrams,
            $"{delivered} = {Datagrams} at the receiver");
        Assert.Equal(0, await daemon.StopAsync());

        Assert.Empty(receiver.Rejected);
        Assert.Equal(Datagrams, receiver.Sums[delivered]);
        Assert.Equal(Datagrams, receiver.Sums[IngestMetricNames.EventsReceived + "|udp"]);
        Assert.Contains("ingest-otlp-test", receiver.ServiceNames.Keys);
        string[] expected =
        [
            IngestMetricNames.EventsReceived, IngestMetricNames.EventsDelivered, IngestMetricNames.EventsDropped,
            IngestMetricNames.RecordsDelivered, IngestMetricNames.BytesDelivered, IngestMetricNames.TransportCounter,
            IngestMetricNames.QueueDepth, IngestMetricNames.SinkQueueDepth, IngestMetricNames.ProducerInFlight,
            IngestMetricNames.ProducerRecords, IngestMetricNames.BrokerErrors, IngestMetricNames.BatchEvents,
            IngestMetricNames.BatchBytes, IngestMetricNames.DeliveryLatency,
        ];
        Assert.All(expected, name => Assert.Contains(name, receiver.MetricNames.Keys));

        // Spans are exported in batches on the tracer's own schedule; disposal at stop flushes them.
        Assert.Contains(IngestTracing.BatchSpan, receiver.SpanNames.Keys);
    }

    [Fact]
    public void Protobuf_reader_rejects_a_truncated_field()
    {
        // Field 1, length-delimited, claims 5 bytes but carries 2.
        byte[] truncated = [0x0A, 0x05, 0x61, 0x62];
        Assert.Throws<FormatException>(() =>
        {
            var reader = new ProtobufReader(truncated);
            reader.Next();
        });
    }
}
