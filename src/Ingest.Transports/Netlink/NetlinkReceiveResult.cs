namespace Ingest.Transports.Netlink;

public enum NetlinkReceiveStatus
{
    /// <summary>A whole datagram is in the buffer.</summary>
    Data,

    /// <summary>The datagram was longer than the buffer; the kernel discarded the rest.</summary>
    Truncated,

    /// <summary>ENOBUFS: the receive buffer overran and the kernel dropped messages.</summary>
    Overrun,

    /// <summary>Nothing is queued.</summary>
    WouldBlock,
}

/// <summary>What one <see cref="NetlinkSocket.TryReceive"/> got, and from whom.</summary>
public readonly record struct NetlinkReceiveResult(NetlinkReceiveStatus Status, int Length, uint SenderPort, uint SenderGroups)
{
    /// <summary>The kernel sends from port 0; anything else is a user-space process.</summary>
    public bool FromKernel => SenderPort == 0;
}
