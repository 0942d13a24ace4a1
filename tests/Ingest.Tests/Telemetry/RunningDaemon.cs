using System.Net;
using System.Net.Sockets;
using Ingest.Configuration;
using Ingest.Daemon;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ingest.Tests.Telemetry;

/// <summary>The daemon run in-process with one UDP source on loopback and the given extra settings.</summary>
internal sealed class RunningDaemon : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly StringWriter _stdout = new();
    private readonly Task<int> _run;

    public RunningDaemon(string bootstrap, params KeyValuePair<string, string?>[] settings)
    {
        UdpPort = FreeUdpPort();
        RuntimeDirectory = Directory.CreateTempSubdirectory("ingest-telemetry-").FullName;
        ControlSocket = Path.Combine(RuntimeDirectory, "control.sock");
        List<KeyValuePair<string, string?>> all =
        [
            new("HostId", "telemetry-host"),
            new("Kafka:Bootstrap", bootstrap),
            new("Udp:Endpoints:0", $"127.0.0.1:{UdpPort}"),
            new("Proc:Enabled", "false"),

            // Only the UDP source: several daemons share this process, and the signal, upcall and
            // ring sources are one per host; the runtime directory is this daemon's own.
            new("Netlink:Uevent", "false"),
            new("Netlink:Rtnetlink", "false"),
            new("Signals:Enabled", "false"),
            new("Upcall:Enabled", "false"),
            new("Ring:Enabled", "off"),

            // Heartbeats are records too: the telemetry tests count exactly the UDP source's.
            new("Heartbeat:Enabled", "false"),
            new("RuntimeDirectory", RuntimeDirectory),
            new("Pipeline:Batch:LingerMs", "10"),
            new("Stats:IntervalSeconds", "0"),
            new("Stats:ControlSocket", ControlSocket),
            new("ShutdownTimeoutSeconds", "5"),
        ];
        all.AddRange(settings);
        if (!settings.Any(s => s.Key == "Spool:Directory"))
        {
            all.Add(new("Spool:Directory", Path.Combine(RuntimeDirectory, "spool")));
        }

        Daemon = new IngestDaemon(ConfigurationLoader.Load(null, all), NullLoggerFactory.Instance, TextWriter.Synchronized(_stdout));
        _run = Task.Run(() => Daemon.RunAsync(_stop.Token));
    }

    public IngestDaemon Daemon { get; }

    public int UdpPort { get; }

    public string ControlSocket { get; }

    public string RuntimeDirectory { get; }

    public string Output => _stdout.ToString();

    /// <summary>Waits until the daemon has built its pipeline and metrics (and opened its UDP socket).</summary>
    public async Task StartedAsync()
    {
        await WaitForAsync(() => Daemon.Metrics is not null && File.Exists(ControlSocket), "the daemon to start");
    }

    public async Task SendAsync(int datagrams, string prefix = "dgram")
    {
        using var client = new UdpClient(AddressFamily.InterNetwork);
        client.Connect(IPAddress.Loopback, UdpPort);
        for (var i = 0; i < datagrams; i++)
        {
            await client.SendAsync(System.Text.Encoding.UTF8.GetBytes($"{prefix}-{i}"), TestContext.Current.CancellationToken);
        }
    }

    public async Task WaitForAsync(Func<bool> condition, string what, int seconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            if (_run.IsCompleted)
            {
                Assert.Fail($"the daemon exited ({await _run}) before {what}: {Output}");
            }

            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}; output: {Output}");
            await Task.Delay(50);
        }
    }

    /// <summary>SIGTERM equivalent; returns the exit code.</summary>
    public async Task<int> StopAsync()
    {
        await _stop.CancelAsync();
        return await _run;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_run.IsCompleted)
        {
            await StopAsync();
        }

        _stop.Dispose();
        Directory.Delete(RuntimeDirectory, recursive: true);
    }

    private static int FreeUdpPort()
    {
        using var probe = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.Client.LocalEndPoint!).Port;
    }
}
