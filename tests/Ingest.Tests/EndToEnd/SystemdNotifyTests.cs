using System.Net;
using System.Net.Sockets;
using Ingest.Daemon;
using Ingest.Tests.Support;

namespace Ingest.Tests.EndToEnd;

/// <summary>
/// `ingest run` speaks sd_notify to whoever set NOTIFY_SOCKET: here a Unix datagram socket the test
/// owns, as systemd's would be for Type=notify. READY=1 only after every source started, watchdog
/// pings while healthy, STOPPING=1 on SIGTERM, then the usual flush and exit 0.
/// </summary>
public sealed class SystemdNotifyTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ingest-notify-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Ready_after_the_sources_started_watchdog_while_running_stopping_on_sigterm()
    {
        var ct = TestContext.Current.CancellationToken;
        var path = Path.Combine(_dir, "notify.sock");
        using var notify = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        notify.Bind(new UnixDomainSocketEndPoint(path));

        var port = FreeUdpPort();
        using var daemon = CliProcess.Start(
            new Dictionary<string, string> { ["NOTIFY_SOCKET"] = path, ["WATCHDOG_USEC"] = "400000" },
            "run", "--udp", $"127.0.0.1:{port}", "--no-proc", "--stats-interval", "0", "--set", $"RuntimeDirectory={Path.Combine(_dir, "run")}");

        // The daemon's own STATUS= (sent once its sources started) precedes the host's READY=1.
        Assert.Matches(@"^STATUS=running \d+ source\(s\)$", await ReceiveAsync(notify, daemon, ct));
        Assert.Equal("READY=1", await ReceiveAsync(notify, daemon, ct));
        Assert.Contains(daemon.Stdout, l => l.StartsWith("bootstrap=", StringComparison.Ordinal));

        // Ready means ready: a datagram sent now is received and delivered.
        using (var client = new UdpClient(AddressFamily.InterNetwork))
        {
            await client.SendAsync("after-ready"u8.ToArray(), new IPEndPoint(IPAddress.Loopback, port), ct);
        }

        // Half of WATCHDOG_USEC: at least two pings in a second.
        Assert.Equal("WATCHDOG=1", await ReceiveAsync(notify, daemon, ct));
        Assert.Equal("WATCHDOG=1", await ReceiveAsync(notify, daemon, ct));

        daemon.Terminate();
        string message;
        do
        {
            message = await ReceiveAsync(notify, daemon, ct);
        }
        while (message == "WATCHDOG=1");

        Assert.Equal("STOPPING=1", message);
        Assert.Equal(0, await daemon.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains(daemon.Stdout, l => l.Contains("udp: received=1 delivered=1 dropped=0", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_daemon_that_cannot_start_never_says_ready()
    {
        var path = Path.Combine(_dir, "notify.sock");
        using var notify = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        notify.Bind(new UnixDomainSocketEndPoint(path));
        using var holder = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)holder.Client.LocalEndPoint!).Port;

        using var daemon = CliProcess.Start(
            new Dictionary<string, string> { ["NOTIFY_SOCKET"] = path },
            "run", "--udp", $"127.0.0.1:{port}", "--no-proc", "--set", $"RuntimeDirectory={Path.Combine(_dir, "run")}");

        Assert.Equal(1, await daemon.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("Address already in use", daemon.Stderr);
        Assert.DoesNotContain("   at ", daemon.Stderr);
        var messages = new List<string>();
        var buffer = new byte[4096];
        while (notify.Available > 0)
        {
            messages.Add(System.Text.Encoding.UTF8.GetString(buffer, 0, notify.Receive(buffer)));
        }

        Assert.DoesNotContain("READY=1", messages);
        Assert.DoesNotContain(messages, m => m.StartsWith("STATUS=running", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("1000000", null, 500_000L)]
    [InlineData("1000000", "self", 500_000L)]
    [InlineData("1000000", "1", null)]
    [InlineData("0", null, null)]
    [InlineData(null, null, null)]
    [InlineData("x", null, null)]
    public void Watchdog_period_is_half_of_WATCHDOG_USEC_for_this_process_only(string? usec, string? pid, long? expectedMicroseconds)
    {
        int self = Environment.ProcessId;
        var period = SystemdWatchdog.Period(usec, pid == "self" ? $"{self}" : pid, self);
        Assert.Equal(expectedMicroseconds, period is { } p ? (long)p.TotalMicroseconds : null);
    }

    private static async Task<string> ReceiveAsync(Socket socket, CliProcess daemon, CancellationToken ct)
    {
        var buffer = new byte[4096];
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        try
        {
            int n = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            return System.Text.Encoding.UTF8.GetString(buffer, 0, n);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new TimeoutException($"no sd_notify message in 30 s (exited={daemon.HasExited}); stderr: {daemon.Stderr}");
        }
    }

    private static int FreeUdpPort()
    {
        using var probe = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.Client.LocalEndPoint!).Port;
    }
}
