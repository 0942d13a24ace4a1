using Ingest.Transports.Events;
using Ingest.Transports.Interop;
using Tmds.Linux;

namespace Ingest.Transports.Upcall;

/// <summary>
/// Receives what the upcall helper (helper/ingest-upcall.c) forwards: it listens on a Unix
/// SOCK_SEQPACKET socket, checks each peer's SO_PEERCRED uid, reads one message per connection
/// and writes an <c>upcall</c> event {pid, uid, gid, argv: [...], env: {K: V}}, plus a typed
/// <c>kingest</c> map when argv is the module's. The timestamp is the module's ts_ns when there is
/// one, else the receive time.
/// </summary>
/// <remarks>
/// Connections are served one at a time on a dedicated thread: the helper connects, sends at once
/// and exits, and <see cref="UpcallSourceOptions.ReceiveTimeout"/> bounds a peer that does not.
/// Counters: received, denied_peer, malformed, oversize, timeout, malformed_kingest (a message
/// whose argv[1] is "event" but whose fields do not parse: written without the kingest map).
/// </remarks>
public sealed class UpcallSource : IEventSource
{

    private static readonly EventName UpcallEvent = new("upcall");
    private static readonly EventName PidKey = new("pid");
    private static readonly EventName UidKey = new("uid");
    private static readonly EventName GidKey = new("gid");
    private static readonly EventName ArgvKey = new("argv");
    private static readonly EventName EnvKey = new("env");
    private static readonly EventName KingestKey = new("kingest");
    private static readonly EventName TypeKey = new("type");
    private static readonly EventName SeqKey = new("seq");
    private static readonly EventName TimestampKey = new("ts_ns");
    private static readonly EventName PayloadKey = new("payload");
    private static readonly EventName LengthKey = new("len");
    private static readonly EventName TruncatedKey = new("truncated");

    private readonly UpcallSourceOptions _options;
    private readonly SenderPolicy _senders;
    private readonly byte[] _buffer;
    private readonly EventNameCache _envKeys = new(capacity: 256);
    private readonly Counter _received;
    private readonly Counter _deniedPeer;
    private readonly Counter _malformed;
    private readonly Counter _oversize;
    private readonly Counter _timeout;
    private readonly Counter _malformedKingest;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _started;

    public UpcallSource(UpcallSourceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _senders = new SenderPolicy(options.AllowedUids);

        // One byte more than allowed, pinned: a longer message shows as MSG_TRUNC or a full buffer.
        _buffer = GC.AllocateUninitializedArray<byte>(options.MaxMessageBytes + 1, pinned: true);
        _received = Counters["received"];
        _deniedPeer = Counters["denied_peer"];
        _malformed = Counters["malformed"];
        _oversize = Counters["oversize"];
        _timeout = Counters["timeout"];
        _malformedKingest = Counters["malformed_kingest"];
    }

    public string Channel => "upcall";

    public string Name => _options.Name;

    public CounterSet Counters { get; } = new();

    /// <summary>Completes when the socket accepts connections; faults if it could not be set up.</summary>
    public Task Ready => _ready.Task;

    public Task RunAsync(EventWriter writer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("RunAsync is called once");
        }

