using Ingest.Commands;
using Ingest.Pipeline;

namespace Ingest.Configuration;

/// <summary>
/// Everything `ingest run` reads, bound from (lowest to highest precedence) built-in defaults,
/// the JSON file given with --config, INGEST_* environment variables (INGEST_KAFKA__BOOTSTRAP)
/// and command-line flags. docs/configuration.md lists every key.
/// </summary>
public sealed class IngestOptions
{
    /// <summary>Record key and "host" field; defaults to the machine's host name.</summary>
    public string? HostId { get; set; }

    public KafkaOptions Kafka { get; set; } = new();

    public PipelineOptions Pipeline { get; set; } = new();

    public UdpOptions Udp { get; set; } = new();

    public ProcOptions Proc { get; set; } = new();

    /// <summary>The kingest module's mmap ring (/dev/kingest); off by default.</summary>
    public RingOptions Ring { get; set; } = new();

    public StatsOptions Stats { get; set; } = new();

    /// <summary>Signed commands from Kafka applied as sysctl writes and ioctls (docs/commands.md).</summary>
    public CommandOptions Commands { get; set; } = new();

    /// <summary>How long SIGTERM waits for in-flight batches before counting them as dropped.</summary>
    public int ShutdownTimeoutSeconds { get; set; } = 30;

    public string ResolvedHostId => string.IsNullOrWhiteSpace(HostId) ? Environment.MachineName : HostId;

    public void Validate()
    {
        Pipeline.Validate();
        Udp.Validate();
        Proc.Validate();
        Ring.Validate();
        Commands.Validate();
        if (ShutdownTimeoutSeconds is < 0 or > 3600)
        {
            throw new ConfigurationException($"ShutdownTimeoutSeconds must be between 0 and 3600 (got {ShutdownTimeoutSeconds})");
        }

        if (Stats.IntervalSeconds is < 0 or > 86400)
        {
            throw new ConfigurationException($"Stats:IntervalSeconds must be between 0 and 86400 (got {Stats.IntervalSeconds})");
        }
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

    /// <summary>"Raw" datagram events, or "Kingest": the kernel module's datagrams as typed events.</summary>
    public Ingest.Transports.Udp.UdpDatagramFormat Format { get; set; } = Ingest.Transports.Udp.UdpDatagramFormat.Raw;

    public IReadOnlyList<string> EffectiveEndpoints => Endpoints.Count > 0 ? Endpoints : ["127.0.0.1:5555"];

    public void Validate()
    {
        if (MaxDatagramBytes is < 1 or > 65535)
        {
            throw new ConfigurationException($"Udp:MaxDatagramBytes must be between 1 and 65535 (got {MaxDatagramBytes})");
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

public sealed class RingOptions
{
    public bool Enabled { get; set; }

    public string DevicePath { get; set; } = "/dev/kingest";

    /// <summary>Records read between two flushes; each flush carries the consumer checkpoint.</summary>
    public int MaxBurstRecords { get; set; } = 4096;

    public void Validate()
    {
        if (MaxBurstRecords is < 1 or > 1 << 20)
        {
            throw new ConfigurationException($"Ring:MaxBurstRecords must be between 1 and 1048576 (got {MaxBurstRecords})");
        }

        if (Enabled && string.IsNullOrWhiteSpace(DevicePath))
        {
            throw new ConfigurationException("Ring:DevicePath must be set when the ring is enabled");
        }
    }
}
