using System.Runtime.InteropServices;
using Ingest.Transports.Interop;
using Microsoft.Win32.SafeHandles;

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
            var length = (uint)sizeof(int);
            using var use = new Use(_socket);
            Libc.Check(Libc.getsockopt(use.Fd, Libc.SOL_SOCKET, Libc.SO_RCVBUF, &value, &length), "getsockopt(SO_RCVBUF)");
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
            var address = new sockaddr_nl { nl_family = Libc.AF_NETLINK, nl_groups = groups };
            Libc.Check(Libc.bind(fd, &address, (uint)sizeof(sockaddr_nl)), "bind(AF_NETLINK)");
            var wake = new SafeFileHandle(Libc.Check(Libc.eventfd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK), "eventfd"), ownsHandle: true);
            return new NetlinkSocket(socket, wake, protocol);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Joins multicast group <paramref name="group"/> (a group number, not a mask).</summary>
    public void JoinGroup(uint group) => SetMembership(Libc.NETLINK_ADD_MEMBERSHIP, group, "setsockopt(NETLINK_ADD_MEMBERSHIP)");

    public void LeaveGroup(uint group) => SetMembership(Libc.NETLINK_DROP_MEMBERSHIP, group, "setsockopt(NETLINK_DROP_MEMBERSHIP)");

    /// <summary>
    /// Sizes the receive buffer. With <paramref name="force"/> it tries SO_RCVBUFFORCE first,
    /// which ignores net.core.rmem_max but needs CAP_NET_ADMIN, and falls back to SO_RCVBUF
    /// (capped at rmem_max) without it. Returns whether the forced size took effect.
    /// </summary>
    public bool SetReceiveBufferSize(int bytes, bool force = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytes);
        using var use = new Use(_socket);
        if (force && Libc.setsockopt(use.Fd, Libc.SOL_SOCKET, Libc.SO_RCVBUFFORCE, &bytes, sizeof(int)) == 0)
        {
            return true;
        }

        if (force && Libc.LastErrno != Libc.EPERM)
        {
            throw new ErrnoException("setsockopt(SO_RCVBUFFORCE)", Libc.LastErrno);
        }

        Libc.Check(Libc.setsockopt(use.Fd, Libc.SOL_SOCKET, Libc.SO_RCVBUF, &bytes, sizeof(int)), "setsockopt(SO_RCVBUF)");
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
            var iov = new iovec { iov_base = data, iov_len = (nuint)buffer.Length };
            var message = new msghdr { msg_name = &sender, msg_namelen = (uint)sizeof(sockaddr_nl), msg_iov = &iov, msg_iovlen = 1 };
            while (true)
            {
                // MSG_TRUNC makes recvmsg return the datagram's real length when it did not fit.
                var received = Libc.recvmsg(use.Fd, &message, Libc.MSG_DONTWAIT | Libc.MSG_TRUNC);
                if (received >= 0)
                {
                    var truncated = received > buffer.Length || (message.msg_flags & Libc.MSG_TRUNC) != 0;
                    return new NetlinkReceiveResult(
                        truncated ? NetlinkReceiveStatus.Truncated : NetlinkReceiveStatus.Data,
                        (int)Math.Min(received, buffer.Length),
                        sender.nl_pid,
                        sender.nl_groups);
                }

                switch (Libc.LastErrno)
                {
                    case Libc.EINTR:
                        continue;
                    case Libc.EAGAIN:
                        return new NetlinkReceiveResult(NetlinkReceiveStatus.WouldBlock, 0, 0, 0);
                    case Libc.ENOBUFS:
                        return new NetlinkReceiveResult(NetlinkReceiveStatus.Overrun, 0, 0, 0);
                    default:
                        throw new ErrnoException("recvmsg(AF_NETLINK)", Libc.LastErrno);
                }
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
        fds[0] = new pollfd { fd = socket.Fd, events = Libc.POLLIN };
        fds[1] = new pollfd { fd = wake.Fd, events = Libc.POLLIN };
        var ready = Libc.poll(fds, 2, timeoutMs);
        if (ready < 0)
        {
            // A signal is a spurious wake-up: callers loop anyway.
            return Libc.LastErrno == Libc.EINTR ? false : throw new ErrnoException("poll", Libc.LastErrno);
        }

        return fds[1].revents == 0 && fds[0].revents != 0;
    }

    /// <summary>True once <see cref="Wake"/> has been called.</summary>
    public bool IsWoken
    {
        get
        {
            using var wake = new Use(_wake);
            var fd = new pollfd { fd = wake.Fd, events = Libc.POLLIN };
            return Libc.poll(&fd, 1, 0) > 0;
        }
    }

    /// <summary>Makes the current and every later <see cref="Wait"/> return at once. Thread-safe.</summary>
    public void Wake()
    {
        try
        {
            using var wake = new Use(_wake);
            Libc.SignalEventFd(wake.Fd);
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
        var address = new sockaddr_nl { nl_family = Libc.AF_NETLINK, nl_pid = portId };
        fixed (byte* data = datagram)
        {
            nint sent;
            do
            {
                sent = Libc.sendto(use.Fd, data, (nuint)datagram.Length, 0, &address, (uint)sizeof(sockaddr_nl));
            }
            while (sent < 0 && Libc.LastErrno == Libc.EINTR);

            Libc.Check(sent, "sendto(AF_NETLINK)");
        }
    }

    public void Dispose()
    {
        _socket.Dispose();
        _wake.Dispose();
    }

    private static int CreateSocket(NetlinkProtocol protocol) =>
        Libc.Check(Libc.socket(Libc.AF_NETLINK, Libc.SOCK_RAW | Libc.SOCK_CLOEXEC, (int)protocol), "socket(AF_NETLINK)");

    private uint QueryPortId()
    {
        sockaddr_nl address;
        var length = (uint)sizeof(sockaddr_nl);
        using var use = new Use(_socket);
        Libc.Check(Libc.getsockname(use.Fd, &address, &length), "getsockname(AF_NETLINK)");
        return address.nl_pid;
    }

    private void SetMembership(int option, uint group, string call)
    {
        using var use = new Use(_socket);
        Libc.Check(Libc.setsockopt(use.Fd, Libc.SOL_NETLINK, option, &group, sizeof(uint)), call);
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
