using System.Buffers.Binary;
using Ingest.Commands;

namespace Ingest.Tests.Commands;

/// <summary>
/// Issue 10's attacks against the kernel itself: inside a private network namespace (per-netns
/// sysctls, a veth pair named v0 / v0.1), the real daemon (`ingest run`, embedded broker)
/// receives signed hostile commands published raw with kcat (so no client-side check stands in
/// the way), then a valid one sent with `ingest send`. Every result is read back with kcat,
/// verified with the host's key, and its exact status asserted along with the kernel's values.
/// </summary>
public sealed class CommandNetnsAttackTests : IDisposable
{
    private const string Host = "netns-attack";
    private readonly string _dir = Directory.CreateTempSubdirectory("ingest-netns-attack-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Value_and_key_tricks_change_nothing_in_the_kernel_and_get_their_exact_status()
    {
        if (Environment.UserName != "root" || !File.Exists("/usr/bin/unshare") || Support.ProcessRunner.Find("kcat") is null || Support.ProcessRunner.Find("ip") is null)
        {
            Assert.Skip("needs root, unshare(1), ip(8) and kcat to attack a private network namespace");
        }

        CommandKeys.Generate(Path.Combine(_dir, "ops.key"), Path.Combine(_dir, "ops.pub"));
        Directory.CreateDirectory(Path.Combine(_dir, "hosts"));
        CommandKeys.Generate(Path.Combine(_dir, Host + ".key"), Path.Combine(_dir, "hosts", Host + ".pub"));
        using var signer = CommandSigner.Load(Path.Combine(_dir, "ops.key"));

        // Each attack: id, key, value. Signed here, published raw inside the namespace.
        (string Id, string Key, string Value)[] attacks =
        [
            ("octal", "net.ipv4.tcp_keepalive_time", "035"),
            ("space", "net.ipv4.tcp_keepalive_time", "1 2"),
            ("newline", "net.ipv4.tcp_keepalive_time", "1\n2"),
            ("nul", "net.ipv4.tcp_keepalive_time", "100\0"),
            ("dotted-slashed", "net/ipv4/conf/v0.1/forwarding", "1"),
            ("dotted-dotted", "net.ipv4.conf.v0.1.forwarding", "1"),
            ("readback", "net.ipv4.tcp_keepalive_intvl", "035"),
        ];
        var now = DateTimeOffset.UtcNow;
        for (int i = 0; i < attacks.Length; i++)
        {
            var (id, key, value) = attacks[i];
            File.WriteAllBytes(Path.Combine(_dir, $"attack-{i}.cmd"), signer.Sign(CommandRequest.Sysctl(id, Host, now, TimeSpan.FromMinutes(10), key, value)));
        }

        File.WriteAllText(Path.Combine(_dir, "config.json"), $$"""
            {
              "HostId": "{{Host}}",
              "Udp": { "Enabled": false },
              "Proc": { "Enabled": false },
              "Stats": { "IntervalSeconds": 0, "ControlSocket": "{{_dir}}/control.sock" },
              "RuntimeDirectory": "{{_dir}}/run",
              "Commands": {
                "Enabled": true,
                "TrustedKeys": [ "{{_dir}}/ops.pub" ],
                "HostKey": "{{_dir}}/{{Host}}.key",
                "StateDirectory": "{{_dir}}/state",
                "Sysctl": [
                  { "Key": "net.ipv4.tcp_keepalive_time", "Min": 30, "Max": 7200 },
                  { "Prefix": "net.ipv4.conf.v0", "Values": [ "0", "1" ] },
                  { "Key": "net.ipv4.tcp_keepalive_intvl", "Pattern": "[0-9]+" }
                ]
              }
            }
            """);
        string sys = "/proc/sys/net/ipv4";
        File.WriteAllText(Path.Combine(_dir, "scenario.sh"), $$"""
            ip link set lo up
            ip link add v0 type veth peer name v0.1 || { echo "veth=none"; exit 0; }
            values() { echo "$1 time=$(cat {{sys}}/tcp_keepalive_time) intvl=$(cat {{sys}}/tcp_keepalive_intvl) v0=$(cat {{sys}}/conf/v0/forwarding) v0.1=$(cat {{sys}}/conf/v0.1/forwarding)"; }
            values before
            start_daemon -c config.json
            for f in attack-*.cmd; do publish_raw {{Host}} "$f"; done
            # Applied in partition order: once this answer is in, every attack was decided.
            timeout 120 "$ingest" send -b "$bs" --host {{Host}} --host-pub hosts --key ops.key --timeout 90 --sysctl net.ipv4.tcp_keepalive_time=1234; echo "rc=$?"
            values after
            timeout 60 kcat -b "$bs" -C -t kernel.command-results -o beginning -e -q -f '%R%s' > results.bin
            stop_daemon
            """);

        var run = await Support.NamespaceScript.RunAsync(_dir, "a network namespace", "--net");
        if (run.Output.Contains("veth=none", StringComparison.Ordinal))
        {
            Assert.Skip($"cannot create a veth pair here: {run.Stderr.Trim()}");
        }

        string context = run.Context();
        string[] lines = run.Lines;
        Assert.True(lines.Length == 5, context);
        Assert.Equal("before time=7200 intvl=75 v0=0 v0.1=0", lines[0]);
        Assert.StartsWith("applied ", lines[1], StringComparison.Ordinal);
        Assert.Equal("rc=0", lines[2]);
        // Only the valid command changed anything; the read-back failure was undone.
        Assert.Equal("after time=1234 intvl=75 v0=0 v0.1=0", lines[3]);
        Assert.Equal("daemon=0", lines[4]);

        using var hostKeys = HostKeys.Open(Path.Combine(_dir, "hosts"));
        var results = new Dictionary<string, CommandResult>(StringComparer.Ordinal);
        byte[] dump = File.ReadAllBytes(Path.Combine(_dir, "results.bin"));
        for (int at = 0; at < dump.Length;)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(dump.AsSpan(at));
            Assert.True(hostKeys.TryVerify(Host, dump.AsSpan(at + 4, length), out CommandResult? result, out string? error), error);
            results[result!.Id ?? result.ClaimedId ?? "-"] = result;
            at += 4 + length;
        }

        Assert.Equal(CommandStatus.Denied, results["octal"].Status);
        Assert.Contains("not a plain decimal", results["octal"].Error, StringComparison.Ordinal);
        foreach (string id in new[] { "space", "newline", "nul" })
        {
            Assert.Equal(CommandStatus.Invalid, results[id].Status);
            Assert.Null(results[id].Id);
            Assert.Contains("whitespace", results[id].Error, StringComparison.Ordinal);
        }

        Assert.Equal(CommandStatus.Denied, results["dotted-slashed"].Status);
        Assert.Contains("net/ipv4/conf/v0.1/forwarding is not allowlisted", results["dotted-slashed"].Error, StringComparison.Ordinal);
        Assert.Equal(CommandStatus.Failed, results["dotted-dotted"].Status);
        Assert.Equal(2, results["dotted-dotted"].Errno);

        // Allowed by a loose pattern, parsed by the kernel as octal: failed, with before/after, restored.
        CommandResult readback = results["readback"];
        Assert.Equal((CommandStatus.Failed, "75", "29"), (readback.Status, readback.Before, readback.After));
        Assert.Contains("restored '75'", readback.Error, StringComparison.Ordinal);
    }
}
