using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Ingest.Sinks.Broker;
using Ingest.Tests.Support;

namespace Ingest.Tests.Fleet;

/// <summary>
/// N real `ingest run` daemons against one embedded broker, each with its own HostId
/// (fleet-NN), runtime directory and UDP port, heartbeating every <see cref="Interval"/>.
/// Only the UDP source and the heartbeat run (the other sources are host-global and add nothing
/// to a fleet); everything else is the daemon as shipped.
/// </summary>
internal sealed class SimulatedFleet : IAsyncDisposable
{
    private readonly EmbeddedBroker _broker;
    private readonly List<CliProcess> _daemons = [];
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"ingest-fleet-{Guid.NewGuid():N}");

    private SimulatedFleet(EmbeddedBroker broker, TimeSpan interval)
    {
        _broker = broker;
        Interval = interval;
    }

    public TimeSpan Interval { get; }

    public string Bootstrap => _broker.BootstrapServers;

    public IReadOnlyList<string> Hosts { get; private set; } = [];

    public static async Task<SimulatedFleet> StartAsync(int count, TimeSpan interval, TimeSpan readyTimeout)
    {
        var fleet = new SimulatedFleet(EmbeddedBroker.Start(), interval);
        try
        {
            var hosts = new List<string>();
            for (var i = 0; i < count; i++)
            {
                var host = $"fleet-{i:D2}";
                hosts.Add(host);
                var runtime = Path.Combine(fleet._root, host);
                Directory.CreateDirectory(runtime);
                fleet._daemons.Add(CliProcess.Start(
                    "run", "--bootstrap", fleet.Bootstrap, "--host-id", host, "--udp", $"127.0.0.1:{FreeUdpPort()}", "--no-proc", "--stats-interval", "0",
                    "--set", $"RuntimeDirectory={runtime}",
                    "--set", $"Heartbeat:IntervalSeconds={interval.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}",
                    "--set", "Netlink:Enabled=false", "--set", "Signals:Enabled=false", "--set", "Upcall:Enabled=false", "--set", "Ring:Enabled=off"));
            }

            fleet.Hosts = hosts;
            await Task.WhenAll(fleet._daemons.Select(d => d.WaitForLineAsync("bootstrap=", readyTimeout)));
            return fleet;
        }
        catch
        {
            await fleet.DisposeAsync();
            throw;
        }
    }

    /// <summary>SIGKILLs the daemons of these hosts (no last heartbeat, no flush).</summary>
    public void Kill(IEnumerable<string> hosts)
    {
        foreach (var host in hosts)
        {
            var daemon = _daemons[Hosts.ToList().IndexOf(host)];
            daemon.Kill();
        }
    }

    /// <summary>Runs `ingest fleet --once --json` and returns host → stale.</summary>
    public async Task<Dictionary<string, bool>> ViewAsync()
    {
        var result = await ProcessRunner.RunAsync(CliProcess.ExecutablePath, ["fleet", "--bootstrap", Bootstrap, "--once", "--json", "--since", "600"], timeout: TimeSpan.FromSeconds(60));
        Assert.True(result.ExitCode == 0, $"ingest fleet exited {result.ExitCode}: {result.Stderr}");
        using var doc = JsonDocument.Parse(result.Stdout);
        return doc.RootElement.GetProperty("hosts").EnumerateArray()
            .ToDictionary(h => h.GetProperty("host").GetString()!, h => h.GetProperty("stale").GetBoolean(), StringComparer.Ordinal);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var daemon in _daemons)
        {
            daemon.Dispose();
        }

        _broker.Dispose();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }

        await Task.CompletedTask;
    }

    private static int FreeUdpPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
