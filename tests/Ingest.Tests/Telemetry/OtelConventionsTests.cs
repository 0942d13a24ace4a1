using System.Net;
using System.Net.Sockets;
using Ingest.Sinks.Broker;
using Ingest.Telemetry;
using Ingest.Tests.Support;
using Microsoft.Extensions.Configuration;

namespace Ingest.Tests.Telemetry;

/// <summary>
/// OpenTelemetry's standard environment drives the export (the SDK reads it; `Telemetry:*` only
/// overrides), process and runtime metrics ride along, and an optional Prometheus endpoint serves
/// the same instruments.
/// </summary>
[Collection(nameof(OtlpExportCollection))]
public sealed class OtelConventionsTests
{
    [Fact]
    public async Task Only_the_standard_OTEL_variables_send_metrics_to_an_otlp_receiver()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var receiver = new OtlpReceiver();
        var dir = Directory.CreateTempSubdirectory("ingest-otel-env-").FullName;
        try
        {
            var port = FreeUdpPort();
            using var daemon = CliProcess.Start(
                new Dictionary<string, string>
                {
                    ["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.Endpoint,
                    ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
                    ["OTEL_EXPORTER_OTLP_HEADERS"] = "x-ingest-test=from-env",
                    ["OTEL_SERVICE_NAME"] = "ingest-from-env",
                    ["OTEL_RESOURCE_ATTRIBUTES"] = "deployment.environment=otel-test",
                    ["OTEL_METRIC_EXPORT_INTERVAL"] = "200",
                },
                "run", "--udp", $"127.0.0.1:{port}", "--no-proc", "--stats-interval", "0", "--host-id", "otel-host", "--set", $"RuntimeDirectory={dir}");
            await daemon.WaitForLineAsync("bootstrap=");
            using (var client = new UdpClient(AddressFamily.InterNetwork))
            {
                for (var i = 0; i < 20; i++)
                {
                    await client.SendAsync("otel"u8.ToArray(), new IPEndPoint(IPAddress.Loopback, port), ct);
                }
            }

            var delivered = IngestMetricNames.EventsDelivered + "|udp";
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (!(receiver.Sums.TryGetValue(delivered, out var n) && n == 20) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50, ct);
            }

            daemon.Terminate();
            Assert.Equal(0, await daemon.WaitForExitAsync(TimeSpan.FromSeconds(60)));
            Assert.True(receiver.Sums.TryGetValue(delivered, out var sum) && sum == 20, $"{delivered} at the receiver: {sum}; stderr: {daemon.Stderr}");
            Assert.Empty(receiver.Rejected);
            Assert.Equal("from-env", receiver.Headers["x-ingest-test"]);
            Assert.Equal("ingest-from-env", receiver.ResourceAttributes["service.name"]);
            Assert.Equal("otel-test", receiver.ResourceAttributes["deployment.environment"]);
            Assert.Equal("otel-host", receiver.ResourceAttributes["host.name"]);

            // Process and runtime metrics: CPU, memory, GC.
            Assert.Contains("process.cpu.time", receiver.MetricNames.Keys);
            Assert.Contains("process.memory.usage", receiver.MetricNames.Keys);
            Assert.Contains(receiver.MetricNames.Keys, m => m.StartsWith("dotnet.gc.", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Prometheus_endpoint_serves_the_ingest_instruments_when_enabled()
    {
        var ct = TestContext.Current.CancellationToken;
        var port = FreeTcpPort();
        using var broker = EmbeddedBroker.Start();
        await using var daemon = new RunningDaemon(broker.BootstrapServers, new KeyValuePair<string, string?>("Telemetry:PrometheusListen", $"127.0.0.1:{port}"));
        await daemon.StartedAsync();
        await daemon.SendAsync(30);
        await daemon.WaitForAsync(() => daemon.Daemon.Snapshot!().Sources.Sum(s => s.Delivered) == 30, "30 delivered");

        using var http = new HttpClient();
        var text = await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/metrics"), ct);
        Assert.Contains("# TYPE ingest_events_received_total counter", text, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^ingest_events_delivered_total\{[^}]*channel=""udp""[^}]*\} 30(\s|$)", text);
        Assert.Contains("ingest_sink_queue_depth", text, StringComparison.Ordinal);
        Assert.Contains("process_cpu_time_seconds_total", text, StringComparison.Ordinal);
        Assert.Equal(0, await daemon.StopAsync());

        // Off by default: nothing configured, nothing started.
        Assert.Null(TelemetryExport.Start(new TelemetryOptions(), "h", new ConfigurationBuilder().Build()));
    }

    [Fact]
    public void Telemetry_settings_override_the_environment_which_overrides_the_defaults()
    {
        var env = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://env:4318",
            ["OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"] = "http://env-metrics:4318/v1/metrics",
            ["OTEL_SERVICE_NAME"] = "from-env",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "5000",
        }).Build();

        var fromEnv = TelemetryExport.Configuration(new TelemetryOptions(), env);
        Assert.Equal("http://env:4318", fromEnv["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        Assert.Equal("http://env-metrics:4318/v1/metrics", fromEnv["OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"]);
        Assert.Equal("from-env", fromEnv["OTEL_SERVICE_NAME"]);
        Assert.Equal("5000", fromEnv["OTEL_METRIC_EXPORT_INTERVAL"]);
        Assert.Equal("http/protobuf", fromEnv["OTEL_EXPORTER_OTLP_PROTOCOL"]); // Ingest's default, not the .NET SDK's grpc

        var overridden = TelemetryExport.Configuration(
            new TelemetryOptions { OtlpEndpoint = "http://set:4317", OtlpProtocol = "grpc", ServiceName = "set", ExportIntervalMilliseconds = 250, OtlpHeaders = "a=b" },
            env);
        Assert.Equal("http://set:4317", overridden["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        Assert.Null(overridden["OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"]); // an explicit endpoint is for every signal
        Assert.Equal("grpc", overridden["OTEL_EXPORTER_OTLP_PROTOCOL"]);
        Assert.Equal("set", overridden["OTEL_SERVICE_NAME"]);
        Assert.Equal("250", overridden["OTEL_METRIC_EXPORT_INTERVAL"]);
        Assert.Equal("a=b", overridden["OTEL_EXPORTER_OTLP_HEADERS"]);

        var defaults = TelemetryExport.Configuration(new TelemetryOptions(), new ConfigurationBuilder().Build());
        Assert.Null(defaults["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        Assert.Equal("10000", defaults["OTEL_METRIC_EXPORT_INTERVAL"]);
    }

    [Theory]
    [InlineData("Telemetry:PrometheusListen=9464")]
    [InlineData("Telemetry:PrometheusListen=127.0.0.1:0")]
    [InlineData("Telemetry:OtlpProtocol=http")]
    public void Bad_telemetry_settings_are_refused_by_name(string setting)
    {
        var (key, value) = Ingest.Cli.RunCommand.SplitAssignment(setting, "--set");
        var e = Assert.Throws<ConfigurationException>(() => Ingest.Configuration.ConfigurationLoader.Load(null, [new(key, value)]));
        Assert.Contains(key, e.Message, StringComparison.Ordinal);
    }

    private static int FreeUdpPort()
    {
        using var probe = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.Client.LocalEndPoint!).Port;
    }

    private static int FreeTcpPort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
