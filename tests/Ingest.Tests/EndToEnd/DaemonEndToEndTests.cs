using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Ingest.Configuration;
using Ingest.Daemon;
using Ingest.Encoding;
using Ingest.Encoding.MessagePack;
using Ingest.Sinks.Broker;
using Ingest.Sinks.Kafka;
using Ingest.Telemetry;
using Ingest.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ingest.Tests.EndToEnd;

/// <summary>
/// The daemon as a user runs it, in-process: real UDP on loopback and real /proc into the embedded
/// broker (librdkafka's mock cluster over TCP), read back by the Confluent consumer, by kcat and
/// decoded by python3-msgpack.
/// </summary>
public sealed class DaemonEndToEndTests : IAsyncLifetime
{
    private const int Datagrams = 2000;
    private readonly EmbeddedBroker _broker = EmbeddedBroker.Start();
    private readonly string _socket = Path.Combine(Path.GetTempPath(), $"ingest-e2e-{Guid.NewGuid():N}.sock");
    private readonly StringWriter _stdout = new();
    private readonly CancellationTokenSource _stop = new();
    private int _udpPort;
    private Task<int>? _daemon;

    public ValueTask InitializeAsync()
    {
        _udpPort = FreeUdpPort();
        var options = ConfigurationLoader.Load(null,
        [
            new("HostId", "e2e-host"),
            new("Kafka:Bootstrap", _broker.BootstrapServers),
            new("Udp:Endpoints:0", $"127.0.0.1:{_udpPort}"),
            new("Proc:IntervalSeconds", "0.2"),
            new("Proc:Files:0:Path", "/proc/loadavg"),
            new("Proc:Files:1:Path", "/proc/meminfo"),
            new("Pipeline:Batch:LingerMs", "10"),
            new("Stats:IntervalSeconds", "0"),
            new("Stats:ControlSocket", _socket),
            new("RuntimeDirectory", Path.Combine(Path.GetTempPath(), $"ingest-e2e-{Guid.NewGuid():N}")),
            new("Spool:Directory", Path.Combine(Path.GetTempPath(), $"ingest-e2e-spool-{Guid.NewGuid():N}")),
        ]);
        var daemon = new IngestDaemon(options, NullLoggerFactory.Instance, TextWriter.Synchronized(_stdout));
        _daemon = Task.Run(() => daemon.RunAsync(_stop.Token));
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_daemon is not null)
        {
            await _daemon;
        }

