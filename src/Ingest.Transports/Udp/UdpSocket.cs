using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Ingest.Transports.Interop;
using Microsoft.Win32.SafeHandles;
using Tmds.Linux;

namespace Ingest.Transports.Udp;

/// <summary>
/// A bound UDP socket set up for batched receives: large receive buffer, kernel receive
/// timestamps, drop counts in control messages, and an eventfd beside it so an idle receive loop
/// can sleep in poll with no timeout and still stop at once (<see cref="Wake"/>). A receive
/// timeout stays as the bound for callers that block in recvmmsg itself.
/// </summary>
internal sealed unsafe class UdpSocket : IDisposable
{
    private readonly SafeFileHandle _wake;
    private int _fd;

    private UdpSocket(int fd)
    {
        _fd = fd;
        _wake = new SafeFileHandle(LibC.eventfd(0, LibC.EFD_CLOEXEC | LibC.EFD_NONBLOCK), ownsHandle: true);
        if (_wake.IsInvalid)
        {
            var errno = Sys.LastErrno;
            LibC.close(fd);
            throw new ErrnoException("eventfd", errno);
        }
    }

    public int Fd => _fd;

    public IPEndPoint LocalEndPoint { get; private set; } = null!;

    /// <summary>SO_RCVBUF as the kernel reports it after setup (the kernel doubles what it grants for overhead).</summary>
    public int ReceiveBufferBytes { get; private set; }

    /// <summary>Whether SO_TIMESTAMPNS is on: datagrams carry their kernel receive time.</summary>
    public bool KernelTimestamps { get; private set; }

    /// <summary>Whether SO_RXQ_OVFL is on: datagrams carry the socket's cumulative drop count.</summary>
    public bool DropCounts { get; private set; }

