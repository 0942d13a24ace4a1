using Ingest.Commands;
using Ingest.Pipeline;
using Ingest.Spool;
using Ingest.Telemetry;

namespace Ingest.Configuration;

/// <summary>
/// Everything `ingest run` reads, bound from (lowest to highest precedence) built-in defaults,
/// the JSON file given with --config, INGEST_* environment variables (INGEST_KAFKA__BOOTSTRAP)
/// and command-line flags. docs/configuration.md lists every key.
/// </summary>
public sealed class IngestOptions
{
    /// <summary>
    /// Record key and "host" field; defaults to the machine's host name. With commands enabled
    /// it must be set (host names repeat in cloned fleets): explicitly, or "machine-id" to use
    /// /etc/machine-id.
    /// </summary>
    public string? HostId { get; set; }

    /// <summary>The value of <see cref="HostId"/> that means "read /etc/machine-id".</summary>
    public const string MachineIdHostId = "machine-id";

    /// <summary>Where <see cref="MachineIdHostId"/> reads from (tests point it elsewhere).</summary>
    internal string MachineIdPath { get; set; } = "/etc/machine-id";

    public KafkaOptions Kafka { get; set; } = new();

    public PipelineOptions Pipeline { get; set; } = new();

    public UdpOptions Udp { get; set; } = new();

    public ProcOptions Proc { get; set; } = new();

    public NetlinkOptions Netlink { get; set; } = new();

    public SignalOptions Signals { get; set; } = new();

    public UpcallOptions Upcall { get; set; } = new();

    public RingOptions Ring { get; set; } = new();

    /// <summary>The durable spool for what the broker cannot take (docs/architecture.md).</summary>
    public SpoolOptions Spool { get; set; } = new();

    /// <summary>
    /// Where the daemon's sockets and files live (control socket, upcall socket, signal TID file)
    /// unless set one by one. Default: /run/ingest as root, else $XDG_RUNTIME_DIR/ingest or
    /// /tmp/ingest-USER.
    /// </summary>
    public string? RuntimeDirectory { get; set; }

    public string ResolvedRuntimeDirectory => string.IsNullOrWhiteSpace(RuntimeDirectory) ? RuntimePaths.DefaultDirectory() : RuntimeDirectory;

    public StatsOptions Stats { get; set; } = new();

    /// <summary>OpenTelemetry export of metrics and spans (docs/operations.md).</summary>
    public TelemetryOptions Telemetry { get; set; } = new();

    /// <summary>Signed commands from Kafka applied as sysctl writes and ioctls (docs/commands.md).</summary>
    public CommandOptions Commands { get; set; } = new();

    /// <summary>The daemon's own health event on kernel.events (docs/events/heartbeat.md).</summary>
    public Ingest.Heartbeat.HeartbeatOptions Heartbeat { get; set; } = new();

    /// <summary>How long SIGTERM waits for in-flight batches before counting them as dropped.</summary>
    public int ShutdownTimeoutSeconds { get; set; } = 30;

    public string ResolvedHostId => _resolvedHostId ??= ResolveHostId();

    private string? _resolvedHostId;

    public void Validate()
    {
        if (Commands.Enabled && string.IsNullOrWhiteSpace(HostId))
        {
            throw new ConfigurationException(
                "HostId must be set when Commands:Enabled (host names repeat across cloned machines, and a command for one would apply to all): set it, or HostId=machine-id to use /etc/machine-id");
        }

        _resolvedHostId = null;
        _ = ResolvedHostId;
        Pipeline.Validate();
        Udp.Validate();
        Proc.Validate();
        Signals.Validate();
        Ring.Validate();
        Spool.Validate();
        Commands.Validate();
        Telemetry.Validate();
        Heartbeat.Validate();
        if (ShutdownTimeoutSeconds is < 0 or > 3600)
        {
            throw new ConfigurationException($"ShutdownTimeoutSeconds must be between 0 and 3600 (got {ShutdownTimeoutSeconds})");
        }

        if (Stats.IntervalSeconds is < 0 or > 86400)
        {
            throw new ConfigurationException($"Stats:IntervalSeconds must be between 0 and 86400 (got {Stats.IntervalSeconds})");
        }
    }

