using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Ingest.Telemetry;

/// <summary>
/// OpenTelemetry's SDK (through OpenTelemetry.Extensions.Hosting's service registration) reading
/// the "Ingest" meter and activity source, .NET runtime and process metrics, and exporting them
/// over OTLP and/or serving them to Prometheus. The SDK reads its standard environment itself from
/// one configuration: Ingest's defaults, then the process environment, then the `Telemetry:*`
/// overrides. Disposing flushes.
/// </summary>
public sealed class TelemetryExport : IDisposable
{
    private const string Endpoint = "OTEL_EXPORTER_OTLP_ENDPOINT";
    private const string MetricsEndpoint = "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT";
    private const string Protocol = "OTEL_EXPORTER_OTLP_PROTOCOL";
    private const string Headers = "OTEL_EXPORTER_OTLP_HEADERS";
    private const string ServiceName = "OTEL_SERVICE_NAME";
    private const string ExportInterval = "OTEL_METRIC_EXPORT_INTERVAL";

    private readonly ServiceProvider _services;
    private readonly MeterProvider _meters;
    private readonly TracerProvider? _tracer;

    private TelemetryExport(ServiceProvider services, string description)
    {
        _services = services;
        _meters = services.GetRequiredService<MeterProvider>();
        _tracer = services.GetService<TracerProvider>();
        Description = description;
    }

    /// <summary>Where telemetry goes, for the log: "OTLP (http/protobuf) to ..., Prometheus at ...".</summary>
    public string Description { get; }

    /// <summary>Starts the exporters that are configured; null when neither OTLP nor Prometheus is.</summary>
    public static TelemetryExport? Start(TelemetryOptions options, string hostId, IConfiguration? environment = null)
    {
        options.Validate();
        IConfiguration config = Configuration(options, environment ?? new ConfigurationBuilder().AddEnvironmentVariables().Build());
        string? otlp = NonEmpty(config[MetricsEndpoint]) ?? NonEmpty(config[Endpoint]);
        string? prometheus = NonEmpty(options.PrometheusListen);
        var listen = prometheus is null ? null : System.Net.IPEndPoint.Parse(prometheus);
        if (otlp is null && prometheus is null)
        {
            return null;
        }

        if (otlp is not null && !Uri.TryCreate(otlp, UriKind.Absolute, out _))
        {
            throw new ConfigurationException($"{(NonEmpty(config[MetricsEndpoint]) is null ? Endpoint : MetricsEndpoint)} must be an absolute URI (got '{otlp}')");
        }

        var services = new ServiceCollection();
        services.AddSingleton(config);
        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource
                .Clear()
                .AddService(DefaultServiceName(config), serviceInstanceId: hostId, autoGenerateServiceInstanceId: false)
                .AddAttributes([new("host.name", hostId)])
                .AddTelemetrySdk()
                // OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME from the configuration above: they win.
                .AddEnvironmentVariableDetector())
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(IngestMetrics.MeterName).AddRuntimeInstrumentation().AddProcessInstrumentation();
                if (otlp is not null)
                {
                    metrics.AddOtlpExporter();
                }

                if (prometheus is not null)
                {
                    metrics.AddPrometheusHttpListener(o =>
                    {
                        o.Host = listen!.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{listen.Address}]" : listen.Address.ToString();
                        o.Port = listen.Port;
                        o.ScrapeEndpointPath = "/metrics";
                    });
                }
            });
        if (otlp is not null && options.Traces)
        {
            telemetry.WithTracing(tracing => tracing.AddSource(IngestTracing.SourceName).SetSampler(new AlwaysOnSampler()).AddOtlpExporter());
        }

        var provider = services.BuildServiceProvider();
        try
        {
            // Resolving the meter provider starts its exporters: a busy Prometheus port fails here.
            _ = provider.GetRequiredService<MeterProvider>();
        }
        catch (System.Net.HttpListenerException e)
        {
            provider.Dispose();
            throw new InvalidOperationException($"Telemetry:PrometheusListen {prometheus}: {e.Message}", e);
        }

        var parts = new List<string>(2);
        if (otlp is not null)
        {
            parts.Add($"metrics{(options.Traces ? " and spans" : "")} over OTLP ({config[Protocol]}) to {otlp}");
        }

        if (prometheus is not null)
        {
            parts.Add($"metrics for Prometheus at http://{prometheus}/metrics");
        }

        try
        {
            return new TelemetryExport(provider, string.Join("; ", parts));
        }
        catch
        {
            provider.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _meters.ForceFlush(5_000);
        _tracer?.ForceFlush(5_000);
        _services.Dispose();
    }

    /// <summary>Ingest's defaults, under the environment, under the Telemetry:* overrides.</summary>
    internal static IConfiguration Configuration(TelemetryOptions options, IConfiguration environment)
    {
        var overrides = new Dictionary<string, string?>(StringComparer.Ordinal);
        void Override(string key, string? value)
        {
            if (!string.IsNullOrWhiteSpace(value))
            {
                overrides[key] = value;
            }
        }

        Override(Endpoint, options.OtlpEndpoint);
        Override(Protocol, options.OtlpProtocol);
        Override(Headers, options.OtlpHeaders);
        Override(ServiceName, options.ServiceName);
        Override(ExportInterval, options.ExportIntervalMilliseconds?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (!string.IsNullOrWhiteSpace(options.OtlpEndpoint))
        {
            // An explicit endpoint is for every signal: a signal-specific variable must not win over it.
            overrides["OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"] = null;
            overrides["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = null;
        }

        return new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>(StringComparer.Ordinal)
            {
                [Protocol] = TelemetryOptions.DefaultProtocol,
                [ExportInterval] = TelemetryOptions.DefaultExportIntervalMilliseconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            })
            .AddConfiguration(environment)
            .AddInMemoryCollection(overrides)
            .Build();
    }

    private static string DefaultServiceName(IConfiguration config) => NonEmpty(config[ServiceName]) ?? TelemetryOptions.DefaultServiceName;

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
