using System.Runtime.InteropServices;
using Ingest.Transports.Interop;
using Microsoft.Win32.SafeHandles;
using Tmds.Linux;

namespace Ingest.Transports.Netlink;

/// <summary>
/// An AF_NETLINK raw socket bound to a kernel-assigned port, with an eventfd beside it so that a
/// blocked <see cref="Wait"/> returns as soon as <see cref="Wake"/> is called (cancellation).
/// </summary>
public sealed unsafe class NetlinkSocket : IDisposable
{
    private readonly SafeFileHandle _socket;
    private readonly SafeFileHandle _wake;

    private NetlinkSocket(SafeFileHandle socket, SafeFileHandle wake, NetlinkProtocol protocol)
    {
        _socket = socket;
        _wake = wake;
        Protocol = protocol;
        PortId = QueryPortId();
    }

    public NetlinkProtocol Protocol { get; }

    /// <summary>The port the kernel assigned at bind (nl_pid); unicasts to it reach this socket.</summary>
    public uint PortId { get; }

    /// <summary>SO_RCVBUF as the kernel reports it (twice the requested size: it counts overhead).</summary>
    public int ReceiveBufferSize
    {
        get
        {
            int value;
            socklen_t length = (uint)sizeof(int);
            using var use = new Use(_socket);
            Sys.Check(LibC.getsockopt(use.Fd, LibC.SOL_SOCKET, LibC.SO_RCVBUF, &value, &length), "getsockopt(SO_RCVBUF)");
            return value;
        }
    }

    /// <summary>
    /// Opens a socket for <paramref name="protocol"/> bound to the legacy group mask
    /// <paramref name="groups"/> (0: none; join groups above 32 with <see cref="JoinGroup"/>).
    /// With <paramref name="networkNamespace"/> (a path such as /var/run/netns/NAME or
    /// /proc/PID/ns/net) the socket is created in that namespace and stays bound to it.
    /// </summary>
    public static NetlinkSocket Open(NetlinkProtocol protocol, uint groups = 0, string? networkNamespace = null)
    {
        var fd = networkNamespace is null
            ? CreateSocket(protocol)
            : NetworkNamespace.Run(networkNamespace, () => CreateSocket(protocol));
        var socket = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            var address = new sockaddr_nl { nl_family = LibC.AF_NETLINK, nl_groups = groups };
            Sys.Check(LibC.bind(fd, (sockaddr*)&address, (uint)sizeof(sockaddr_nl)), "bind(AF_NETLINK)");
            var wake = new SafeFileHandle(Sys.Check(LibC.eventfd(0, LibC.EFD_CLOEXEC | LibC.EFD_NONBLOCK), "eventfd"), ownsHandle: true);
            return new NetlinkSocket(socket, wake, protocol);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Joins multicast group <paramref name="group"/> (a group number, not a mask).</summary>
    public void JoinGroup(uint group) => SetMembership(Sys.NETLINK_ADD_MEMBERSHIP, group, "setsockopt(NETLINK_ADD_MEMBERSHIP)");

    public void LeaveGroup(uint group) => SetMembership(Sys.NETLINK_DROP_MEMBERSHIP, group, "setsockopt(NETLINK_DROP_MEMBERSHIP)");

    /// <summary>
    /// Sizes the receive buffer. With <paramref name="force"/> it tries SO_RCVBUFFORCE first,
    /// which ignores net.core.rmem_max but needs CAP_NET_ADMIN, and falls back to SO_RCVBUF
    /// (capped at rmem_max) without it. Returns whether the forced size took effect.
    /// </summary>
    public bool SetReceiveBufferSize(int bytes, bool force = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytes);
        using var use = new Use(_socket);
        if (force && LibC.setsockopt(use.Fd, LibC.SOL_SOCKET, LibC.SO_RCVBUFFORCE, &bytes, sizeof(int)) == 0)
        {
            return true;
        }

        if (force && Sys.LastErrno != LibC.EPERM)
        {
            throw new ErrnoException("setsockopt(SO_RCVBUFFORCE)", Sys.LastErrno);
        }

        Sys.Check(LibC.setsockopt(use.Fd, LibC.SOL_SOCKET, LibC.SO_RCVBUF, &bytes, sizeof(int)), "setsockopt(SO_RCVBUF)");
        return false;
    }

