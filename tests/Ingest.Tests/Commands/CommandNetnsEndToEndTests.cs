using Ingest.Commands;

namespace Ingest.Tests.Commands;

/// <summary>
/// The issue's acceptance scenario with real processes: inside a private network namespace, the
/// real daemon (`ingest run`, embedded broker in-process) applies a per-netns sysctl sent with
/// `ingest send` from another process; the namespace's value changes and the machine's does not.
/// Hostile sends through the same CLI get their exact status and exit code and change nothing.
/// </summary>
public sealed class CommandNetnsEndToEndTests : IDisposable
{
    private const string Sysctl = "/proc/sys/net/ipv4/tcp_keepalive_time";
    private readonly string _dir = Directory.CreateTempSubdirectory("ingest-netns-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Ingest_send_changes_the_sysctl_inside_the_namespace_only()
    {
        if (Environment.UserName != "root" || !File.Exists("/usr/bin/unshare"))
        {
            Assert.Skip("needs root and unshare(1) to create a private network namespace");
        }

        string hostBefore = File.ReadAllText(Sysctl).Trim();
        string kid = CommandKeys.Generate(Path.Combine(_dir, "ops.key"), Path.Combine(_dir, "ops.pub"));
        CommandKeys.Generate(Path.Combine(_dir, "rogue.key"), Path.Combine(_dir, "rogue.pub"));
        Directory.CreateDirectory(Path.Combine(_dir, "hosts"));
        CommandKeys.Generate(Path.Combine(_dir, "netns-host.key"), Path.Combine(_dir, "hosts", "netns-host.pub"));
        File.WriteAllText(Path.Combine(_dir, "config.json"), $$"""
            {
              "HostId": "netns-host",
              "RuntimeDirectory": "{{_dir}}/run",
              "Udp": { "Enabled": false },
              "Proc": { "Enabled": false },
              "Stats": { "IntervalSeconds": 0, "ControlSocket": "{{_dir}}/control.sock" },
              "Spool": { "Directory": "{{_dir}}/spool" },
              "Commands": {
                "Enabled": true,
                "TrustedKeys": [ "{{_dir}}/ops.pub" ],
                "HostKey": "{{_dir}}/netns-host.key",
                "StateDirectory": "{{_dir}}/state",
                "Sysctl": [ { "Key": "net.ipv4.tcp_keepalive_time", "Min": 30, "Max": 7200 } ]
              }
            }
            """);
        // One shell inside the namespace runs the daemon and, from separate processes, `ingest send`.
        File.WriteAllText(Path.Combine(_dir, "scenario.sh"), $$"""
            ip link set lo up
            start_daemon -c config.json
            send() { timeout 120 "$ingest" send -b "$bs" --host netns-host --host-pub hosts --timeout ${T:-60} "$@"; echo "rc=$?"; }
            echo "before=$(cat {{Sysctl}})"
            send --key ops.key --sysctl net.ipv4.tcp_keepalive_time=1234
            echo "after=$(cat {{Sysctl}})"
            send --key ops.key --sysctl net.ipv4.tcp_keepalive_time=99999
            send --key ops.key --sysctl ../../../etc/hostname=x
            send --key ops.key --sysctl kernel.hostname=owned
            T=5 send --key rogue.key --sysctl net.ipv4.tcp_keepalive_time=30
            send --key ops.key --ioctl set_rate hz=10
            echo "final=$(cat {{Sysctl}})"
            stop_daemon
            """);

        var run = await Support.NamespaceScript.RunAsync(_dir, "a network namespace", "--net");
        string daemonLog = run.DaemonLog;
        string[] lines = run.Lines;
        string context = run.Context();

        // A fresh namespace starts from the kernel default, whatever the machine's value is.
        Assert.True(lines.Length == 15, context);
        Assert.Equal("before=7200", lines[0]);
        Assert.StartsWith("applied ", lines[1], StringComparison.Ordinal);
        Assert.Contains("before=7200 after=1234", lines[1], StringComparison.Ordinal);
        Assert.Equal("rc=0", lines[2]);
        Assert.Equal("after=1234", lines[3]);
        Assert.StartsWith("denied ", lines[4], StringComparison.Ordinal);
        Assert.Contains("outside 30..7200", lines[4], StringComparison.Ordinal);
        Assert.Equal("rc=1", lines[5]);
        Assert.StartsWith("denied ", lines[6], StringComparison.Ordinal);
        Assert.Contains("'..'", lines[6], StringComparison.Ordinal);
        Assert.Equal("rc=1", lines[7]);
        Assert.StartsWith("denied ", lines[8], StringComparison.Ordinal);
        Assert.Contains("kernel.hostname is not allowlisted", lines[8], StringComparison.Ordinal);
        Assert.Equal("rc=1", lines[9]);
        // Refused before verification: no result of its own (counted, summarised), so no answer.
        Assert.Equal("rc=3", lines[10]);
        Assert.StartsWith("denied ", lines[11], StringComparison.Ordinal);
        Assert.Contains("ioctl set_rate is not allowlisted", lines[11], StringComparison.Ordinal);
        Assert.Equal("rc=1", lines[12]);
        Assert.Equal("final=1234", lines[13]);
        Assert.Equal("daemon=0", lines[14]);
        Assert.Contains(kid, daemonLog, StringComparison.Ordinal);

        // The machine's own value never moved.
        Assert.Equal(hostBefore, File.ReadAllText(Sysctl).Trim());
    }
}
