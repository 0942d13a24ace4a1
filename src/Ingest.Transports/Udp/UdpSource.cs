using System.Diagnostics;
using System.Net;
using Ingest.Transports.Events;
using Ingest.Transports.Interop;
using Tmds.Linux;

namespace Ingest.Transports.Udp;

/// <summary>
/// Receives the datagrams sent to one UDP endpoint (a kernel socket's, or anyone's) with
/// recvmmsg on a dedicated thread, and writes each as a <c>datagram</c> event:
/// <c>{"src": "ip:port", "payload": bin}</c> stamped with the kernel's receive time.
/// </summary>
/// <remarks>
/// The socket is bound by the constructor, so a bad or busy endpoint fails at startup and
/// datagrams queue in the kernel until <see cref="RunAsync"/> starts reading. Counters:
/// <c>datagrams</c> (received from the kernel), <c>batches</c> (recvmmsg calls that returned
/// datagrams: datagrams / batches is how full the batches run), <c>truncated</c> (larger than
/// <see cref="UdpSourceOptions.MaxDatagramSize"/>: dropped), <c>zero_length</c> (dropped),
/// <c>kernel_dropped</c> (the socket's queue overflowed before we read), <c>control_truncated</c>
/// (no room for the timestamp: receive time used) and <c>receive_errors</c>.
/// </remarks>
public sealed unsafe class UdpSource : IEventSource, IDisposable
{
    private static readonly EventName DatagramType = new("datagram");
    private static readonly EventName SrcKey = new("src");
    private static readonly EventName PayloadKey = new("payload");

    private const int Idle = 0;
    private const int Running = 1;
    private const int Released = 2;

    private readonly int _receiveThreadNice;
    private readonly TimeSpan _coalesceDelay;
    private readonly TimeSpan _flushInterval;
    private readonly UdpSocket _socket;
    private readonly ReceiveVector _vector;
    private readonly SourceAddressCache _addresses = new();
    private readonly Action<string>? _log;
    private readonly KingestDatagramParser? _kingest;
    private readonly Counter _datagrams;
    private readonly Counter _batches;
    private readonly Counter _truncated;
    private readonly Counter _zeroLength;
    private readonly Counter _kernelDropped;
    private readonly Counter _controlTruncated;
    private readonly Counter _receiveErrors;
    private readonly Stopwatch _sinceErrorLog = new();
    private uint _lastDropCount;
    private long _errorsNotLogged;
    private int _state;
    private volatile bool _disposeRequested;

    public UdpSource(UdpSourceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var endpoint = UdpEndpoint.Parse(options.Endpoint);
        _log = options.Log;
        _receiveThreadNice = options.ReceiveThreadNice;
        _coalesceDelay = options.CoalesceDelay;
        _flushInterval = options.FlushInterval;
        _socket = UdpSocket.Open(endpoint, options);
        try
        {
            _vector = new ReceiveVector(options.ReceiveBatch, options.MaxDatagramSize);
        }
        catch
        {
            _socket.Dispose();
            throw;
        }

        Name = _socket.LocalEndPoint.ToString();
        _datagrams = Counters["datagrams"];
        _batches = Counters["batches"];
        _truncated = Counters["truncated"];
        _zeroLength = Counters["zero_length"];
        _kernelDropped = Counters["kernel_dropped"];
        _controlTruncated = Counters["control_truncated"];
        _receiveErrors = Counters["receive_errors"];
        _kingest = options.Format == UdpDatagramFormat.Kingest ? new KingestDatagramParser(Counters) : null;
        _log?.Invoke($"udp {Name}: receive buffer {ReceiveBufferBytes} bytes granted ({options.ReceiveBufferBytes} asked), " +
            $"batch {options.ReceiveBatch} x {options.MaxDatagramSize} bytes, kernel timestamps {(KernelTimestamps ? "on" : "off")}, " +
            $"drop counts {(_socket.DropCounts ? "on" : "off")}, receive thread nice {options.ReceiveThreadNice}");
    }

    public string Channel => "udp";

    /// <summary>The bound endpoint, "ip:port" or "[ip]:port".</summary>
    public string Name { get; }

    public CounterSet Counters { get; } = new();

    /// <summary>The bound endpoint (the real port when the options asked for port 0).</summary>
    public IPEndPoint LocalEndPoint => _socket.LocalEndPoint;

    /// <summary>SO_RCVBUF the kernel granted (it reports twice the payload room, for its overhead).</summary>
    public int ReceiveBufferBytes => _socket.ReceiveBufferBytes;

    /// <summary>
    /// The receive thread's nice value once it runs: <see cref="UdpSourceOptions.ReceiveThreadNice"/>,
    /// or 0 when the kernel refused it (no CAP_SYS_NICE); null before the thread starts.
    /// </summary>
    public int? ReceiveThreadNice { get; private set; }

