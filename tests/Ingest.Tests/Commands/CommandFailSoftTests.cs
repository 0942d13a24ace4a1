using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Ingest.Commands;

namespace Ingest.Tests.Commands;

/// <summary>
/// A fault of the command path disables the path alone: the real daemon (`ingest run`, embedded
/// broker, a UDP source) keeps delivering events while `ingest stats` shows the command path
/// disabled with its reason. Each case breaks something for real: a 0664 public key, a corrupted
/// replay store, and a replay store on a full tmpfs (ENOSPC, in a private mount namespace).
/// </summary>
public sealed class CommandFailSoftTests : IDisposable
{
    private const string Host = "failsoft-host";
    private const int Events = 50;
    private readonly string _dir = Directory.CreateTempSubdirectory("ingest-failsoft-").FullName;

    public void Dispose()
    {
        // A tmpfs is only mounted inside the scenario's mount namespace, gone with it.
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task A_group_writable_public_key_disables_only_the_command_path()
    {
        (JsonElement stats, _) = await RunAsync(setup: "chmod 0664 ops.pub", afterStart: "");

        Assert.Contains("mode 0664", CommandPath(stats), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_corrupted_replay_store_disables_only_the_command_path()
    {
        (JsonElement stats, _) = await RunAsync(setup: $"mkdir -m 700 -p state && echo 'not a store line' > state/{ReplayStore.FileName}", afterStart: "");

        Assert.Contains("corrupted at line 1", CommandPath(stats), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_full_disk_under_the_replay_store_disables_only_the_command_path()
    {
        // The store file is padded to exactly one tmpfs page, so the next append needs a page the
        // full filesystem does not have: ENOSPC in the command loop, on the first command.
        // After "t <13 digits>\n" (16 bytes), lines "9999999999999 <id>\n" fill the page exactly.
        var seed = new System.Text.StringBuilder();
        int remaining = 4096 - 16;
        for (int i = 0; remaining > 143; i++, remaining -= 115)
        {
            seed.Append(System.Globalization.CultureInfo.InvariantCulture, $"9999999999999 pad-{i:D4}-{new string('x', 91)}\n");
        }

        seed.Append(System.Globalization.CultureInfo.InvariantCulture, $"9999999999999 last-{new string('y', remaining - 15 - 5)}\n");
        string pad = seed.ToString(), last = "";
        File.WriteAllText(Path.Combine(_dir, "store.seed"), pad + last);
        Assert.Equal(4096, 16 + new FileInfo(Path.Combine(_dir, "store.seed")).Length);

        (JsonElement stats, string[] lines) = await RunAsync(
            setup: $"mkdir -p state && mount -t tmpfs -o size=64k,mode=0700 ingest-failsoft state && cp store.seed state/{ReplayStore.FileName}",
            afterStart: """
                dd if=/dev/zero of=state/filler bs=4096 2>/dev/null; echo "full=$(df --output=avail -B1 state | tail -n1 | tr -d ' ')"
                timeout 120 "$ingest" send -b "$bs" --host {{Host}} --host-pub hosts --key ops.key --timeout 8 --sysctl net.ipv4.tcp_keepalive_time=600; echo "rc=$?"
                """.Replace("{{Host}}", Host, StringComparison.Ordinal),
            waitForRunning: true);

        Assert.Contains("full=0", lines);
        // The command was not applied and not answered: the sender does not exit 0.
        Assert.Contains("rc=3", lines);
        Assert.Contains("No space left on device", CommandPath(stats), StringComparison.Ordinal);
    }

    private static string CommandPath(JsonElement stats)
    {
        string path = stats.GetProperty("command_path").GetString()!;
        Assert.StartsWith("disabled: ", path, StringComparison.Ordinal);
        Assert.True(stats.GetProperty("commands").GetProperty("path_faults").GetInt64() >= 1);
        return path;
    }

    /// <summary>
    /// Runs the daemon in a private mount namespace after <paramref name="setup"/>, sends
    /// <see cref="Events"/> datagrams, and waits until `ingest stats` shows them all delivered and
    /// the command path disabled. Returns the last stats and the script's output lines.
    /// </summary>
    private async Task<(JsonElement Stats, string[] Lines)> RunAsync(string setup, string afterStart, bool waitForRunning = false)
    {
        if (Environment.UserName != "root" || !File.Exists("/usr/bin/unshare"))
        {
            Assert.Skip("needs root and unshare(1) for a private mount namespace");
        }

        CommandKeys.Generate(Path.Combine(_dir, "ops.key"), Path.Combine(_dir, "ops.pub"));
        Directory.CreateDirectory(Path.Combine(_dir, "hosts"));
        CommandKeys.Generate(Path.Combine(_dir, Host + ".key"), Path.Combine(_dir, "hosts", Host + ".pub"));
        int port;
        using (var probe = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0)))
        {
            port = ((IPEndPoint)probe.Client.LocalEndPoint!).Port;
        }

        File.WriteAllText(Path.Combine(_dir, "config.json"), $$"""
            {
              "HostId": "{{Host}}",
              "Udp": { "Endpoints": [ "127.0.0.1:{{port}}" ] },
              "Proc": { "Enabled": false },
              "Netlink": { "Uevent": false, "Rtnetlink": false },
              "Signals": { "Enabled": false },
              "Upcall": { "Enabled": false },
              "Stats": { "IntervalSeconds": 0, "ControlSocket": "{{_dir}}/control.sock" },
              "RuntimeDirectory": "{{_dir}}/run",
              "Commands": {
                "Enabled": true,
                "TrustedKeys": [ "{{_dir}}/ops.pub" ],
                "HostKey": "{{_dir}}/{{Host}}.key",
                "StateDirectory": "{{_dir}}/state",
                "Sysctl": [ { "Key": "net.ipv4.tcp_keepalive_time", "Min": 30, "Max": 7200 } ]
              }
            }
            """);
        string wanted = waitForRunning ? "running" : "disabled";
        File.WriteAllText(Path.Combine(_dir, "scenario.sh"), $$"""
            {{setup}}
            start_daemon -c config.json
            for i in $(seq 100); do [ -S control.sock ] && break; sleep 0.1; done
            stats() { timeout 60 "$ingest" stats --socket control.sock --json > stats.json 2>> stats.err; }
            for i in $(seq 60); do stats; grep -Eq '"command_path": ?"{{wanted}}' stats.json && break; sleep 0.5; done
            {{afterStart}}
            for i in $(seq {{Events}}); do printf 'event-%d' "$i" > /dev/udp/127.0.0.1/{{port}}; done
            for i in $(seq 60); do
              stats
              grep -Eq '"command_path": ?"disabled' stats.json && grep -Eq '"delivered": ?{{Events}}[,}]' stats.json && break
              sleep 0.5
            done
            stop_daemon
            """);

        var run = await Support.NamespaceScript.RunAsync(_dir, "a mount namespace", "--mount", "--propagation", "private");
        string daemonLog = run.DaemonLog;
        string statsText = File.Exists(Path.Combine(_dir, "stats.json")) ? File.ReadAllText(Path.Combine(_dir, "stats.json")) : "";
        string context = run.Context($"--- stats\n{statsText}");
        string[] lines = run.Lines;
        Assert.True(lines.Length > 0 && lines[^1] == "daemon=0", context);
        Assert.True(statsText.Length > 0, context);

        JsonElement stats = JsonDocument.Parse(statsText).RootElement.Clone();
        JsonElement udp = stats.GetProperty("sources").EnumerateArray().Single(s => s.GetProperty("channel").GetString() == "udp");
        Assert.True(udp.GetProperty("delivered").GetInt64() == Events, context);
        Assert.True(stats.GetProperty("command_path").GetString()!.StartsWith("disabled: ", StringComparison.Ordinal), context);
        Assert.Contains("command path disabled", daemonLog, StringComparison.Ordinal);
        return (stats, lines);
    }
}
