namespace Ingest.Telemetry;

/// <summary>The `Telemetry` configuration section: where OpenTelemetry exports metrics and spans.</summary>
public sealed class TelemetryOptions
{
    /// <summary>OTLP base endpoint (http://collector:4318 for http/protobuf, :4317 for grpc); empty = no export.</summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary>"http/protobuf" (default) or "grpc".</summary>
    public string OtlpProtocol { get; set; } = "http/protobuf";

    /// <summary>Milliseconds between metric exports.</summary>
    public int ExportIntervalMilliseconds { get; set; } = 10_000;

    /// <summary>Export spans (commands, sampled batches) as well as metrics.</summary>
    public bool Traces { get; set; } = true;

    /// <summary>Fraction of acknowledged batches that get a span (0 to 1); command spans are never sampled out.</summary>
    public double BatchSpanSampleRatio { get; set; } = 0.01;

    /// <summary>service.name of the exported resource.</summary>
    public string ServiceName { get; set; } = "ingest";

    public bool ExportEnabled => !string.IsNullOrWhiteSpace(OtlpEndpoint);

    public void Validate()
    {
        if (ExportEnabled && !Uri.TryCreate(OtlpEndpoint, UriKind.Absolute, out var uri))
        {
            throw new ConfigurationException($"Telemetry:OtlpEndpoint must be an absolute URI (got '{OtlpEndpoint}')");
        }

        if (OtlpProtocol is not ("http/protobuf" or "grpc"))
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
    }
}
