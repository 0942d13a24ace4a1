using System.Runtime.InteropServices;

namespace Ingest.Transports.Interop;

internal static unsafe partial class Libc
{
    public const int AF_UNIX = 1;
    public const int AF_INET = 2;
    public const int AF_INET6 = 10;
    public const int AF_NETLINK = 16;

    public const int SOCK_STREAM = 1;
    public const int SOCK_DGRAM = 2;
    public const int SOCK_RAW = 3;
    public const int SOCK_SEQPACKET = 5;
    public const int SOCK_NONBLOCK = 0x800;
    public const int SOCK_CLOEXEC = 0x80000;

    public const int SOL_SOCKET = 1;
    public const int SO_REUSEADDR = 2;
    public const int SO_SNDBUF = 7;
    public const int SO_RCVBUF = 8;
    public const int SO_PASSCRED = 16;
    public const int SO_PEERCRED = 17;
    public const int SO_RCVTIMEO = 20;
    public const int SO_SNDTIMEO = 21;
    public const int SO_TIMESTAMPNS = 35;
    public const int SO_RCVBUFFORCE = 33;
    public const int SO_RXQ_OVFL = 40;
    public const int SO_REUSEPORT = 15;
    public const int SCM_CREDENTIALS = 2;

    public const int MSG_DONTWAIT = 0x40;
    public const int MSG_TRUNC = 0x20;
    public const int MSG_CTRUNC = 0x08;
    public const int MSG_WAITFORONE = 0x10000;

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int socket(int domain, int type, int protocol);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int bind(int fd, void* addr, uint addrlen);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int connect(int fd, void* addr, uint addrlen);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int listen(int fd, int backlog);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int accept4(int fd, void* addr, uint* addrlen, int flags);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int getsockname(int fd, void* addr, uint* addrlen);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int setsockopt(int fd, int level, int optname, void* optval, uint optlen);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int getsockopt(int fd, int level, int optname, void* optval, uint* optlen);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial nint recvmsg(int fd, msghdr* msg, int flags);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial nint sendto(int fd, void* buf, nuint len, int flags, void* addr, uint addrlen);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial int recvmmsg(int fd, mmsghdr* msgvec, uint vlen, int flags, timespec* timeout);

    public static void SetSocketOption(int fd, int level, int name, int value)
    {
        Check(setsockopt(fd, level, name, &value, sizeof(int)), "setsockopt");
    }

    /// <summary>Sets SO_RCVTIMEO so blocking receives return EAGAIN and loops can see cancellation.</summary>
    public static void SetReceiveTimeout(int fd, TimeSpan timeout)
    {
        var tv = new timeval { tv_sec = (long)timeout.TotalSeconds, tv_usec = timeout.Microseconds + (timeout.Milliseconds * 1000) };
        Check(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, (uint)sizeof(timeval)), "setsockopt(SO_RCVTIMEO)");
    }
}

[StructLayout(LayoutKind.Sequential)]
internal struct timespec
{
    public long tv_sec;
    public long tv_nsec;
}

[StructLayout(LayoutKind.Sequential)]
internal struct timeval
{
    public long tv_sec;
    public long tv_usec;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct iovec
{
    public void* iov_base;
    public nuint iov_len;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct msghdr
{
    public void* msg_name;
    public uint msg_namelen;
    public iovec* msg_iov;
    public nuint msg_iovlen;
    public void* msg_control;
    public nuint msg_controllen;
    public int msg_flags;
}

[StructLayout(LayoutKind.Sequential)]
internal struct mmsghdr
{
    public msghdr msg_hdr;
    public uint msg_len;
}

[StructLayout(LayoutKind.Sequential)]
internal struct cmsghdr
{
    public nuint cmsg_len;
    public int cmsg_level;
    public int cmsg_type;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct sockaddr_in
{
    public ushort sin_family;
    public ushort sin_port; // network byte order
    public uint sin_addr;   // network byte order
    public fixed byte sin_zero[8];
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct sockaddr_in6
{
    public ushort sin6_family;
    public ushort sin6_port;
    public uint sin6_flowinfo;
    public fixed byte sin6_addr[16];
    public uint sin6_scope_id;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct sockaddr_un
{
    public ushort sun_family;
    public fixed byte sun_path[108];
}

[StructLayout(LayoutKind.Sequential)]
internal struct ucred
{
    public int pid;
    public uint uid;
    public uint gid;
}
