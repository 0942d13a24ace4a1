namespace Ingest.Telemetry;

/// <summary>
/// The `Telemetry` configuration section. OpenTelemetry's standard environment
/// (OTEL_EXPORTER_OTLP_ENDPOINT, _PROTOCOL, _HEADERS, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES,
/// OTEL_METRIC_EXPORT_INTERVAL) configures the export as the SDK reads it; a key set here
/// overrides its variable. Unset keys leave the environment, then Ingest's defaults, in charge.
/// </summary>
public sealed class TelemetryOptions
{
    /// <summary>Ingest's default for OTEL_EXPORTER_OTLP_PROTOCOL (the specification's; the .NET SDK's own is grpc).</summary>
    public const string DefaultProtocol = "http/protobuf";

    /// <summary>Ingest's default for OTEL_METRIC_EXPORT_INTERVAL (the SDK's is 60 s).</summary>
    public const int DefaultExportIntervalMilliseconds = 10_000;

    /// <summary>Ingest's default for OTEL_SERVICE_NAME.</summary>
    public const string DefaultServiceName = "ingest";

    /// <summary>Overrides OTEL_EXPORTER_OTLP_ENDPOINT: the OTLP base endpoint (http://collector:4318 for http/protobuf, :4317 for grpc). Export is on when either is set.</summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary>Overrides OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf" (default) or "grpc".</summary>
    public string? OtlpProtocol { get; set; }

    /// <summary>Overrides OTEL_EXPORTER_OTLP_HEADERS: comma-separated key=value pairs sent with every export.</summary>
    public string? OtlpHeaders { get; set; }

    /// <summary>Overrides OTEL_METRIC_EXPORT_INTERVAL: milliseconds between metric exports (default 10000).</summary>
    public int? ExportIntervalMilliseconds { get; set; }

    /// <summary>Export spans (commands, sampled batches) as well as metrics.</summary>
    public bool Traces { get; set; } = true;

    /// <summary>Fraction of acknowledged batches that get a span (0 to 1); command spans are never sampled out.</summary>
    public double BatchSpanSampleRatio { get; set; } = 0.01;

    /// <summary>Overrides OTEL_SERVICE_NAME: service.name of the exported resource (default "ingest").</summary>
    public string? ServiceName { get; set; }

    /// <summary>ip:port for a Prometheus scrape endpoint serving /metrics (e.g. 127.0.0.1:9464); empty = none.</summary>
    public string? PrometheusListen { get; set; }

    public void Validate()
    {
        if (!string.IsNullOrWhiteSpace(OtlpEndpoint) && !Uri.TryCreate(OtlpEndpoint, UriKind.Absolute, out _))
        {
            throw new ConfigurationException($"Telemetry:OtlpEndpoint must be an absolute URI (got '{OtlpEndpoint}')");
        }

        if (OtlpProtocol is not (null or "http/protobuf" or "grpc"))
        {
            throw new ConfigurationException($"Telemetry:OtlpProtocol must be http/protobuf or grpc (got '{OtlpProtocol}')");
        }

        if (ExportIntervalMilliseconds is < 100 or > 3_600_000)
        {
            throw new ConfigurationException($"Telemetry:ExportIntervalMilliseconds must be between 100 and 3600000 (got {ExportIntervalMilliseconds})");
        }

        if (BatchSpanSampleRatio is < 0 or > 1 || double.IsNaN(BatchSpanSampleRatio))
        {
            throw new ConfigurationException($"Telemetry:BatchSpanSampleRatio must be between 0 and 1 (got {BatchSpanSampleRatio})");
        }

        if (!string.IsNullOrWhiteSpace(PrometheusListen) && !System.Net.IPEndPoint.TryParse(PrometheusListen, out var listen) | listen is { Port: 0 })
        {
            throw new ConfigurationException($"Telemetry:PrometheusListen must be ip:port, e.g. 127.0.0.1:9464 (got '{PrometheusListen}')");
        }
    }
}