    public static UdpSocket Open(IPEndPoint endpoint, UdpSourceOptions options)
    {
        var family = endpoint.AddressFamily == AddressFamily.InterNetworkV6 ? LibC.AF_INET6 : LibC.AF_INET;
        var socket = new UdpSocket(Sys.Check(LibC.socket(family, LibC.SOCK_DGRAM | LibC.SOCK_CLOEXEC, 0), "socket(AF_INET, SOCK_DGRAM)"));
        try
        {
            socket.SetUp(endpoint, options);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>The socket's drop count now (SO_MEMINFO), or null when the kernel does not say.</summary>
    public uint? ReadDropCount()
    {
        var info = stackalloc uint[Sys.SK_MEMINFO_VARS];
        socklen_t length = (uint)(Sys.SK_MEMINFO_VARS * sizeof(uint));
        if (LibC.getsockopt(_fd, LibC.SOL_SOCKET, LibC.SO_MEMINFO, info, &length) < 0 || length <= Sys.SK_MEMINFO_DROPS * sizeof(uint))
        {
            return null;
        }

        return info[Sys.SK_MEMINFO_DROPS];
    }

    /// <summary>
    /// Sleeps until a datagram is queued, <see cref="Wake"/> was called or
    /// <paramref name="timeoutMs"/> passed (-1, the default: no timeout, so an idle socket costs no
    /// wake-ups). Returns true when a datagram is queued; false when woken, timed out or
    /// interrupted by a signal: the caller re-checks whether to stop.
    /// </summary>
    public bool WaitReadable(int timeoutMs = -1)
    {
        bool added = false;
        try
        {
            _wake.DangerousAddRef(ref added);
            var fds = stackalloc pollfd[2];
            fds[0] = new pollfd { fd = _fd, events = LibC.POLLIN };
            fds[1] = new pollfd { fd = (int)_wake.DangerousGetHandle(), events = LibC.POLLIN };
            var ready = Sys.poll(fds, 2, timeoutMs);
            return ready > 0 && fds[1].revents == 0 && fds[0].revents != 0;
        }
        finally
        {
            if (added)
            {
                _wake.DangerousRelease();
            }
        }
    }

    /// <summary>Makes the current and every later <see cref="WaitReadable"/> return at once. Thread-safe.</summary>
    public void Wake()
    {
        bool added = false;
        try
        {
            _wake.DangerousAddRef(ref added);
            Sys.SignalEventFd((int)_wake.DangerousGetHandle());
        }
        catch (ObjectDisposedException)
        {
            // Closed already: nothing waits any more.
        }
        finally
        {
            if (added)
            {
                _wake.DangerousRelease();
            }
        }
    }

    public void Dispose()
    {
        var fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0)
        {
            LibC.close(fd);
        }

        _wake.Dispose();
    }

    private void SetUp(IPEndPoint endpoint, UdpSourceOptions options)
    {
        if (options.ReceiveBufferBytes > 0)
        {
            // SO_RCVBUFFORCE ignores net.core.rmem_max but needs CAP_NET_ADMIN; without it,
            // SO_RCVBUF still gets as much as rmem_max allows.
            var size = options.ReceiveBufferBytes;
            if (LibC.setsockopt(_fd, LibC.SOL_SOCKET, LibC.SO_RCVBUFFORCE, &size, sizeof(int)) < 0)
            {
                Sys.SetSocketOption(_fd, LibC.SOL_SOCKET, LibC.SO_RCVBUF, size);
            }
        }

        int granted;
        socklen_t grantedLength = (uint)sizeof(int);
        Sys.Check(LibC.getsockopt(_fd, LibC.SOL_SOCKET, LibC.SO_RCVBUF, &granted, &grantedLength), "getsockopt(SO_RCVBUF)");
        ReceiveBufferBytes = granted;

        KernelTimestamps = TryEnable(LibC.SO_TIMESTAMPNS);
        DropCounts = TryEnable(LibC.SO_RXQ_OVFL);
        Sys.SetReceiveTimeout(_fd, options.StopCheckInterval);
        Bind(endpoint);
    }

    private bool TryEnable(int option)
    {
        var one = 1;
        return LibC.setsockopt(_fd, LibC.SOL_SOCKET, option, &one, sizeof(int)) == 0;
    }

    private void Bind(IPEndPoint endpoint)
    {
        if (endpoint.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var sin6 = new sockaddr_in6
            {
                sin6_family = LibC.AF_INET6,
                sin6_port = BinaryPrimitives.ReverseEndianness((ushort)endpoint.Port),
                sin6_scope_id = (uint)endpoint.Address.ScopeId,
            };
            endpoint.Address.TryWriteBytes(new Span<byte>(sin6.sin6_addr.s6_addr, 16), out _);
            Sys.Check(LibC.bind(_fd, (sockaddr*)&sin6, (uint)sizeof(sockaddr_in6)), "bind", endpoint);
            socklen_t length = (uint)sizeof(sockaddr_in6);
            Sys.Check(LibC.getsockname(_fd, (sockaddr*)&sin6, &length), "getsockname");
            LocalEndPoint = new IPEndPoint(new IPAddress(new ReadOnlySpan<byte>(sin6.sin6_addr.s6_addr, 16), sin6.sin6_scope_id), BinaryPrimitives.ReverseEndianness(sin6.sin6_port));
        }
        else
        {
            var sin = new sockaddr_in
            {
                sin_family = LibC.AF_INET,
                sin_port = BinaryPrimitives.ReverseEndianness((ushort)endpoint.Port),
            };
            endpoint.Address.TryWriteBytes(new Span<byte>(sin.sin_addr.s_addr, 4), out _);
            Sys.Check(LibC.bind(_fd, (sockaddr*)&sin, (uint)sizeof(sockaddr_in)), "bind", endpoint);
            socklen_t length = (uint)sizeof(sockaddr_in);
            Sys.Check(LibC.getsockname(_fd, (sockaddr*)&sin, &length), "getsockname");
            LocalEndPoint = new IPEndPoint(new IPAddress(new ReadOnlySpan<byte>(sin.sin_addr.s_addr, 4)), BinaryPrimitives.ReverseEndianness(sin.sin_port));
        }
    }
}