        _broker.Dispose();
        _stop.Dispose();
    }

    [Fact]
    public async Task Datagrams_and_proc_scrapes_arrive_in_kafka_intact_and_in_order()
    {
        var ct = TestContext.Current.CancellationToken;
        await WaitForAsync(() => _stdout.ToString().StartsWith($"bootstrap={_broker.BootstrapServers}", StringComparison.Ordinal), "the bootstrap= line");
        await WaitForAsync(() => File.Exists(_socket), "the control socket");

        using var client = new UdpClient(AddressFamily.InterNetwork);
        client.Connect(IPAddress.Loopback, _udpPort);
        var src = $"127.0.0.1:{((IPEndPoint)client.Client.LocalEndPoint!).Port}";
        for (var i = 0; i < Datagrams; i++)
        {
            await client.SendAsync(System.Text.Encoding.UTF8.GetBytes($"dgram-{i}"), ct);
        }

        var payloads = new List<string>();
        var seqs = new List<ulong>();
        var procTypes = new HashSet<string>();
        var heartbeats = 0;
        using (var reader = new KafkaTopicReader(_broker.BootstrapServers, "kernel.events", fromBeginning: true))
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while ((payloads.Count < Datagrams || procTypes.Count < 2 || heartbeats == 0) && DateTime.UtcNow < deadline)
            {
                var record = reader.Read(TimeSpan.FromMilliseconds(500));
                if (record is null)
                {
                    continue;
                }

                Assert.Equal("e2e-host", System.Text.Encoding.UTF8.GetString(record.Key!));
                var headers = record.Headers.ToDictionary(h => h.Key, h => System.Text.Encoding.UTF8.GetString(h.Value));
                Assert.Equal("application/x-msgpack", headers["content-type"]);
                Assert.Equal("1", headers["ingest-schema"]);
                var decoded = RecordDecoder.Decode(record.Value);
                Assert.Equal(decoded.Events.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), headers["ingest-count"]);
                foreach (var raw in decoded.Events)
                {
                    using var json = JsonDocument.Parse(RecordDecoder.EventAsJson(decoded, raw));
                    var e = json.RootElement;
                    Assert.True(e.GetProperty("ts").GetInt64() > 1_600_000_000_000_000_000L, "ts is Unix nanoseconds");
                    if (decoded.Channel == "udp")
                    {
                        Assert.Equal("datagram", e.GetProperty("type").GetString());
                        Assert.Equal(src, e.GetProperty("data").GetProperty("src").GetString());
                        payloads.Add(System.Text.Encoding.UTF8.GetString(e.GetProperty("data").GetProperty("payload").GetBytesFromBase64()));
                        seqs.Add(e.GetProperty("seq").GetUInt64());
                    }
                    else if (decoded.Channel == "ingest")
                    {
                        Assert.Equal("heartbeat", e.GetProperty("type").GetString());
                        heartbeats++;
                    }
                    else
                    {
                        Assert.Equal("proc", decoded.Channel);
                        procTypes.Add(e.GetProperty("type").GetString()!);
                    }
                }
            }
        }

        Assert.Equal(Enumerable.Range(0, Datagrams).Select(i => $"dgram-{i}"), payloads);
        Assert.True(heartbeats > 0, "the daemon's heartbeat (channel ingest) is on the topic");
        Assert.Equal(Enumerable.Range(0, Datagrams).Select(i => (ulong)i), seqs);
        Assert.Superset(new HashSet<string> { "proc.loadavg", "proc.meminfo" }, procTypes);

        // The figures `ingest stats` shows agree with what arrived.
        var stats = await ControlSocket.ReadAsync(_socket, ct);
        var udp = Assert.Single(stats.Sources, s => s.Channel == "udp");
        Assert.Equal(Datagrams, udp.Received);
        Assert.Equal(Datagrams, udp.Delivered);
        Assert.Equal(0, udp.DroppedTotal);
        Assert.Equal(0, udp.Transport.GetValueOrDefault("kernel_dropped"));

        // An independent client (kcat) and decoder (python3-msgpack) see the same events.
        var kcat = ProcessRunner.Find("kcat");
        var python = ProcessRunner.Find("/usr/bin/python3");
        if (kcat is null || python is null)
        {
            Assert.Skip($"kcat or /usr/bin/python3 missing (kcat={kcat ?? "absent"}); `make deps` installs them");
        }

        var dump = await ProcessRunner.RunAsync(kcat, ["-b", _broker.BootstrapServers, "-C", "-t", "kernel.events", "-o", "beginning", "-e", "-q", "-f", "%R%s"]);
        Assert.True(dump.ExitCode == 0, dump.Stderr);
        var script = Path.Combine(AppContext.BaseDirectory, "EndToEnd", "decode_records.py");
        var decodedByPython = await ProcessRunner.RunAsync(python, [script], stdin: dump.Stdout);
        Assert.True(decodedByPython.ExitCode == 0, decodedByPython.Stderr);
        var pyUdp = decodedByPython.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement)
            .Where(e => e.GetProperty("channel").GetString() == "udp")
            .OrderBy(e => e.GetProperty("seq").GetUInt64())
            .ToList();
        Assert.Equal(payloads, pyUdp.Select(e => e.GetProperty("payload").GetString()));
        Assert.All(pyUdp, e => Assert.Equal("e2e-host", e.GetProperty("host").GetString()));
    }

    private static int FreeUdpPort()
    {
        using var probe = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.Client.LocalEndPoint!).Port;
    }

    private async Task WaitForAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            if (_daemon is { IsCompleted: true })
            {
                Assert.Fail($"the daemon exited ({await _daemon}) before {what}: {_stdout}");
            }

            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(20);
        }
    }
}
