namespace Ingest.Transports.Netlink;

/// <summary>Settings every netlink source shares.</summary>
public sealed class NetlinkSourceOptions
{
    /// <summary>
    /// A network namespace to read (/var/run/netns/NAME, /proc/PID/ns/net); null for the
    /// daemon's own. Generic netlink families are global, rtnetlink and uevents per namespace.
    /// </summary>
    public string? NetworkNamespace { get; init; }

    /// <summary>
    /// Requested receive buffer in bytes (SO_RCVBUFFORCE when privileged, else SO_RCVBUF capped
    /// by net.core.rmem_max); 0 leaves the kernel default. Bursts larger than it overrun.
    /// </summary>
    public int ReceiveBufferSize { get; init; } = 4 << 20;

    /// <summary>Largest datagram expected; longer ones are cut and counted "truncated".</summary>
    public int DatagramBufferSize { get; init; } = 64 * 1024;

    /// <summary>Flush after this many datagrams even if more are queued, to bound batches.</summary>
    public int MaxDatagramsPerFlush { get; init; } = 256;
}
