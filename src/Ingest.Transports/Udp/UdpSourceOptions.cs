namespace Ingest.Transports.Udp;

/// <summary>One UDP endpoint to receive on. Several endpoints are several <see cref="UdpSource"/>s.</summary>
public sealed class UdpSourceOptions
{
    public const string DefaultEndpoint = "127.0.0.1:5555";

    /// <summary>The largest UDP payload over IPv4 (65535 - 8 byte UDP header - 20 byte IP header).</summary>
    public const int DefaultMaxDatagramSize = 65507;

    /// <summary>
    /// 256: a recvmmsg is one system call whatever it returns, and at full speed the receive thread
    /// is the bottleneck; a slot costs address space and, once used, one resident page.
    /// </summary>
    public const int DefaultReceiveBatch = 256;

    public const int DefaultReceiveBufferBytes = 8 * 1024 * 1024;

    /// <summary>The receive thread's nice value by default: weighted about 3x a default thread.</summary>
    public const int DefaultReceiveThreadNice = -5;

    /// <summary>"ip:port" to bind, IPv4 or bracketed IPv6 (see <see cref="UdpEndpoint"/>).</summary>
    public string Endpoint { get; set; } = DefaultEndpoint;

    /// <summary>
    /// Bytes reserved per datagram slot. Larger datagrams are dropped and counted as "truncated".
    /// The default accepts anything IPv4 can carry; the slots are reserved but only the pages a
    /// datagram touches become resident, so a large value costs address space, not memory.
    /// </summary>
    public int MaxDatagramSize { get; set; } = DefaultMaxDatagramSize;

    /// <summary>Datagrams one recvmmsg call can return (its vlen): one flush per batch.</summary>
    public int ReceiveBatch { get; set; } = DefaultReceiveBatch;

    /// <summary>
    /// Socket receive buffer asked for: SO_RCVBUFFORCE when privileged (CAP_NET_ADMIN), else
    /// SO_RCVBUF, which net.core.rmem_max caps. The size granted is logged and exposed.
    /// </summary>
    public int ReceiveBufferBytes { get; set; } = DefaultReceiveBufferBytes;

    /// <summary>
    /// SO_RCVTIMEO: how long a blocking receive (<c>ReceiveBatch</c> without dontWait, which only
    /// tests use) waits. The receive loop itself never blocks in recvmmsg: idle, it sleeps in poll.
    /// </summary>
    public TimeSpan StopCheckInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// After a receive that did not fill the batch, wait this long before the next one so the
    /// kernel can queue more (fewer system calls, wake-ups and flushes per datagram). Adds at most
    /// this much latency; <see cref="TimeSpan.Zero"/> disables it. The socket buffer must hold this
    /// much traffic at the peak rate (8 MiB holds about 8 ms at 1M small datagrams/s).
    /// </summary>
    public TimeSpan CoalesceDelay { get; set; } = TimeSpan.FromMicroseconds(500);

    /// <summary>
    /// Longest the receive thread holds events it has read before handing them to the pipeline.
    /// A full chunk is handed over at once; a partial one waits this long for more, so a steady
    /// stream costs one hand-over (and one batcher wake-up) per chunk or per interval, not one per
    /// recvmmsg. Adds at most this much latency in front of the batcher's linger.
    /// </summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromMilliseconds(2);

    /// <summary>
    /// Nice value of the receive thread (-20..19; 0 leaves it as the process is). The receive
    /// thread is the one place where being late loses data: the kernel drops what overflows the
    /// socket buffer, while everything after it waits in bounded buffers or the spool. Below 0 it
    /// runs ahead of the daemon's other threads and of other processes when the CPUs are busy;
    /// that needs CAP_SYS_NICE, and without it the thread stays as it is and the log says so.
    /// </summary>
    public int ReceiveThreadNice { get; set; } = DefaultReceiveThreadNice;

    /// <summary>Raw datagram events, or the kingest module's datagrams decoded into typed events.</summary>
    public UdpDatagramFormat Format { get; set; } = UdpDatagramFormat.Raw;

    /// <summary>Where the source reports what it set up and the errors it counts. Optional.</summary>
    public Action<string>? Log { get; set; }

    internal void Validate()
    {
        if (MaxDatagramSize is < 1 or > 65535)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxDatagramSize), MaxDatagramSize, "must be 1..65535");
        }

        if (ReceiveBatch is < 1 or > 1024)
        {
            // UIO_MAXIOV: the kernel caps recvmmsg's vlen at 1024.
            throw new ArgumentOutOfRangeException(nameof(ReceiveBatch), ReceiveBatch, "must be 1..1024");
        }

        if (ReceiveBufferBytes < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(ReceiveBufferBytes), ReceiveBufferBytes, "must not be negative (0 keeps the system default)");
        }

        if (CoalesceDelay < TimeSpan.Zero || CoalesceDelay > TimeSpan.FromMilliseconds(100))
        {
            throw new ArgumentOutOfRangeException(nameof(CoalesceDelay), CoalesceDelay, "must be in [0, 100 ms]");
        }

        if (FlushInterval < TimeSpan.Zero || FlushInterval > TimeSpan.FromSeconds(1))
        {
            throw new ArgumentOutOfRangeException(nameof(FlushInterval), FlushInterval, "must be in [0, 1 s]");
        }

        if (ReceiveThreadNice is < -20 or > 19)
        {
            throw new ArgumentOutOfRangeException(nameof(ReceiveThreadNice), ReceiveThreadNice, "must be -20..19");
        }

        if (StopCheckInterval <= TimeSpan.Zero || StopCheckInterval > TimeSpan.FromSeconds(1))
        {
            throw new ArgumentOutOfRangeException(nameof(StopCheckInterval), StopCheckInterval, "must be in (0, 1 s]");
        }
    }
}
