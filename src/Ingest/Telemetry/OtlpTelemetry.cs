using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Ingest.Telemetry;

/// <summary>
/// OpenTelemetry's SDK reading the "Ingest" meter and activity source and exporting them over
/// OTLP. Only started when <see cref="TelemetryOptions.OtlpEndpoint"/> is set; disposing flushes.
/// </summary>
public sealed class OtlpTelemetry : IDisposable
{
    private readonly MeterProvider _meters;
    private readonly TracerProvider? _tracer;

    private OtlpTelemetry(MeterProvider meters, TracerProvider? tracer)
    {
        _meters = meters;
        _tracer = tracer;
    }

    public static OtlpTelemetry Start(TelemetryOptions options, string hostId)
    {
        options.Validate();
        var protocol = options.OtlpProtocol == "grpc" ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf;
        var resource = ResourceBuilder.CreateDefault().AddService(options.ServiceName, serviceInstanceId: hostId)
            .AddAttributes([new("host.name", hostId)]);

        var meters = Sdk.CreateMeterProviderBuilder()
            .SetResourceBuilder(resource)
            .AddMeter(IngestMetrics.MeterName)
            .AddOtlpExporter((exporter, reader) =>
            {
                exporter.Protocol = protocol;
                exporter.Endpoint = SignalEndpoint(options.OtlpEndpoint!, protocol, "v1/metrics");
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = options.ExportIntervalMilliseconds;
            })
            .Build();

        TracerProvider? tracer = null;
        if (options.Traces)
        {
            tracer = Sdk.CreateTracerProviderBuilder()
                .SetResourceBuilder(resource)
                .AddSource(IngestTracing.SourceName)
                .SetSampler(new AlwaysOnSampler())
                .AddOtlpExporter(exporter =>
                {
                    exporter.Protocol = protocol;
                    exporter.Endpoint = SignalEndpoint(options.OtlpEndpoint!, protocol, "v1/traces");
                })
                .Build();
        }

        return new OtlpTelemetry(meters, tracer);
    }

    public void Dispose()
    {
        _meters.ForceFlush(5_000);
        _tracer?.ForceFlush(5_000);
        _meters.Dispose();
        _tracer?.Dispose();
    }

    /// <summary>A programmatic endpoint is used as given, so http/protobuf needs the signal's path appended (as OTEL_EXPORTER_OTLP_ENDPOINT does).</summary>
    private static Uri SignalEndpoint(string endpoint, OtlpExportProtocol protocol, string path)
    {
        var baseUri = new Uri(endpoint.EndsWith('/') ? endpoint : endpoint + "/");
        return protocol == OtlpExportProtocol.Grpc ? new Uri(endpoint) : new Uri(baseUri, path);
    }
}