    /// <summary>
    /// Takes one queued datagram into <paramref name="buffer"/> without blocking, with the
    /// sender's address (port 0 is the kernel).
    /// </summary>
    public NetlinkReceiveResult TryReceive(Span<byte> buffer)
    {
        using var use = new Use(_socket);
        sockaddr_nl sender = default;
        fixed (byte* data = buffer)
        {
            var iov = new iovec { iov_base = data, iov_len = buffer.Length };
            var message = new msghdr { msg_name = &sender, msg_namelen = (uint)sizeof(sockaddr_nl), msg_iov = &iov, msg_iovlen = 1 };
            while (true)
            {
                // MSG_TRUNC makes recvmsg return the datagram's real length when it did not fit.
                long received = LibC.recvmsg(use.Fd, &message, LibC.MSG_DONTWAIT | LibC.MSG_TRUNC);
                if (received >= 0)
                {
                    var truncated = received > buffer.Length || (message.msg_flags & LibC.MSG_TRUNC) != 0;
                    return new NetlinkReceiveResult(
                        truncated ? NetlinkReceiveStatus.Truncated : NetlinkReceiveStatus.Data,
                        (int)Math.Min(received, buffer.Length),
                        sender.nl_pid,
                        sender.nl_groups);
                }

                var errno = Sys.LastErrno;
                if (errno == LibC.EINTR)
                {
                    continue;
                }

                return errno == LibC.EAGAIN ? new NetlinkReceiveResult(NetlinkReceiveStatus.WouldBlock, 0, 0, 0)
                    : errno == LibC.ENOBUFS ? new NetlinkReceiveResult(NetlinkReceiveStatus.Overrun, 0, 0, 0)
                    : throw new ErrnoException("recvmsg(AF_NETLINK)", errno);
            }
        }
    }

    /// <summary>
    /// Blocks until a datagram (or an error such as ENOBUFS) is pending, the timeout passes
    /// (-1: none) or <see cref="Wake"/> was called. Returns true when the socket is readable.
    /// </summary>
    public bool Wait(int timeoutMs)
    {
        using var socket = new Use(_socket);
        using var wake = new Use(_wake);
        var fds = stackalloc pollfd[2];
        fds[0] = new pollfd { fd = socket.Fd, events = LibC.POLLIN };
        fds[1] = new pollfd { fd = wake.Fd, events = LibC.POLLIN };
        var ready = Sys.poll(fds, 2, timeoutMs);
        if (ready < 0)
        {
            // A signal is a spurious wake-up: callers loop anyway.
            return Sys.LastErrno == LibC.EINTR ? false : throw new ErrnoException("poll", Sys.LastErrno);
        }

        return fds[1].revents == 0 && fds[0].revents != 0;
    }

    /// <summary>True once <see cref="Wake"/> has been called.</summary>
    public bool IsWoken
    {
        get
        {
            using var wake = new Use(_wake);
            var fd = new pollfd { fd = wake.Fd, events = LibC.POLLIN };
            return Sys.poll(&fd, 1, 0) > 0;
        }
    }

    /// <summary>Makes the current and every later <see cref="Wait"/> return at once. Thread-safe.</summary>
    public void Wake()
    {
        try
        {
            using var wake = new Use(_wake);
            Sys.SignalEventFd(wake.Fd);
        }
        catch (ObjectDisposedException)
        {
            // Disposed already: nothing is waiting any more.
        }
    }

    /// <summary>Sends one datagram to <paramref name="portId"/> (0: the kernel).</summary>
    public void Send(ReadOnlySpan<byte> datagram, uint portId = 0)
    {
        using var use = new Use(_socket);
        var address = new sockaddr_nl { nl_family = LibC.AF_NETLINK, nl_pid = portId };
        fixed (byte* data = datagram)
        {
            long sent;
            do
            {
                sent = LibC.sendto(use.Fd, data, datagram.Length, 0, (sockaddr*)&address, (uint)sizeof(sockaddr_nl));
            }
            while (sent < 0 && Sys.LastErrno == LibC.EINTR);

            Sys.Check(sent, "sendto(AF_NETLINK)");
        }
    }

    public void Dispose()
    {
        _socket.Dispose();
        _wake.Dispose();
    }

    private static int CreateSocket(NetlinkProtocol protocol) =>
        Sys.Check(LibC.socket(LibC.AF_NETLINK, LibC.SOCK_RAW | LibC.SOCK_CLOEXEC, (int)protocol), "socket(AF_NETLINK)");

    private uint QueryPortId()
    {
        sockaddr_nl address;
        socklen_t length = (uint)sizeof(sockaddr_nl);
        using var use = new Use(_socket);
        Sys.Check(LibC.getsockname(use.Fd, (sockaddr*)&address, &length), "getsockname(AF_NETLINK)");
        return address.nl_pid;
    }

    private void SetMembership(int option, uint group, string call)
    {
        using var use = new Use(_socket);
        Sys.Check(LibC.setsockopt(use.Fd, LibC.SOL_NETLINK, option, &group, sizeof(uint)), call);
    }

    /// <summary>Holds a reference on the handle for one system call, so a concurrent Dispose cannot
    /// close (and the process reuse) the descriptor under it.</summary>
    private readonly ref struct Use
    {
        private readonly SafeHandle _handle;

        public Use(SafeHandle handle)
        {
            var added = false;
            handle.DangerousAddRef(ref added);
            _handle = handle;
            Fd = (int)handle.DangerousGetHandle();
        }

        public int Fd { get; }

        public void Dispose() => _handle.DangerousRelease();
    }
}