    private string ResolveHostId()
    {
        if (string.IsNullOrWhiteSpace(HostId))
        {
            return Environment.MachineName;
        }

        if (HostId != MachineIdHostId)
        {
            return HostId;
        }

        string id;
        try
        {
            id = File.ReadAllText(MachineIdPath).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigurationException($"HostId=machine-id: cannot read {MachineIdPath}: {e.Message}");
        }

        // systemd's format: 32 lower-case hex digits, not all zero ("uninitialized" is refused too).
        if (id.Length != 32 || !id.All(char.IsAsciiHexDigitLower) || id.All(c => c == '0'))
        {
            throw new ConfigurationException($"HostId=machine-id: {MachineIdPath} does not hold a machine id (32 hex digits)");
        }

        return id;
    }
}

public sealed class KafkaOptions
{
    /// <summary>bootstrap.servers; empty = start the embedded broker in-process.</summary>
    public string? Bootstrap { get; set; }

    /// <summary>Brokers in the embedded cluster when no bootstrap is configured.</summary>
    public int EmbeddedBrokers { get; set; } = 1;

    /// <summary>Any librdkafka producer property, passed through; overrides Ingest's defaults.</summary>
    public Dictionary<string, string> Properties { get; set; } = new(StringComparer.Ordinal);
}

public sealed class UdpOptions
{
    public bool Enabled { get; set; } = true;

    /// <summary>ip:port endpoints; each is its own source.</summary>
    public List<string> Endpoints { get; set; } = [];

    public int MaxDatagramBytes { get; set; } = 65507;

    public int ReceiveBufferBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>Microseconds to let the kernel queue more datagrams after a short read (0 = off).</summary>
    public int CoalesceMicroseconds { get; set; } = 500;

    /// <summary>Nice value of each receive thread (-20..19, 0 = as the process): see UdpSourceOptions.ReceiveThreadNice.</summary>
    public int ReceiveThreadNice { get; set; } = Ingest.Transports.Udp.UdpSourceOptions.DefaultReceiveThreadNice;

    /// <summary>"Raw" datagram events, or "Kingest": the kernel module's datagrams as typed events.</summary>
    public Ingest.Transports.Udp.UdpDatagramFormat Format { get; set; } = Ingest.Transports.Udp.UdpDatagramFormat.Raw;

    public IReadOnlyList<string> EffectiveEndpoints => Endpoints.Count > 0 ? Endpoints : ["127.0.0.1:5555"];

    public void Validate()
    {
        if (MaxDatagramBytes is < 1 or > 65535)
        {
            throw new ConfigurationException($"Udp:MaxDatagramBytes must be between 1 and 65535 (got {MaxDatagramBytes})");
        }

        if (CoalesceMicroseconds is < 0 or > 100_000)
        {
            throw new ConfigurationException($"Udp:CoalesceMicroseconds must be between 0 and 100000 (got {CoalesceMicroseconds})");
        }

        if (ReceiveThreadNice is < -20 or > 19)
        {
            throw new ConfigurationException($"Udp:ReceiveThreadNice must be between -20 and 19 (got {ReceiveThreadNice})");
        }
    }
}

public sealed class ProcOptions
{
    public bool Enabled { get; set; } = true;

    /// <summary>Default interval for files that do not set their own.</summary>
    public double IntervalSeconds { get; set; } = 10;

    /// <summary>Files to scrape; empty = /proc/net/dev, /proc/stat, /proc/meminfo, /proc/loadavg.</summary>
    public List<ProcFileOptions> Files { get; set; } = [];

    public void Validate()
    {
        if (IntervalSeconds is < 0.05 or > 86400)
        {
            throw new ConfigurationException($"Proc:IntervalSeconds must be between 0.05 and 86400 (got {IntervalSeconds})");
        }

        foreach (var file in Files)
        {
            if (string.IsNullOrWhiteSpace(file.Path))
            {
                throw new ConfigurationException("Proc:Files: every entry needs a Path");
            }
        }
    }
}

public sealed class ProcFileOptions
{
    public string Path { get; set; } = "";

