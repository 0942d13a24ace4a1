using System.Diagnostics;
using Ingest.Transports.Netlink;
using Tmds.Linux;

namespace Ingest.Transports.Tests.Netlink;

/// <summary>
/// A private network namespace (`ip netns add ingest-test-XXXX`) for one test class, deleted on
/// dispose. Tests open their sockets inside it so host traffic never reaches them.
/// </summary>
public sealed class NetnsFixture : IDisposable
{
    public NetnsFixture()
    {
        Name = $"ingest-test-{Guid.NewGuid().ToString("N")[..10]}";
        SkipReason = Probe();
        if (SkipReason is null)
        {
            Exec("ip", $"netns add {Name}");
            Created = true;
        }
    }

    public string Name { get; }

    public string Path => System.IO.Path.Combine(NetworkNamespace.NamedDirectory, Name);

    public bool Created { get; }

    /// <summary>Why netns tests cannot run here (not root, no `ip`); null when they can.</summary>
    public string? SkipReason { get; }

    public NetlinkSourceOptions Options(int receiveBufferSize = 1 << 20) =>
        new() { NetworkNamespace = Path, ReceiveBufferSize = receiveBufferSize };

    public void SkipIfUnavailable()
    {
        if (SkipReason is not null)
        {
            Assert.Skip(SkipReason);
        }
    }

    /// <summary>Runs `ip -n NAME args`; throws with stderr when it fails.</summary>
    public void Ip(string args) => Exec("ip", $"-n {Name} {args}");

    /// <summary>Runs a shell command inside the namespace (with its own /sys, via ip netns exec).</summary>
    public void Shell(string command) => Exec("ip", $"netns exec {Name} sh -c \"{command}\"");

    public static string Exec(string file, string args, string? stdin = null)
    {
        var info = new ProcessStartInfo(file, args)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
        };
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {file}");
        if (stdin is not null)
        {
            process.StandardInput.Write(stdin);
            process.StandardInput.Close();
        }

        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        if (!process.WaitForExit(60_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {args} did not finish in 60 s");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {args} exited {process.ExitCode}: {stderr}");
        }

        return stdout.Result;
    }

    public void Dispose()
    {
        if (Created)
        {
            try
            {
                Exec("ip", $"netns del {Name}");
            }
            catch (InvalidOperationException)
            {
                // Best effort: a leftover namespace is harmless and named for what made it.
            }
        }
    }

    private static string? Probe()
    {
        if (Environment.UserName != "root" && Tmds.Linux.LibC.geteuid() != 0)
        {
            return "network namespace tests need root (ip netns add)";
        }

        return File.Exists("/usr/sbin/ip") || File.Exists("/sbin/ip") || File.Exists("/usr/bin/ip")
            ? null
            : "iproute2 (`ip`) is not installed";
    }
}
