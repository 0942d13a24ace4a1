using System.Buffers.Binary;
using Ingest.Transports.Events;
using Ingest.Transports.Interop;
using Microsoft.Extensions.Logging;

namespace Ingest.Transports.Netlink;

/// <summary>
/// Link and address changes from rtnetlink (groups RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR,
/// RTNLGRP_IPV6_IFADDR): RTM_NEWLINK/DELLINK become <c>link</c> events, RTM_NEWADDR/DELADDR
/// <c>addr</c> events. Netlink carries no timestamp: events carry the receive time.
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

    private readonly Counter _ignored;

    public RtnetlinkSource(NetlinkSourceOptions? options = null, ILogger? logger = null)
        : base(NetlinkProtocol.Route, groupMask: 0, options, logger)
    {
        _ignored = Counters["ignored"];
    }

    public override string Name => "rtnetlink";

    protected override void Subscribe(NetlinkSocket socket)
    {
        socket.JoinGroup(Libc.RTNLGRP_LINK);
        socket.JoinGroup(Libc.RTNLGRP_IPV4_IFADDR);
        socket.JoinGroup(Libc.RTNLGRP_IPV6_IFADDR);
    }

    protected override void OnDatagram(NetlinkSocket socket, ReadOnlySpan<byte> datagram, EventWriter writer, long receivedNs) =>
        WriteDatagram(datagram, writer, receivedNs);

    /// <summary>Writes the events of one kernel datagram, counting what it cannot decode.</summary>
    internal void WriteDatagram(ReadOnlySpan<byte> datagram, EventWriter writer, long receivedNs)
    {
        var messages = new NetlinkMessageReader(datagram);
        while (messages.TryRead(out var message))
        {
            var written = message.Type switch
            {
                Libc.RTM_NEWLINK or Libc.RTM_DELLINK => TryWriteLink(message, writer, receivedNs),
                Libc.RTM_NEWADDR or Libc.RTM_DELADDR => TryWriteAddr(message, writer, receivedNs),
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
                case Libc.IFLA_IFNAME:
                    name = attribute.GetCString();
                    break;
                case Libc.IFLA_ADDRESS:
                    address = attribute.Value;
                    break;
                case Libc.IFLA_MTU:
                    if (!attribute.TryGetUInt32(out var m))
                    {
                        return false;
                    }

                    mtu = m;
                    break;
                case Libc.IFLA_OPERSTATE:
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
        writer.Write(Op, message.Type == Libc.RTM_NEWLINK ? New : Del);
        writer.Write(IfIndex, (long)ifIndex);
        WriteStringOrNil(writer, IfName, name, present: name.Length > 0);
        writer.Write(Flags, (ulong)flags);
        writer.Write(Up, (flags & Libc.IFF_UP) != 0);
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
                case Libc.IFA_ADDRESS:
                    address = attribute.Value;
                    break;
                case Libc.IFA_LOCAL:
                    local = attribute.Value;
                    break;
                case Libc.IFA_LABEL:
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
        writer.Write(Op, message.Type == Libc.RTM_NEWADDR ? New : Del);
        writer.Write(IfIndex, (long)ifIndex);
        writer.Write(Family, family switch { Libc.AF_INET => Inet, Libc.AF_INET6 => Inet6, _ => OtherFamily });
        writer.Write(PrefixLength, (long)prefixLength);
        WriteStringOrNil(writer, Address, addressText[..addressLength], present: !address.IsEmpty);
        WriteStringOrNil(writer, Local, localText[..localLength], present: !local.IsEmpty);
        WriteStringOrNil(writer, Label, label, present: !label.IsEmpty);
        writer.EndEvent();
        return true;
    }

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
