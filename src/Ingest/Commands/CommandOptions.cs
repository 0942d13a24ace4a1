using Ingest.Transports.Effectors;

namespace Ingest.Commands;

/// <summary>The <c>Commands</c> configuration section (docs/commands.md lists every key).</summary>
public sealed class CommandOptions
{
    /// <summary>Consume kernel.commands and apply what is addressed to this host.</summary>
    public bool Enabled { get; set; }

    public string Topic { get; set; } = CommandTopics.Commands;

    public string ResultsTopic { get; set; } = CommandTopics.Results;

    /// <summary>PEM public key files (ECDSA P-256) whose signatures are accepted.</summary>
    public List<string> TrustedKeys { get; set; } = [];

    /// <summary>
    /// This host's private key (PEM P-256, mode 0600, from <c>ingest keygen --host HOST</c>):
    /// every result is signed with it so senders can tell a host's answer from a forgery.
    /// </summary>
    public string? HostKey { get; set; }

    /// <summary>Where the replay store lives; empty = /var/lib/ingest (root) or $XDG_STATE_HOME/ingest.</summary>
    public string? StateDirectory { get; set; }

    /// <summary>Discard a corrupted replay store instead of refusing to start.</summary>
    public bool ResetReplayStore { get; set; }

    /// <summary>Records longer than this are invalid before any parsing.</summary>
    public int MaxRecordBytes { get; set; } = 64 * 1024;

    /// <summary>Cap on expires_at - issued_at: bounds how long ids are kept for replay checks.</summary>
    public int MaxLifetimeSeconds { get; set; } = 3600;

    /// <summary>Tolerated clock difference between the operator and this host.</summary>
    public int ClockSkewSeconds { get; set; } = 30;

    /// <summary>Root of the sysctl tree; only tests change it.</summary>
    public string SysctlRoot { get; set; } = SysctlWriter.ProcSysRoot;

    /// <summary>The kernel module's device.</summary>
    public string IoctlDevice { get; set; } = "/dev/kingest";

    /// <summary>Allowed sysctl keys and value rules. Empty = no sysctl is allowed.</summary>
    public List<SysctlRuleOptions> Sysctl { get; set; } = [];

    /// <summary>Allowed ioctls by name. Empty = no ioctl is allowed.</summary>
    public List<IoctlRuleOptions> Ioctls { get; set; } = [];

    /// <summary>
    /// librdkafka properties for the command reader and the result producer, over
    /// Kafka:Properties (which carry the cluster's TLS/SASL settings) and the reader's defaults.
    /// </summary>
    public Dictionary<string, string> ConsumerProperties { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// How long the command reader's fetch waits at the broker for a command (librdkafka
    /// fetch.wait.max.ms). Null = 500 ms, librdkafka's own default: an idle host then sends about
    /// 2 fetches/s, and a real Kafka answers the moment a command arrives, so a longer wait costs
    /// no latency (docs/scaling.md: 5,000-10,000 ms for large fleets). On the daemon's in-process
    /// embedded broker the default is 10 ms, because librdkafka's mock broker holds an empty fetch
    /// for the whole wait instead of answering when data arrives.
    /// </summary>
    public int? FetchWaitMaxMs { get; set; }

    /// <summary>The wait the command reader uses; see <see cref="FetchWaitMaxMs"/>.</summary>
    public int ResolveFetchWaitMaxMs(bool embeddedBroker) => FetchWaitMaxMs ?? (embeddedBroker ? 10 : 500);

    public string ResolvedStateDirectory
    {
        get
        {
            if (!string.IsNullOrWhiteSpace(StateDirectory))
            {
                return StateDirectory;
            }

            if (Environment.UserName == "root")
            {
                return "/var/lib/ingest";
            }

            string? state = Environment.GetEnvironmentVariable("XDG_STATE_HOME");
            return string.IsNullOrEmpty(state)
                ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "state", "ingest")
                : Path.Combine(state, "ingest");
        }
    }

    public void Validate()
    {
        if (MaxRecordBytes is < 256 or > 1024 * 1024)
        {
            throw new ConfigurationException($"Commands:MaxRecordBytes must be between 256 and 1048576 (got {MaxRecordBytes})");
        }

        if (MaxLifetimeSeconds is < 1 or > 7 * 86400)
        {
            throw new ConfigurationException($"Commands:MaxLifetimeSeconds must be between 1 and 604800 (got {MaxLifetimeSeconds})");
        }

        if (ClockSkewSeconds is < 0 or > 3600)
        {
            throw new ConfigurationException($"Commands:ClockSkewSeconds must be between 0 and 3600 (got {ClockSkewSeconds})");
        }

        if (FetchWaitMaxMs is < 1 or > 60_000)
        {
            throw new ConfigurationException($"Commands:FetchWaitMaxMs must be between 1 and 60000 (got {FetchWaitMaxMs})");
        }

        if (Enabled && TrustedKeys.Count == 0)
        {
            throw new ConfigurationException("Commands:Enabled needs at least one Commands:TrustedKeys public key file");
        }

        if (Enabled && string.IsNullOrWhiteSpace(HostKey))
        {
            throw new ConfigurationException("Commands:Enabled needs Commands:HostKey, this host's result-signing private key (make one with `ingest keygen --host HOST`)");
        }

        // Compiling checks every rule; errors name the offending entry.
        _ = CommandPolicy.Compile(this, ioctls: null);
    }
}

/// <summary>One sysctl allowlist entry: a key or prefix, and exactly one value rule.</summary>
public sealed class SysctlRuleOptions
{
    /// <summary>Exact name, dotted (net.ipv4.tcp_keepalive_time) or slashed (net/ipv4/conf/eth0.100/forwarding).</summary>
    public string? Key { get; set; }

    /// <summary>
    /// Prefix matched on whole path segments, e.g. net.ipv4.conf (matches net.ipv4.conf.*). Write
    /// it with '/' separators when a segment contains a dot (net/ipv4/conf/eth0.100).
    /// </summary>
    public string? Prefix { get; set; }

    /// <summary>Integer range (inclusive); both bounds required when either is set. Values must be plain decimal.</summary>
    public long? Min { get; set; }

    public long? Max { get; set; }

    /// <summary>Exact allowed values.</summary>
    public List<string>? Values { get; set; }

    /// <summary>.NET regular expression the whole value must match.</summary>
    public string? Pattern { get; set; }
}

/// <summary>One ioctl allowlist entry: a name from the uapi catalog and optional narrower ranges.</summary>
public sealed class IoctlRuleOptions
{
    /// <summary>set_rate, set_threshold, reset_stats (see docs/commands.md).</summary>
    public string Name { get; set; } = "";

    /// <summary>Per-argument ranges, each within the uapi range.</summary>
    public Dictionary<string, RangeOptions> Args { get; set; } = new(StringComparer.Ordinal);
}

public sealed class RangeOptions
{
    public long Min { get; set; } = long.MinValue;

    public long Max { get; set; } = long.MaxValue;
}