    public double? IntervalSeconds { get; set; }

    /// <summary>Parser name; empty = chosen by path (unknown files are emitted as lines).</summary>
    public string? Parser { get; set; }
}

public sealed class StatsOptions
{
    /// <summary>Seconds between stats lines on stdout; 0 = none.</summary>
    public int IntervalSeconds { get; set; } = 10;

    /// <summary>Unix socket `ingest stats` reads; empty = /run/ingest/control.sock (root) or $XDG_RUNTIME_DIR/ingest/control.sock.</summary>
    public string? ControlSocket { get; set; }
}

public sealed class NetlinkOptions
{
    /// <summary>All netlink sources; the three switches below choose among them.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Kernel uevents (NETLINK_KOBJECT_UEVENT): device add/remove/change.</summary>
    public bool Uevent { get; set; } = true;

    /// <summary>rtnetlink link and address groups: interfaces up/down, addresses added/removed.</summary>
    public bool Rtnetlink { get; set; } = true;

    /// <summary>Generic netlink "family/group" pairs to join; default the kingest module's events.
    /// While a family is absent the source counts family_absent and joins when it appears.</summary>
    public List<string> Generic { get; set; } = [];

    public IReadOnlyList<string> EffectiveGeneric => Generic.Count > 0 ? Generic : ["kingest/events"];

    /// <summary>Receive buffer per socket; bursts beyond it overrun (counted as "overrun").</summary>
    public int ReceiveBufferBytes { get; set; } = 4 << 20;

    /// <summary>A network namespace to read (/var/run/netns/NAME); empty: the daemon's own.</summary>
    public string? NetworkNamespace { get; set; }
}

public sealed class SignalOptions
{
    public bool Enabled { get; set; } = true;

    /// <summary>Real-time signal numbers to read; default SIGRTMIN+6 (40). 34 is the .NET runtime's own and refused.</summary>
    public List<int> Numbers { get; set; } = [];

    /// <summary>User ids whose queued signals are accepted (the kernel's are always accepted).</summary>
    public List<uint> AllowedUids { get; set; } = [];

    /// <summary>Subscribe through the kingest device too: "auto" (when it exists), "off", or a path.</summary>
    public string Device { get; set; } = "auto";

    /// <summary>Where the reader thread's "tgid tid" is published for senders; default RUNTIME/signal.tid.</summary>
    public string? ThreadIdFile { get; set; }

    public void Validate()
    {
        foreach (var n in Numbers)
        {
            if (n == 34)
            {
                throw new ConfigurationException("Signals:Numbers: 34 (SIGRTMIN) is used by the .NET runtime itself; choose 35..64 (default 40)");
            }

            if (n is < 35 or > 64)
            {
                throw new ConfigurationException($"Signals:Numbers: {n} is not a real-time signal this daemon can read (35..64)");
            }
        }
    }
}

public sealed class UpcallOptions
{
    public bool Enabled { get; set; } = true;

    /// <summary>The Unix socket the ingest-upcall helper connects to; default RUNTIME/upcall.sock.</summary>
    public string? SocketPath { get; set; }

    /// <summary>Peer uids allowed to deliver (SO_PEERCRED); default root only.</summary>
    public List<uint> AllowedUids { get; set; } = [];
}

public sealed class RingOptions
{
    /// <summary>"auto" (read the ring when the device exists), "on" (fail if it does not), "off".</summary>
    public string Enabled { get; set; } = "auto";

    public string DevicePath { get; set; } = "/dev/kingest";

    /// <summary>Records read between two flushes; each flush carries the consumer checkpoint.</summary>
    public int MaxBurstRecords { get; set; } = 4096;

    public void Validate()
    {
        if (Enabled is not ("auto" or "on" or "off"))
        {
            throw new ConfigurationException($"Ring:Enabled must be auto, on or off (got '{Enabled}')");
        }

        if (MaxBurstRecords is < 1 or > 1 << 20)
        {
            throw new ConfigurationException($"Ring:MaxBurstRecords must be between 1 and 1048576 (got {MaxBurstRecords})");
        }
    }
}

