using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Ingest.Tests.Support;

namespace Ingest.Tests.EndToEnd;

/// <summary>The `ingest` executable as a user drives it: broker, run, stats, tail, SIGTERM.</summary>
public class CliTests
{
    [Fact]
    public async Task Run_stats_tail_and_sigterm_work_as_documented()
    {
        var ct = TestContext.Current.CancellationToken;
        using var broker = CliProcess.Start("broker");
        var bootstrap = (await broker.WaitForLineAsync("bootstrap=")).Split('=', 2)[1];

        var port = FreeUdpPort();
        var socket = Path.Combine(Path.GetTempPath(), $"ingest-cli-{Guid.NewGuid():N}.sock");
        using var daemon = CliProcess.Start("run", "--bootstrap", bootstrap, "--udp", $"127.0.0.1:{port}", "--no-proc", "--stats-interval", "0", "--set", $"Stats:ControlSocket={socket}", "--host-id", "cli-host",
            "--set", $"RuntimeDirectory={Path.Combine(Path.GetTempPath(), $"ingest-cli-{Guid.NewGuid():N}")}");
        Assert.Equal($"bootstrap={bootstrap}", await daemon.WaitForLineAsync("bootstrap="));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!File.Exists(socket) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, ct);
        }

        using (var client = new UdpClient(AddressFamily.InterNetwork))
        {
            client.Connect(IPAddress.Loopback, port);
            for (var i = 0; i < 100; i++)
            {
                await client.SendAsync(System.Text.Encoding.UTF8.GetBytes($"cli-{i}"), ct);
            }
        }

        // stats: a table for people, JSON for scripts.
        JsonElement udp = default;
        deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            var json = await ProcessRunner.RunAsync(CliProcess.ExecutablePath, ["stats", "--socket", socket, "--json"]);
            Assert.True(json.ExitCode == 0, json.Stderr);
            udp = JsonDocument.Parse(json.StdoutText).RootElement.GetProperty("sources").EnumerateArray().Single(s => s.GetProperty("channel").GetString() == "udp");
            if (udp.GetProperty("delivered").GetInt64() == 100)
            {
                break;
            }

            await Task.Delay(100, ct);
        }

        Assert.Equal(100, udp.GetProperty("received").GetInt64());
        Assert.Equal(100, udp.GetProperty("delivered").GetInt64());
        var table = await ProcessRunner.RunAsync(CliProcess.ExecutablePath, ["stats", "--socket", socket]);
        Assert.Equal(0, table.ExitCode);
        Assert.Contains("CHANNEL", table.StdoutText);
        Assert.Matches(@"udp\s+127\.0\.0\.1:\d+\s+100\s+100\s+0", table.StdoutText);

        // SIGTERM: sources stop, everything in flight is flushed, exit 0, last stats line printed.
        daemon.Terminate();
        Assert.Equal(0, await daemon.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains(daemon.Stdout, l => l.Contains("udp: received=100 delivered=100 dropped=0", StringComparison.Ordinal));
        Assert.False(File.Exists(socket), "the control socket is removed on exit");

        var tail = await ProcessRunner.RunAsync(CliProcess.ExecutablePath, ["tail", "--bootstrap", bootstrap, "--from-beginning", "--channel", "udp", "--max", "100", "--timeout", "20"]);
        Assert.True(tail.ExitCode == 0, tail.Stderr);
        var events = tail.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(100, events.Count);
        Assert.All(events, e => Assert.Equal("cli-host", e.GetProperty("host").GetString()));
        Assert.Equal(Enumerable.Range(0, 100).Select(i => $"cli-{i}"), events.Select(e => System.Text.Encoding.UTF8.GetString(e.GetProperty("data").GetProperty("payload").GetBytesFromBase64())));

        // Asking for more than there is: gives up after the silence timeout, exit 1, says why.
        var short_ = await ProcessRunner.RunAsync(CliProcess.ExecutablePath, ["tail", "--bootstrap", bootstrap, "--from-beginning", "--channel", "udp", "--max", "101", "--timeout", "2"]);
        Assert.True(short_.ExitCode == 1, $"exit {short_.ExitCode}: {short_.Stderr}");
        Assert.Contains("stopped after 100 of 101 events", short_.Stderr);

        broker.Terminate();
        Assert.Equal(0, await broker.WaitForExitAsync(TimeSpan.FromSeconds(30)));
    }

    [Theory]
    [InlineData("Pipeline:Batch:MaxEvents=0", "MaxEvents")]
    [InlineData("Kafak:Bootstrap=x", "Kafak")]
    [InlineData("Udp:MaxDatagramBytes=70000", "MaxDatagramBytes")]
    public async Task Bad_configuration_exits_2_with_a_message_naming_the_setting(string setting, string named)
    {
        var result = await ProcessRunner.RunAsync(CliProcess.ExecutablePath, ["run", "--set", setting], timeout: TimeSpan.FromSeconds(30));
        Assert.Equal(2, result.ExitCode);
        Assert.True(result.Stderr.Contains(named, StringComparison.Ordinal), result.Stderr);
        Assert.DoesNotContain("bootstrap=", result.StdoutText);
    }

    [Fact]
    public async Task A_busy_udp_port_fails_at_startup_with_a_clear_error()
    {
        using var holder = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)holder.Client.LocalEndPoint!).Port;
        var result = await ProcessRunner.RunAsync(CliProcess.ExecutablePath, ["run", "--udp", $"127.0.0.1:{port}", "--no-proc", "--set", $"RuntimeDirectory={Path.Combine(Path.GetTempPath(), $"ingest-cli-{Guid.NewGuid():N}")}"], timeout: TimeSpan.FromSeconds(30));
        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"127.0.0.1:{port}", result.Stderr);
        Assert.Contains("Address already in use", result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr); // a message, not a stack trace
    }

    [Fact]
    public async Task Stats_without_a_daemon_says_so_and_exits_1()
    {
        var result = await ProcessRunner.RunAsync(CliProcess.ExecutablePath, ["stats", "--socket", "/tmp/no-such-ingest.sock"]);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("no ingest daemon answered on /tmp/no-such-ingest.sock", result.Stderr);
    }

    [Fact]
    public async Task Stats_finds_the_daemon_through_the_environment_it_was_started_with()
    {
        var ct = TestContext.Current.CancellationToken;
        var runtime = Directory.CreateTempSubdirectory("ingest-cli-env-").FullName;
        var environment = new Dictionary<string, string> { ["INGEST_RUNTIMEDIRECTORY"] = runtime };
        try
        {
            // No daemon yet: the error names the socket the environment chose.
            using (var none = CliProcess.Start(environment, "stats"))
            {
                Assert.Equal(1, await none.WaitForExitAsync(TimeSpan.FromSeconds(30)));
                Assert.Contains($"no ingest daemon answered on {Path.Combine(runtime, "control.sock")}", none.Stderr);
            }

            using var broker = CliProcess.Start("broker");
            var bootstrap = (await broker.WaitForLineAsync("bootstrap=")).Split('=', 2)[1];
            using var daemon = CliProcess.Start(environment, "run", "--bootstrap", bootstrap, "--udp", $"127.0.0.1:{FreeUdpPort()}", "--no-proc", "--stats-interval", "0", "--host-id", "cli-env-host");
            await daemon.WaitForLineAsync("bootstrap=");
            var socket = Path.Combine(runtime, "control.sock");
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (!File.Exists(socket) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20, ct);
            }

            using var stats = CliProcess.Start(environment, "stats", "--json");
            Assert.True(await stats.WaitForExitAsync(TimeSpan.FromSeconds(30)) == 0, stats.Stderr);
            Assert.Contains("\"sources\"", string.Join('\n', stats.Stdout));

            // INGEST_STATS__CONTROLSOCKET wins over the runtime directory, as in the daemon.
            var elsewhere = Path.Combine(runtime, "elsewhere.sock");
            using var named = CliProcess.Start(new Dictionary<string, string>(environment) { ["INGEST_STATS__CONTROLSOCKET"] = elsewhere }, "stats");
            Assert.Equal(1, await named.WaitForExitAsync(TimeSpan.FromSeconds(30)));
            Assert.Contains($"no ingest daemon answered on {elsewhere}", named.Stderr);
        }
        finally
        {
            Directory.Delete(runtime, recursive: true);
        }
    }

    private static int FreeUdpPort()
    {
        using var probe = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.Client.LocalEndPoint!).Port;
    }
}