        return SourceThread.Start($"upcall:{Name}", () => Run(writer, cancellationToken), e => _ready.TrySetException(e));
    }

    private unsafe void Run(EventWriter writer, CancellationToken cancellationToken)
    {
        using var listener = SeqpacketListener.Create(_options.SocketPath, _options.SocketMode);
        var wakeFd = Sys.Check(LibC.eventfd(0, LibC.EFD_NONBLOCK | LibC.EFD_CLOEXEC), "eventfd");
        try
        {
            using var registration = cancellationToken.UnsafeRegister(static fd => Sys.SignalEventFd((int)fd!), wakeFd);
            _ready.TrySetResult();
            var fds = stackalloc pollfd[2];
            while (!cancellationToken.IsCancellationRequested)
            {
                fds[0] = new pollfd { fd = listener.Fd, events = LibC.POLLIN };
                fds[1] = new pollfd { fd = wakeFd, events = LibC.POLLIN };
                if (Sys.poll(fds, 2, -1) < 0)
                {
                    if (Sys.LastErrno == LibC.EINTR)
                    {
                        continue;
                    }

                    throw new ErrnoException("poll(upcall socket)", Sys.LastErrno);
                }

                if ((fds[1].revents & LibC.POLLIN) != 0)
                {
                    break;
                }

                // Serve every connection already queued, then hand the burst to the pipeline.
                int connection;
                while ((connection = LibC.accept4(listener.Fd, (sockaddr*)null, null, LibC.SOCK_CLOEXEC | LibC.SOCK_NONBLOCK)) >= 0)
                {
                    try
                    {
                        Serve(writer, connection);
                    }
                    finally
                    {
                        LibC.close(connection);
                    }
                }

                var errno = Sys.LastErrno;
                if (errno != LibC.EAGAIN && errno != LibC.EINTR && errno != LibC.ECONNABORTED) // ECONNABORTED: the peer gave up while queued
                {
                    throw new ErrnoException("accept4(upcall socket)", errno);
                }

                writer.Flush();
            }
        }
        finally
        {
            LibC.close(wakeFd);
        }

        writer.Flush();
    }

    private unsafe void Serve(EventWriter writer, int connection)
    {
        var credentials = default(ucred);
        socklen_t length = (uint)sizeof(ucred);
        Sys.Check(LibC.getsockopt(connection, LibC.SOL_SOCKET, LibC.SO_PEERCRED, &credentials, &length), "getsockopt(SO_PEERCRED)");
        if (!_senders.IsAllowed(credentials.uid))
        {
            _deniedPeer.Increment();
            return;
        }

        var received = Receive(connection);
        if (received < 0)
        {
            return;
        }

        _received.Increment();
        var message = _buffer.AsSpan(0, received);
        if (!UpcallMessage.TryParse(message, _options.MaxStrings, out var parsed))
        {
            _malformed.Increment();
            return;
        }

        Write(writer, parsed, credentials);
    }

    /// <summary>Reads the one message, waiting at most ReceiveTimeout; -1 when there is none to use (counted).</summary>
    private unsafe int Receive(int connection)
    {
        var deadline = Environment.TickCount64 + (long)_options.ReceiveTimeout.TotalMilliseconds;
        fixed (byte* buffer = _buffer)
        {
            while (true)
            {
                var io = new iovec { iov_base = buffer, iov_len = _buffer.Length };
                var header = new msghdr { msg_iov = &io, msg_iovlen = 1 };
                long n = LibC.recvmsg(connection, &header, 0);
                if (n > 0)
                {
                    if ((header.msg_flags & LibC.MSG_TRUNC) != 0 || n > _options.MaxMessageBytes)
                    {
                        _oversize.Increment();
                        return -1;
                    }

                    return (int)n;
                }

                if (n == 0)
                {
                    // The peer closed without sending.
                    _malformed.Increment();
                    return -1;
                }

                var errno = Sys.LastErrno;
                if (errno == LibC.EINTR)
                {
                    continue;
                }

                if (errno != LibC.EAGAIN)
                {
                    _malformed.Increment();
                    return -1;
                }

                var remaining = deadline - Environment.TickCount64;
                var fd = new pollfd { fd = connection, events = LibC.POLLIN };
                if (remaining <= 0 || (Sys.poll(&fd, 1, (int)remaining) == 0))
                {
                    _timeout.Increment();
                    return -1;
                }
            }
        }
    }

    private void Write(EventWriter writer, in UpcallMessage message, in ucred credentials)
    {
        Span<byte> payload = stackalloc byte[KingestUpcall.MaxPayload];
        var kingest = default(KingestUpcall);
        var isKingest = KingestUpcall.IsKingest(message);
        if (isKingest && !KingestUpcall.TryDecode(message, payload, out kingest))
        {
            _malformedKingest.Increment();
            isKingest = false;
        }

        var timestamp = isKingest ? kingest.TimestampNs : (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) * 100;
        writer.BeginEvent(UpcallEvent, timestamp, isKingest ? 6 : 5);
        writer.Write(PidKey, (long)credentials.pid);
        writer.Write(UidKey, (long)credentials.uid);
        writer.Write(GidKey, (long)credentials.gid);
        var strings = message.GetEnumerator();
        writer.WriteKey(ArgvKey);
        writer.WriteArrayHeader(message.ArgCount);
        for (var i = 0; i < message.ArgCount; i++)
        {
            strings.MoveNext();
            writer.WriteString(strings.Current);
        }

        writer.WriteKey(EnvKey);
        writer.WriteMapHeader(message.EnvCount);
        for (var i = 0; i < message.EnvCount; i++)
        {
            strings.MoveNext();
            var entry = strings.Current;
            var eq = entry.IndexOf((byte)'=');
            writer.WriteString(_envKeys.Get(entry[..eq]), entry[(eq + 1)..]);
        }

        if (isKingest)
        {
            writer.WriteKey(KingestKey);
            writer.WriteMapHeader(6);
            writer.Write(TypeKey, (long)kingest.Type);
            writer.Write(SeqKey, kingest.Seq);
            writer.Write(TimestampKey, kingest.TimestampNs);
            writer.WriteBinary(PayloadKey, payload[..kingest.PayloadLength]);
            writer.Write(LengthKey, (long)kingest.FullLength);
            writer.Write(TruncatedKey, kingest.Truncated);
        }

        writer.EndEvent();
    }
}
