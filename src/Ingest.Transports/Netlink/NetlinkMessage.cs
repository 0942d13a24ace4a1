namespace Ingest.Transports.Netlink;

/// <summary>One netlink message: its header fields and the payload after the 16-byte header.</summary>
public readonly ref struct NetlinkMessage
{
    internal NetlinkMessage(ushort type, ushort flags, uint sequence, uint portId, ReadOnlySpan<byte> payload)
    {
        Type = type;
        Flags = flags;
        Sequence = sequence;
        PortId = portId;
        Payload = payload;
    }

    /// <summary>nlmsg_type: a control type (NLMSG_*), an RTM_* type or a generic netlink family id.</summary>
    public ushort Type { get; }

    public ushort Flags { get; }

    public uint Sequence { get; }

    /// <summary>nlmsg_pid as the sender wrote it (the sender's address is what to trust, not this).</summary>
    public uint PortId { get; }

    /// <summary>Bytes between the header and nlmsg_len (alignment padding excluded).</summary>
    public ReadOnlySpan<byte> Payload { get; }
}