    /// <summary>Whether events carry the kernel receive time (SO_TIMESTAMPNS) rather than the read time.</summary>
    public bool KernelTimestamps => _socket.KernelTimestamps;

    public Task RunAsync(EventWriter writer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (Interlocked.CompareExchange(ref _state, Running, Idle) != Idle)
        {
            throw new InvalidOperationException($"udp {Name}: RunAsync is called once, before Dispose");
        }

        return SourceThread.Start("udp " + Name, () => Run(writer, cancellationToken), onExit: Release);
    }

    /// <summary>Closes the socket now, or wakes the running loop, which closes it on its way out.</summary>
    public void Dispose()
    {
        _disposeRequested = true;
        if (Interlocked.CompareExchange(ref _state, Released, Idle) == Idle)
        {
            ReleaseResources();
        }
        else
        {
            _socket.Wake();
        }
    }

    /// <summary>
    /// One recvmmsg: takes what is queued (up to the batch size) and writes the events; with
    /// <paramref name="dontWait"/> (the receive loop) it returns 0 at once on an empty queue,
    /// otherwise (tests) it blocks up to the socket's receive timeout for the first datagram.
    /// It does not flush: the caller decides when the events are handed over (the writer hands
    /// over a full chunk itself). Returns the datagrams read, 0 when none came (empty queue,
    /// timeout, signal, counted error). Runs on the receive thread.
    /// </summary>
    internal int ReceiveBatch(EventWriter writer, bool dontWait = false)
    {
        var flags = dontWait ? LibC.MSG_WAITFORONE | LibC.MSG_DONTWAIT : LibC.MSG_WAITFORONE;
        var count = Sys.recvmmsg(_socket.Fd, _vector.Messages, (uint)_vector.Count, flags, null);
        if (count <= 0)
        {
            if (count < 0)
            {
                OnReceiveError(Sys.LastErrno);
            }

            return 0;
        }

        long readTimeNs = 0;
        for (var i = 0; i < count; i++)
        {
            var header = _vector.Header(i);
            var timestampNs = ReadControlMessages(header);
            if ((header->msg_flags & LibC.MSG_TRUNC) != 0)
            {
                // The payload is cut at MaxDatagramSize: a partial record is worse than none.
                _truncated.Increment();
                continue;
            }

            var length = (int)_vector.Messages[i].msg_len;
            if (length == 0)
            {
                _zeroLength.Increment();
                continue;
            }

            if (timestampNs == 0)
            {
                readTimeNs = readTimeNs != 0 ? readTimeNs : (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) * TimeSpan.NanosecondsPerTick;
                timestampNs = readTimeNs;
            }

            if (_kingest is not null)
            {
                _kingest.Write(writer, _vector.Payload(i, length));
                continue;
            }

            writer.BeginEvent(DatagramType, timestampNs, 2);
            writer.WriteString(SrcKey, _addresses.Format(_vector.Address(i)));
            writer.WriteBinary(PayloadKey, _vector.Payload(i, length));
            writer.EndEvent();
        }

        _datagrams.Add(count);
        _batches.Increment();
        _vector.Rearm(count);
        return count;
    }

    /// <summary>
    /// Catches up on drops no datagram has reported yet: SO_RXQ_OVFL only rides on datagrams that
    /// were queued after a drop, so a drop at the end of a burst is seen here, when the queue is idle.
    /// </summary>
    internal void SyncDropCount()
    {
        if (_socket.ReadDropCount() is { } total)
        {
            ObserveDropCount(total);
        }
    }

