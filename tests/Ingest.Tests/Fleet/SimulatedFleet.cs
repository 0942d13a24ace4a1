using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Ingest.Commands;
using Ingest.Sinks.Broker;
using Ingest.Tests.Support;
using Ingest.Transports.Netlink;

namespace Ingest.Tests.Fleet;

/// <summary>
/// N real `ingest run` daemons against one embedded broker, each with its own HostId
/// (fleet-NN), runtime directory, UDP port and network namespace, heartbeating every
/// <see cref="Interval"/> and applying signed commands that write net.ipv4.tcp_keepalive_time
/// (results signed with its own host key),
/// a per-namespace sysctl: each daemon's write lands in its own namespace, never in the machine's.
/// </summary>
/// <remarks>
/// The broker listens on 127.0.0.1 of this (the test's) namespace, which a daemon in its own
/// namespace cannot reach. Each namespace gets a relay instead: a listener on 127.0.0.1 at the
/// broker's port, opened inside the namespace (a socket keeps the namespace it was created in),
/// relaying every connection to the broker from here. The broker advertises 127.0.0.1:port in
/// its metadata, and that address leads to the relay in every namespace, so the daemon's
/// librdkafka needs no special configuration.
/// </remarks>
internal sealed class SimulatedFleet : IAsyncDisposable
{
    public const string Sysctl = "net.ipv4.tcp_keepalive_time";

    private readonly EmbeddedBroker _broker;
    private readonly List<CliProcess> _daemons = [];
    private readonly List<IDisposable> _relays = [];
    private readonly List<string> _namespaces = [];
    private readonly string _root = Directory.CreateTempSubdirectory("ingest-fleet-").FullName;

    private SimulatedFleet(EmbeddedBroker broker, TimeSpan interval)
    {
        _broker = broker;
        Interval = interval;
        OperatorKey = Path.Combine(_root, "ops.key");
        CommandKeys.Generate(OperatorKey, Path.Combine(_root, "ops.pub"));
        HostKeys = Directory.CreateDirectory(Path.Combine(_root, "hosts")).FullName;
    }

    public TimeSpan Interval { get; }

    public string Bootstrap => _broker.BootstrapServers;

    public string OperatorKey { get; }

    /// <summary>The hosts' result-signing public keys, HOST.pub each (`ingest send --host-pub`).</summary>
    public string HostKeys { get; }

    public string Root => _root;

    public IReadOnlyList<string> Hosts { get; private set; } = [];

    /// <summary>Null when this machine can make network namespaces (root, ip(8)); else why not.</summary>
    public static string? Unavailable =>
        Environment.UserName != "root" ? "needs root to create network namespaces"
        : !File.Exists("/usr/sbin/ip") && !File.Exists("/sbin/ip") ? "needs ip(8) (iproute2) for `ip netns`"
        : null;

    public static async Task<SimulatedFleet> StartAsync(int count, TimeSpan interval, TimeSpan readyTimeout)
    {
        var fleet = new SimulatedFleet(EmbeddedBroker.Start(), interval);
        try
        {
            var broker = IPEndPoint.Parse(fleet.Bootstrap);
            var tag = Guid.NewGuid().ToString("N")[..6];
            var hosts = new List<string>();
            for (var i = 0; i < count; i++)
            {
                var host = $"fleet-{i:D2}";
                hosts.Add(host);
                var netns = $"ingest-{tag}-{i:D2}";
                await Ip("netns", "add", netns);
                fleet._namespaces.Add(netns);
                await Ip("-n", netns, "link", "set", "lo", "up");
                fleet._relays.Add(NetworkNamespace.Run(Path.Combine(NetworkNamespace.NamedDirectory, netns), () => new TcpForwarder(broker, broker)));
                var runtime = Path.Combine(fleet._root, host);
                Directory.CreateDirectory(runtime);
                var hostKey = Path.Combine(runtime, $"{host}.key");
                CommandKeys.Generate(hostKey, Path.Combine(fleet.HostKeys, $"{host}.pub"));
                fleet._daemons.Add(CliProcess.StartProgram(
                    "ip", "netns", "exec", netns, CliProcess.ExecutablePath,
                    "run", "--bootstrap", fleet.Bootstrap, "--host-id", host, "--udp", $"127.0.0.1:{FreeUdpPort()}", "--no-proc", "--stats-interval", "0",
                    "--set", $"RuntimeDirectory={runtime}",
                    "--set", $"Heartbeat:IntervalSeconds={interval.TotalSeconds.ToString(CultureInfo.InvariantCulture)}",
                    "--set", "Netlink:Enabled=false", "--set", "Signals:Enabled=false", "--set", "Upcall:Enabled=false", "--set", "Ring:Enabled=off",
                    "--set", "Commands:Enabled=true", "--set", $"Commands:HostKey={hostKey}",
                    "--set", $"Commands:TrustedKeys:0={Path.Combine(fleet._root, "ops.pub")}",
                    "--set", $"Commands:StateDirectory={Path.Combine(runtime, "state")}",
                    "--set", $"Commands:Sysctl:0:Key={Sysctl}", "--set", "Commands:Sysctl:0:Min=30", "--set", "Commands:Sysctl:0:Max=7200"));
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
            _daemons[Hosts.ToList().IndexOf(host)].Kill();
        }
    }

    /// <summary>The sysctl's value in the host's own namespace.</summary>
    public string SysctlValue(string host)
    {
        var netns = _namespaces[Hosts.ToList().IndexOf(host)];
        return NetworkNamespace.Run(Path.Combine(NetworkNamespace.NamedDirectory, netns), () => File.ReadAllText("/proc/sys/" + Sysctl.Replace('.', '/')).Trim());
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

    /// <summary>Runs `ingest send` with the operator key and these arguments.</summary>
    public Task<ProcessRunner.Result> SendAsync(params string[] args) =>
        ProcessRunner.RunAsync(CliProcess.ExecutablePath, ["send", "--bootstrap", Bootstrap, "--key", OperatorKey, "--host-pub", HostKeys, .. args], timeout: TimeSpan.FromSeconds(120));

    public async ValueTask DisposeAsync()
    {
        foreach (var daemon in _daemons)
        {
            daemon.Dispose();
        }

        foreach (var relay in _relays)
        {
            relay.Dispose();
        }

        foreach (var netns in _namespaces)
        {
            await Ip("netns", "del", netns);
        }

        _broker.Dispose();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static async Task Ip(params string[] args)
    {
        var result = await ProcessRunner.RunAsync("ip", args, timeout: TimeSpan.FromSeconds(30));
        Assert.True(result.ExitCode == 0, $"ip {string.Join(' ', args)}: {result.Stderr}");
    }

    private static int FreeUdpPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
