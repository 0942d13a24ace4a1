using System.Buffers.Binary;
using Ingest.Transports.Events;
using Ingest.Transports.Interop;
using Microsoft.Extensions.Logging;
using Tmds.Linux;

namespace Ingest.Transports.Netlink;

/// <summary>
/// Link and address changes from rtnetlink (groups RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR,
/// RTNLGRP_IPV6_IFADDR): RTM_NEWLINK/DELLINK become <c>link</c> events, RTM_NEWADDR/DELADDR
/// <c>addr</c> events. Netlink carries no timestamp: events carry the receive time. After an
/// overrun the source dumps links and addresses again (op <c>dump</c>), since changes were lost.
/// </summary>
public sealed class RtnetlinkSource : NetlinkSource
{
    private const int IfInfoSize = 16;
    private const int IfAddrSize = 8;

    private static readonly EventName Link = new("link");
    private static readonly EventName Addr = new("addr");
    private static readonly EventName Op = new("op");
    private static readonly EventName New = new("new");
    private static readonly EventName Del = new("del");
    private static readonly EventName IfIndex = new("ifindex");
    private static readonly EventName IfName = new("ifname");
    private static readonly EventName Flags = new("flags");
    private static readonly EventName Up = new("up");
    private static readonly EventName OperState = new("operstate");
    private static readonly EventName Mtu = new("mtu");
    private static readonly EventName Address = new("address");
    private static readonly EventName Family = new("family");
    private static readonly EventName PrefixLength = new("prefixlen");
    private static readonly EventName Local = new("local");
    private static readonly EventName Label = new("label");
    private static readonly EventName Inet = new("inet");
    private static readonly EventName Inet6 = new("inet6");
    private static readonly EventName OtherFamily = new("other");

    // IF_OPER_* (RFC 2863 operational states), by value.
    private static readonly EventName[] OperStates =
        [new("unknown"), new("notpresent"), new("down"), new("lowerlayerdown"), new("testing"), new("dormant"), new("up")];

    private static readonly EventName Dump = new("dump");

    private readonly Counter _ignored;
    private readonly Counter _resyncs;
    private readonly Counter _resyncErrors;
    private ResyncState _resync;
    private uint _dumpSequence;
    private bool _resyncAgain;

    public RtnetlinkSource(NetlinkSourceOptions? options = null, ILogger? logger = null)
        : base(NetlinkProtocol.Route, groupMask: 0, options, logger)
    {
        _ignored = Counters["ignored"];
        _resyncs = Counters["resyncs"];
        _resyncErrors = Counters["resync_errors"];
    }

    private enum ResyncState
    {
        None,
        Pending,
        DumpingLinks,
        LinksDumped,
        DumpingAddresses,
    }

    /// <summary>
    /// After an overrun, dump every link and address (RTM_GETLINK, RTM_GETADDR) once the socket
    /// is drained, so consumers see the current state again: those events have op <c>dump</c>.
    /// </summary>
    public bool ResyncAfterOverrun { get; init; } = true;

    public override string Name => "rtnetlink";

    protected override void Subscribe(NetlinkSocket socket)
    {
        socket.JoinGroup(Sys.RTNLGRP_LINK);
        socket.JoinGroup(Sys.RTNLGRP_IPV4_IFADDR);
        socket.JoinGroup(Sys.RTNLGRP_IPV6_IFADDR);
    }

    protected override void OnOverrun(NetlinkSocket socket)
    {
        if (!ResyncAfterOverrun)
        {
            return;
        }

        // A dump under way still completes; another follows it, since changes were lost again.
        if (_resync == ResyncState.None)
        {
            _resync = ResyncState.Pending;
        }
        else
        {
            _resyncAgain = true;
        }
    }

    protected override void OnDrained(NetlinkSocket socket)
    {
        if (_resync == ResyncState.Pending)
        {
            _resync = ResyncState.DumpingLinks;
            RequestDump(socket, Sys.RTM_GETLINK);
        }
    }

    protected override void OnDatagram(NetlinkSocket socket, ReadOnlySpan<byte> datagram, EventWriter writer, long receivedNs)
    {
        WriteDatagram(datagram, writer, receivedNs);
        if (_resync == ResyncState.LinksDumped)
        {
            // One dump at a time per socket: the addresses follow the links.
            _resync = ResyncState.DumpingAddresses;
            RequestDump(socket, Sys.RTM_GETADDR);
        }
    }