    private void Run(EventWriter writer, CancellationToken cancellationToken)
    {
        SetReceiveThreadNice();

        // Idle, the thread sleeps in poll with no timeout (no periodic wake-up to look at
        // cancellation): cancellation and Dispose wake it through the socket's eventfd.
        using var registration = cancellationToken.UnsafeRegister(static s => ((UdpSocket)s!).Wake(), _socket);
        var coalesce = _coalesceDelay;
        var flushTicks = (long)(_flushInterval.TotalSeconds * Stopwatch.Frequency);

        // Stopwatch ticks when the oldest event not yet flushed was read; 0: none held.
        long heldSince = 0;
        while (!cancellationToken.IsCancellationRequested && !_disposeRequested)
        {
            var count = ReceiveBatch(writer, dontWait: true);
            if (count > 0)
            {
                var now = Stopwatch.GetTimestamp();
                if (heldSince == 0)
                {
                    heldSince = now;
                }

                if (now - heldSince >= flushTicks)
                {
                    writer.Flush();
                    heldSince = 0;
                }
                else if (count < _vector.Count && coalesce > TimeSpan.Zero)
                {
                    // A short read means the senders are slower than this loop. Rather than pay a
                    // system call and a wake-up per handful of datagrams, let the kernel queue
                    // more first: latency grows by the delay, CPU per datagram falls.
                    Sys.Sleep(coalesce);
                }

                continue;
            }

            // The queue is empty: the poll that waits for the next datagram is also the only
            // recvmmsg-free moment to catch up on drops (SyncDropCount).
            SyncDropCount();
            if (heldSince == 0)
            {
                _socket.WaitReadable();
                continue;
            }

            // Events are held: wait for more only until they are due, then hand them over.
            var dueMs = (int)Math.Ceiling((flushTicks - (Stopwatch.GetTimestamp() - heldSince)) * 1000.0 / Stopwatch.Frequency);
            if (dueMs > 0 && _socket.WaitReadable(dueMs))
            {
                continue;
            }

            writer.Flush();
            heldSince = 0;
            if (dueMs > 0)
            {
                // poll timed out on an empty queue: sleep on straight away rather than first
                // asking recvmmsg again (an arrival in between leaves the socket readable).
                _socket.WaitReadable();
            }
        }

        SyncDropCount();
        writer.Flush();
    }

    private void SetReceiveThreadNice()
    {
        if (_receiveThreadNice == 0)
        {
            ReceiveThreadNice = 0;
            return;
        }

        if (ThreadNice.TrySetCurrent(_receiveThreadNice) is not { } refused)
        {
            ReceiveThreadNice = _receiveThreadNice;
            return;
        }

        ReceiveThreadNice = 0;
        _log?.Invoke($"udp {Name}: receive thread stays at nice 0, not {_receiveThreadNice}: {refused.Message}" +
            (_receiveThreadNice < 0 ? " (a negative nice needs CAP_SYS_NICE; with busy CPUs the socket buffer overflows sooner)" : string.Empty));
    }

    /// <summary>Returns the kernel receive time in Unix nanoseconds (0 when absent) and accounts drops.</summary>
    private long ReadControlMessages(msghdr* header)
    {
        if ((header->msg_flags & LibC.MSG_CTRUNC) != 0)
        {
            _controlTruncated.Increment();
        }

        long timestampNs = 0;
        for (var cmsg = LibC.CMSG_FIRSTHDR(header); cmsg is not null; cmsg = LibC.CMSG_NXTHDR(header, cmsg))
        {
            if (cmsg->cmsg_level != LibC.SOL_SOCKET)
            {
                continue;
            }

            var data = LibC.CMSG_DATA(cmsg);
            var dataLength = (uint)cmsg->cmsg_len - (uint)LibC.CMSG_LEN(0);

            // SCM_TIMESTAMPNS and the drop count's cmsg type share their option's number.
            if (cmsg->cmsg_type == LibC.SO_TIMESTAMPNS && dataLength >= sizeof(timespec))
            {
                var ts = (timespec*)data;
                timestampNs = ((long)ts->tv_sec * 1_000_000_000) + (long)ts->tv_nsec;
            }
            else if (cmsg->cmsg_type == LibC.SO_RXQ_OVFL && dataLength >= sizeof(uint))
            {
                ObserveDropCount(*(uint*)data);
            }
        }

        return timestampNs;
    }

    /// <summary>The kernel reports the socket's cumulative drop count; add what is new since the last report.</summary>
    private void ObserveDropCount(uint total)
    {
        // Unsigned difference survives the u32 wrapping; a "negative" one is an older snapshot.
        var delta = (int)(total - _lastDropCount);
        if (delta > 0)
        {
            _lastDropCount = total;
            _kernelDropped.Add(delta);
        }
    }

    private void OnReceiveError(int errno)
    {
        if (errno == LibC.EAGAIN || errno == LibC.EINTR)
        {
            return; // receive timeout or a signal: the loop checks cancellation and goes on
        }

        _receiveErrors.Increment();

        // A persistent error must neither spin a core nor flood the log: one line a second at
        // most, with the count of the errors it stands for.
        if (!_sinceErrorLog.IsRunning || _sinceErrorLog.Elapsed >= TimeSpan.FromSeconds(1))
        {
            _log?.Invoke($"udp {Name}: recvmmsg failed: {new ErrnoException("recvmmsg", errno).Message}" +
                (_errorsNotLogged > 0 ? $" ({_errorsNotLogged} more since the last report)" : string.Empty));
            _errorsNotLogged = 0;
            _sinceErrorLog.Restart();
        }
        else
        {
            _errorsNotLogged++;
        }

        Thread.Sleep(10);
    }

    private void Release()
    {
        Volatile.Write(ref _state, Released);
        ReleaseResources();
    }

    private void ReleaseResources()
    {
        _socket.Dispose();
        _vector.Dispose();
    }
}
