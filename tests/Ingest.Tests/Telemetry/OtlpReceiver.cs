using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Ingest.Tests.Telemetry;

/// <summary>
/// A small OTLP/HTTP receiver on loopback: accepts POST /v1/metrics and /v1/traces with protobuf
/// bodies and decodes metric names (with their integer sum points, by "channel" attribute) and span names.
/// </summary>
internal sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;

    public OtlpReceiver()
    {
        // HttpListener needs a concrete port: probe a free one, then bind it.
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            Port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public int Port { get; }

    public string Endpoint => $"http://127.0.0.1:{Port}";

    public ConcurrentDictionary<string, byte> MetricNames { get; } = new(StringComparer.Ordinal);

    public ConcurrentDictionary<string, byte> SpanNames { get; } = new(StringComparer.Ordinal);

    /// <summary>Latest integer value per "metric|channel" of sum data points.</summary>
    public ConcurrentDictionary<string, long> Sums { get; } = new(StringComparer.Ordinal);

    public ConcurrentDictionary<string, byte> ServiceNames { get; } = new(StringComparer.Ordinal);

    /// <summary>Latest string value of every resource attribute seen.</summary>
    public ConcurrentDictionary<string, string> ResourceAttributes { get; } = new(StringComparer.Ordinal);

    /// <summary>Request headers of the latest export, by lower-case name.</summary>
    public ConcurrentDictionary<string, string> Headers { get; } = new(StringComparer.Ordinal);

    public ConcurrentQueue<string> Rejected { get; } = new();

    public int Requests;

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        try
        {
            await _loop;
        }
        catch (HttpListenerException)
        {
        }
        catch (ObjectDisposedException)
        {
        }

        _listener.Close();
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            foreach (string? name in context.Request.Headers.AllKeys)
            {
                if (name is not null)
                {
                    Headers[name.ToLowerInvariant()] = context.Request.Headers[name] ?? "";
                }
            }

            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            var path = context.Request.Url!.AbsolutePath;
            var ok = context.Request.HttpMethod == "POST" && context.Request.ContentType == "application/x-protobuf";
            try
            {
                if (ok && path == "/v1/metrics")
                {
                    ReadMetricsRequest(body.ToArray());
                }
                else if (ok && path == "/v1/traces")
                {
                    ReadTracesRequest(body.ToArray());
                }
                else
                {
                    ok = false;
                }
            }
            catch (FormatException e)
            {
                Rejected.Enqueue($"{path}: {e.Message}");
                ok = false;
            }

            if (!ok)
            {
                Rejected.Enqueue($"{context.Request.HttpMethod} {path} {context.Request.ContentType}");
            }

            Interlocked.Increment(ref Requests);
            context.Response.StatusCode = ok ? 200 : 400;
            context.Response.ContentType = "application/x-protobuf";
            context.Response.Close();
        }
    }

    // ExportMetricsServiceRequest.resource_metrics(1) → ResourceMetrics{resource(1), scope_metrics(2)}
    // → ScopeMetrics.metrics(2) → Metric{name(1), sum(7)} → Sum.data_points(1) → NumberDataPoint{as_int(6), attributes(7)}.
    private void ReadMetricsRequest(ReadOnlySpan<byte> request)
    {
        var top = new ProtobufReader(request);
        while (top.Next())
        {
            if (top.Field != 1)
            {
                continue;
            }

            var resourceMetrics = new ProtobufReader(top.Bytes);
            while (resourceMetrics.Next())
            {
                if (resourceMetrics.Field == 1)
                {
                    ReadResource(resourceMetrics.Bytes);
                }
                else if (resourceMetrics.Field == 2)
                {
                    var scope = new ProtobufReader(resourceMetrics.Bytes);
                    while (scope.Next())
                    {
                        if (scope.Field == 2)
                        {
                            ReadMetric(scope.Bytes);
                        }
                    }
                }
            }
        }
    }

    private void ReadMetric(ReadOnlySpan<byte> metric)
    {
        var name = "";
        var reader = new ProtobufReader(metric);
        while (reader.Next())
        {
            if (reader.Field == 1)
            {
                name = reader.String;
                MetricNames[name] = 0;
            }
            else if (reader.Field == 7)
            {
                var sum = new ProtobufReader(reader.Bytes);
                while (sum.Next())
                {
                    if (sum.Field == 1)
                    {
                        ReadPoint(name, sum.Bytes);
                    }
                }
            }
        }
    }

    private void ReadPoint(string metric, ReadOnlySpan<byte> point)
    {
        long? value = null;
        var channel = "";
        var reader = new ProtobufReader(point);
        while (reader.Next())
        {
            if (reader.Field == 6)
            {
                value = (long)reader.Varint;
            }
            else if (reader.Field == 7)
            {
                var (key, text) = ReadKeyValue(reader.Bytes);
                if (key == "channel")
                {
                    channel = text;
                }
            }
        }

        if (value is { } v)
        {
            Sums[$"{metric}|{channel}"] = v;
        }
    }

    private void ReadResource(ReadOnlySpan<byte> resource)
    {
        var reader = new ProtobufReader(resource);
        while (reader.Next())
        {
            if (reader.Field == 1)
            {
                var (key, text) = ReadKeyValue(reader.Bytes);
                ResourceAttributes[key] = text;
                if (key == "service.name")
                {
                    ServiceNames[text] = 0;
                }
            }
        }
    }

    // KeyValue{key(1), value(2): AnyValue{string_value(1), ...}}
    private static (string Key, string Text) ReadKeyValue(ReadOnlySpan<byte> keyValue)
    {
        string key = "", text = "";
        var reader = new ProtobufReader(keyValue);
        while (reader.Next())
        {
            if (reader.Field == 1)
            {
                key = reader.String;
            }
            else if (reader.Field == 2)
            {
                var any = new ProtobufReader(reader.Bytes);
                while (any.Next())
                {
                    if (any.Field == 1 && any.WireType == 2)
                    {
                        text = any.String;
                    }
                }
            }
        }

        return (key, text);
    }

    // ExportTraceServiceRequest.resource_spans(1) → ResourceSpans.scope_spans(2) → ScopeSpans.spans(2) → Span.name(5).
    private void ReadTracesRequest(ReadOnlySpan<byte> request)
    {
        var top = new ProtobufReader(request);
        while (top.Next())
        {
            if (top.Field != 1)
            {
                continue;
            }

            var resourceSpans = new ProtobufReader(top.Bytes);
            while (resourceSpans.Next())
            {
                if (resourceSpans.Field != 2)
                {
                    continue;
                }

                var scope = new ProtobufReader(resourceSpans.Bytes);
                while (scope.Next())
                {
                    if (scope.Field != 2)
                    {
                        continue;
                    }

                    var span = new ProtobufReader(scope.Bytes);
                    while (span.Next())
                    {
                        if (span.Field == 5)
                        {
                            SpanNames[span.String] = 0;
                        }
                    }
                }
            }
        }
    }
}