    private void RequestDump(NetlinkSocket socket, ushort type)
    {
        _dumpSequence++;
        Span<byte> request = stackalloc byte[NetlinkMessageReader.HeaderSize + IfInfoSize];
        request.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(request, (uint)request.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(request[4..], type);
        BinaryPrimitives.WriteUInt16LittleEndian(request[6..], (ushort)(Sys.NLM_F_REQUEST | Sys.NLM_F_DUMP));
        BinaryPrimitives.WriteUInt32LittleEndian(request[8..], _dumpSequence);
        try
        {
            socket.Send(request); // family AF_UNSPEC: every family
        }
        catch (IOException e)
        {
            _resyncErrors.Increment();
            _resync = ResyncState.None;
            Logger.LogError(e, "{Source}: resync dump request failed", Name);
        }
    }

    // NLMSG_DONE or NLMSG_ERROR answering our dump request.
    private void OnDumpEnd(NetlinkMessage message)
    {
        if (message.Type == Sys.NLMSG_ERROR)
        {
            _resyncErrors.Increment();
            _resync = ResyncState.None;
            return;
        }

        if (_resync == ResyncState.DumpingLinks)
        {
            _resync = ResyncState.LinksDumped; // the address dump is requested once this datagram is done
        }
        else
        {
            _resync = _resyncAgain ? ResyncState.Pending : ResyncState.None;
            _resyncAgain = false;
            _resyncs.Increment();
            Logger.LogInformation("{Source}: resynchronised links and addresses after an overrun", Name);
        }
    }

    /// <summary>Writes the events of one kernel datagram, counting what it cannot decode.</summary>
    internal void WriteDatagram(ReadOnlySpan<byte> datagram, EventWriter writer, long receivedNs)
    {
        var messages = new NetlinkMessageReader(datagram);
        while (messages.TryRead(out var message))
        {
            var dumping = _resync is ResyncState.DumpingLinks or ResyncState.DumpingAddresses && message.Sequence == _dumpSequence;
            if (dumping && message.Type is Sys.NLMSG_DONE or Sys.NLMSG_ERROR)
            {
                OnDumpEnd(message);
                continue;
            }

            var written = message.Type switch
            {
                Sys.RTM_NEWLINK or Sys.RTM_DELLINK => TryWriteLink(message, writer, receivedNs),
                Sys.RTM_NEWADDR or Sys.RTM_DELADDR => TryWriteAddr(message, writer, receivedNs),
                _ => (bool?)null,
            };
            if (written is null)
            {
                _ignored.Increment();
            }
            else if (written == false)
            {
                Malformed.Increment();
            }
        }

        if (messages.IsMalformed)
        {
            Malformed.Increment();
        }
    }

    /// <summary>Writes a <c>link</c> event; false (nothing written) when the message is malformed.</summary>
    internal static bool TryWriteLink(NetlinkMessage message, EventWriter writer, long timestampNs)
    {
        var payload = message.Payload;
        if (payload.Length < IfInfoSize)
        {
            return false;
        }

        var ifIndex = BinaryPrimitives.ReadInt32LittleEndian(payload[4..]);
        var flags = BinaryPrimitives.ReadUInt32LittleEndian(payload[8..]);
        ReadOnlySpan<byte> name = default;
        ReadOnlySpan<byte> address = default;
        uint? mtu = null;
        byte? operState = null;
        var attributes = new NetlinkAttributeReader(payload[IfInfoSize..]);
        while (attributes.TryRead(out var attribute))
        {
            switch (attribute.Type)
            {
                case Sys.IFLA_IFNAME:
                    name = attribute.GetCString();
                    break;
                case Sys.IFLA_ADDRESS:
                    address = attribute.Value;
                    break;
                case Sys.IFLA_MTU:
                    if (!attribute.TryGetUInt32(out var m))
                    {
                        return false;
                    }

                    mtu = m;
                    break;
                case Sys.IFLA_OPERSTATE:
                    if (!attribute.TryGetUInt8(out var s))
                    {
                        return false;
                    }

                    operState = s;
                    break;
            }
        }

        if (attributes.IsMalformed)
        {
            return false;
        }

        writer.BeginEvent(Link, timestampNs, 8);
        writer.Write(Op, OpOf(message, Sys.RTM_NEWLINK));
        writer.Write(IfIndex, (long)ifIndex);
        WriteStringOrNil(writer, IfName, name, present: name.Length > 0);
        writer.Write(Flags, (ulong)flags);
        writer.Write(Up, (flags & Sys.IFF_UP) != 0);
        writer.WriteKey(OperState);
        if (operState is { } state)
        {
            if (state < OperStates.Length)
            {
                writer.Write(OperStates[state]);
            }
            else
            {
                writer.Write((ulong)state);
            }
        }
        else
        {
            writer.WriteNil();
        }

        writer.WriteKey(Mtu);
        if (mtu is { } value)
        {
            writer.Write((ulong)value);
        }
        else
        {
            writer.WriteNil();
        }

        writer.WriteKey(Address);
        if (address.IsEmpty)
        {
            writer.WriteNil();
        }
        else
        {
            Span<char> text = stackalloc char[NetlinkText.MaxAddressChars];
            writer.WriteString(text[..NetlinkText.FormatHardwareAddress(address, text)]);
        }

        writer.EndEvent();
        return true;
    }

    /// <summary>Writes an <c>addr</c> event; false (nothing written) when the message is malformed.</summary>
    internal static bool TryWriteAddr(NetlinkMessage message, EventWriter writer, long timestampNs)
    {
        var payload = message.Payload;
        if (payload.Length < IfAddrSize)
        {
            return false;
        }

        var family = payload[0];
        var prefixLength = payload[1];
        var ifIndex = BinaryPrimitives.ReadUInt32LittleEndian(payload[4..]);
        ReadOnlySpan<byte> address = default;
        ReadOnlySpan<byte> local = default;
        ReadOnlySpan<byte> label = default;
        var attributes = new NetlinkAttributeReader(payload[IfAddrSize..]);
        while (attributes.TryRead(out var attribute))
        {
            switch (attribute.Type)
            {
                case Sys.IFA_ADDRESS:
                    address = attribute.Value;
                    break;
                case Sys.IFA_LOCAL:
                    local = attribute.Value;
                    break;
                case Sys.IFA_LABEL:
                    label = attribute.GetCString();
                    break;
            }
        }

        if (attributes.IsMalformed)
        {
            return false;
        }

        Span<char> addressText = stackalloc char[NetlinkText.MaxAddressChars];
        Span<char> localText = stackalloc char[NetlinkText.MaxAddressChars];
        var addressLength = address.IsEmpty ? 0 : NetlinkText.FormatIpAddress(address, addressText);
        var localLength = local.IsEmpty ? 0 : NetlinkText.FormatIpAddress(local, localText);
        if (addressLength < 0 || localLength < 0)
        {
            return false;
        }

        writer.BeginEvent(Addr, timestampNs, 7);
        writer.Write(Op, OpOf(message, Sys.RTM_NEWADDR));
        writer.Write(IfIndex, (long)ifIndex);
        writer.Write(Family, family == LibC.AF_INET ? Inet : family == LibC.AF_INET6 ? Inet6 : OtherFamily);
        writer.Write(PrefixLength, (long)prefixLength);
        WriteStringOrNil(writer, Address, addressText[..addressLength], present: !address.IsEmpty);
        WriteStringOrNil(writer, Local, localText[..localLength], present: !local.IsEmpty);
        WriteStringOrNil(writer, Label, label, present: !label.IsEmpty);
        writer.EndEvent();
        return true;
    }

    // Dump replies carry NLM_F_MULTI; change notifications never do.
    private static EventName OpOf(NetlinkMessage message, ushort newType) =>
        (message.Flags & Sys.NLM_F_MULTI) != 0 ? Dump : message.Type == newType ? New : Del;

    private static void WriteStringOrNil(EventWriter writer, EventName key, ReadOnlySpan<byte> utf8, bool present)
    {
        writer.WriteKey(key);
        if (present)
        {
            writer.WriteString(utf8);
        }
        else
        {
            writer.WriteNil();
        }
    }

    private static void WriteStringOrNil(EventWriter writer, EventName key, ReadOnlySpan<char> text, bool present)
    {
        writer.WriteKey(key);
        if (present)
        {
            writer.WriteString(text);
        }
        else
        {
            writer.WriteNil();
        }
    }
}
