using Ingest.Commands;
using Ingest.Transports.Effectors;

namespace Ingest.Tests.Commands;

/// <summary>
/// Everything a command decision touches, for real: key files on disk, a replay store in a state
/// directory, a sysctl tree of regular files (a stand-in for /proc/sys) with a file outside it,
/// and a processor wired to them.
/// </summary>
internal sealed class CommandWorld : IDisposable
{
    public const string Host = "sensor-17";
    public const string KeepaliveKey = "net.ipv4.tcp_keepalive_time";

    public static readonly DateTimeOffset Start = new(2026, 11, 22, 3, 0, 0, TimeSpan.Zero);

    private ReplayStore? _replay;
    private TrustedKeys? _keys;

    public CommandWorld()
    {
        Base = Directory.CreateTempSubdirectory("ingest-commands-").FullName;
        SysctlRoot = Path.Combine(Base, "sys");
        StateDirectory = Path.Combine(Base, "state");
        KeyDirectory = Path.Combine(Base, "keys");
        Directory.CreateDirectory(KeyDirectory);
        Directory.CreateDirectory(Path.Combine(SysctlRoot, "net", "ipv4"));
        Directory.CreateDirectory(Path.Combine(SysctlRoot, "kernel"));
        KeepalivePath = Path.Combine(SysctlRoot, "net", "ipv4", "tcp_keepalive_time");
        File.WriteAllText(KeepalivePath, "7200\n");
        File.WriteAllText(Path.Combine(SysctlRoot, "kernel", "hostname"), "sensor\n");
        SecretPath = Path.Combine(Base, "secret");
        File.WriteAllText(SecretPath, "untouched\n");

        OperatorKeyId = CommandKeys.Generate(Path.Combine(KeyDirectory, "ops.key"), Path.Combine(KeyDirectory, "ops.pub"));
        CommandKeys.Generate(Path.Combine(KeyDirectory, "rogue.key"), Path.Combine(KeyDirectory, "rogue.pub"));
        Operator = CommandSigner.Load(Path.Combine(KeyDirectory, "ops.key"));
        Rogue = CommandSigner.Load(Path.Combine(KeyDirectory, "rogue.key"));
        HostKeyId = CommandKeys.Generate(Path.Combine(KeyDirectory, Host + ".key"), Path.Combine(KeyDirectory, Host + ".pub"));
        HostKeys = HostKeys.Open(KeyDirectory);

        Options = new CommandOptions
        {
            Enabled = true,
            TrustedKeys = [Path.Combine(KeyDirectory, "ops.pub")],
            HostKey = Path.Combine(KeyDirectory, Host + ".key"),
            StateDirectory = StateDirectory,
            SysctlRoot = SysctlRoot,
            // The tests' broker is librdkafka's mock, which holds an empty fetch for the whole wait.
            FetchWaitMaxMs = 10,
            Sysctl =
            [
                new SysctlRuleOptions { Key = KeepaliveKey, Min = 30, Max = 7200 },
                new SysctlRuleOptions { Key = "kernel.hostname", Pattern = "[a-z][a-z0-9-]{0,62}" },
            ],
            Ioctls = [new IoctlRuleOptions { Name = "set_rate", Args = { ["hz"] = new RangeOptions { Min = 1, Max = 1000 } } }],
        };
        Time = new ManualTimeProvider(Start);
        Processor = Open();
    }

    public string Base { get; }

    public string SysctlRoot { get; }

    public string StateDirectory { get; }

    public string KeyDirectory { get; }

    public string KeepalivePath { get; }

    /// <summary>A file next to the tree that no command may ever reach.</summary>
    public string SecretPath { get; }

    public string OperatorKeyId { get; }

    public CommandSigner Operator { get; }

    /// <summary>A valid key pair the host does not trust.</summary>
    public CommandSigner Rogue { get; }

    /// <summary>The host's result-signing key id (keys/sensor-17.key, .pub).</summary>
    public string HostKeyId { get; }

    /// <summary>The operator's view of host keys: the key directory (HOST.pub).</summary>
    public HostKeys HostKeys { get; }

    public CommandOptions Options { get; }

    public ManualTimeProvider Time { get; }

    public CommandProcessor Processor { get; private set; }

    public static byte[] HostKey => System.Text.Encoding.UTF8.GetBytes(Host);

    /// <summary>Closes the store and keys and opens them again, as a daemon restart does.</summary>
    public void Restart()
    {
        _replay?.Dispose();
        _keys?.Dispose();
        Processor = Open();
    }

    public CommandRequest Keepalive(string value, string? id = null, TimeSpan? lifetime = null, string host = Host) =>
        CommandRequest.Sysctl(id ?? CommandRequest.NewId(), host, Time.Now, lifetime ?? TimeSpan.FromMinutes(1), KeepaliveKey, value);

    public CommandRequest SysctlRequest(string key, string value) =>
        CommandRequest.Sysctl(CommandRequest.NewId(), Host, Time.Now, TimeSpan.FromMinutes(1), key, value);

    public CommandResult? Process(byte[] value) => Processor.Process(HostKey, value);

    public string Keepalive() => File.ReadAllText(KeepalivePath);

    /// <summary>Nothing under the tree or beside it changed.</summary>
    public void AssertNothingWritten()
    {
        Assert.Equal("7200\n", File.ReadAllText(KeepalivePath));
        Assert.Equal("sensor\n", File.ReadAllText(Path.Combine(SysctlRoot, "kernel", "hostname")));
        Assert.Equal("untouched\n", File.ReadAllText(SecretPath));
    }

    public void Dispose()
    {
        _replay?.Dispose();
        _keys?.Dispose();
        Operator.Dispose();
        Rogue.Dispose();
        HostKeys.Dispose();
        Directory.Delete(Base, recursive: true);
    }

    /// <summary>The replay store of the current processor.</summary>
    public ReplayStore Replay => _replay!;

    /// <summary>
    /// Opens a processor; <paramref name="refuseExecSinkRules"/> false keeps rules start-up would
    /// refuse, to prove the processor's own refusal behind them.
    /// </summary>
    public void Reopen(bool refuseExecSinkRules = true, string? sysctlRoot = null)
    {
        _replay?.Dispose();
        _keys?.Dispose();
        Processor = Open(refuseExecSinkRules, sysctlRoot);
    }

    private CommandProcessor Open(bool refuseExecSinkRules = true, string? sysctlRoot = null)
    {
        _keys = TrustedKeys.Load(Options.TrustedKeys);
        _replay = ReplayStore.Open(StateDirectory, Time.Now.ToUnixTimeMilliseconds());
        var ioctl = new KingestIoctlExecutor(Path.Combine(Base, "no-kingest-device"));
        return new CommandProcessor(Host, Options, _keys, _replay, CommandPolicy.Compile(Options, ioctl.Definitions, refuseExecSinkRules), new SysctlWriter(sysctlRoot ?? SysctlRoot), ioctl, Time);
    }
}
