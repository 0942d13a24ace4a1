using System.Runtime.InteropServices;
using Tmds.Linux;

namespace Ingest.Transports.Interop;

/// <summary>
/// Netlink ABI (none of it is in Tmds.LibC 0.5): linux/netlink.h, linux/genetlink.h,
/// linux/rtnetlink.h, linux/if_link.h, linux/if_addr.h.
/// </summary>
internal static unsafe partial class Sys
{
    // Socket options at SOL_NETLINK
    public const int NETLINK_ADD_MEMBERSHIP = 1;
    public const int NETLINK_DROP_MEMBERSHIP = 2;

    // nlmsghdr.nlmsg_flags
    public const ushort NLM_F_REQUEST = 0x01;
    public const ushort NLM_F_MULTI = 0x02;
    public const ushort NLM_F_DUMP = 0x300;

    // Control message types (linux/netlink.h)
    public const ushort NLMSG_ERROR = 2;
    public const ushort NLMSG_DONE = 3;

    public const int NLMSG_ALIGNTO = 4;
    public const ushort NLA_F_NESTED = 0x8000;
    public const ushort NLA_F_NET_BYTEORDER = 0x4000;
    public const ushort NLA_TYPE_MASK = 0x3fff;

    // Generic netlink controller (linux/genetlink.h)
    public const ushort GENL_ID_CTRL = 0x10;
    public const byte CTRL_CMD_NEWFAMILY = 1;
    public const byte CTRL_CMD_DELFAMILY = 2;
    public const byte CTRL_CMD_GETFAMILY = 3;
    public const ushort CTRL_ATTR_FAMILY_ID = 1;
    public const ushort CTRL_ATTR_FAMILY_NAME = 2;
    public const ushort CTRL_ATTR_VERSION = 3;
    public const ushort CTRL_ATTR_HDRSIZE = 4;
    public const ushort CTRL_ATTR_MAXATTR = 5;
    public const ushort CTRL_ATTR_MCAST_GROUPS = 7;
    public const ushort CTRL_ATTR_MCAST_GRP_NAME = 1;
    public const ushort CTRL_ATTR_MCAST_GRP_ID = 2;

    // rtnetlink message types (linux/rtnetlink.h)
    public const ushort RTM_NEWLINK = 16;
    public const ushort RTM_DELLINK = 17;
    public const ushort RTM_GETLINK = 18;
    public const ushort RTM_NEWADDR = 20;
    public const ushort RTM_DELADDR = 21;
    public const ushort RTM_GETADDR = 22;

    // Group numbers NETLINK_ADD_MEMBERSHIP takes (linux/rtnetlink.h).
    public const uint RTNLGRP_LINK = 1;
    public const uint RTNLGRP_IPV4_IFADDR = 5;
    public const uint RTNLGRP_IPV6_IFADDR = 9;

    // IFLA_* (linux/if_link.h)
    public const ushort IFLA_ADDRESS = 1;
    public const ushort IFLA_IFNAME = 3;
    public const ushort IFLA_MTU = 4;
    public const ushort IFLA_OPERSTATE = 16;

    // IFA_* (linux/if_addr.h)
    public const ushort IFA_ADDRESS = 1;
    public const ushort IFA_LOCAL = 2;
    public const ushort IFA_LABEL = 3;

    // net_device_flags (linux/if.h)
    public const uint IFF_UP = 0x1;

    /// <summary>NLMSG_ALIGN / NLA_ALIGN: both round up to 4 bytes.</summary>
    public static int NetlinkAlign(int length) => (length + NLMSG_ALIGNTO - 1) & ~(NLMSG_ALIGNTO - 1);
}

[StructLayout(LayoutKind.Sequential)]
internal struct sockaddr_nl
{
    public sa_family_t nl_family;
    public ushort nl_pad;
    public uint nl_pid;    // port id; 0 is the kernel
    public uint nl_groups; // multicast group mask (groups 1..32 only)
}

[StructLayout(LayoutKind.Sequential)]
internal struct nlmsghdr
{
    public uint nlmsg_len;
    public ushort nlmsg_type;
    public ushort nlmsg_flags;
    public uint nlmsg_seq;
    public uint nlmsg_pid;
}

[StructLayout(LayoutKind.Sequential)]
internal struct nlattr
{
    public ushort nla_len;
    public ushort nla_type;
}

[StructLayout(LayoutKind.Sequential)]
internal struct genlmsghdr
{
    public byte cmd;
    public byte version;
    public ushort reserved;
}

[StructLayout(LayoutKind.Sequential)]
internal struct ifinfomsg
{
    public byte ifi_family;
    public byte ifi_pad;
    public ushort ifi_type;
    public int ifi_index;
    public uint ifi_flags;
    public uint ifi_change;
}

[StructLayout(LayoutKind.Sequential)]
internal struct ifaddrmsg
{
    public byte ifa_family;
    public byte ifa_prefixlen;
    public byte ifa_flags;
    public byte ifa_scope;
    public uint ifa_index;
}
