using System.Buffers;
using System.Diagnostics;
using Ingest.Transports.Events;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ingest.Transports.Netlink;

/// <summary>
/// The receive loop every netlink source shares, on a dedicated thread: drain the socket without
/// blocking, flush the writer when it runs dry, then poll the socket and a wake-up eventfd.
/// Datagrams not sent by the kernel are counted ("foreign_sender") and dropped; ENOBUFS is
/// counted ("overrun") and logged once per burst (at most once every 10 s); oversized datagrams are counted
/// ("truncated"). Subclasses subscribe and decode.
/// </summary>
public abstract class NetlinkSource : IEventSource
{
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Counter _foreignSender;
    /// <summary>Overrun warnings are logged at most this often; the counter counts every one.</summary>
    private static readonly TimeSpan OverrunLogInterval = TimeSpan.FromSeconds(10);

    private readonly Counter _overrun;
    private readonly Counter _truncated;
    private volatile NetlinkSocket? _socket;
    private int _started;

    protected NetlinkSource(NetlinkProtocol protocol, uint groupMask, NetlinkSourceOptions? options, ILogger? logger)
    {
        Protocol = protocol;
        GroupMask = groupMask;
        Options = options ?? new NetlinkSourceOptions();
        Logger = logger ?? NullLogger.Instance;
        _foreignSender = Counters["foreign_sender"];
        _overrun = Counters["overrun"];
        _truncated = Counters["truncated"];
        Malformed = Counters["malformed"];
    }

    public string Channel => "netlink";

    public abstract string Name { get; }

    public CounterSet Counters { get; } = new();

    /// <summary>Completes once the socket is open and subscribed (faults if that failed).</summary>
    public Task Ready => _ready.Task;

    /// <summary>The socket's port id once <see cref="Ready"/>; 0 before.</summary>
    public uint PortId => _socket?.PortId ?? 0;

    /// <summary>The receive buffer size the kernel granted, once <see cref="Ready"/>.</summary>
    public int ReceiveBufferSize { get; private set; }

    protected NetlinkProtocol Protocol { get; }

    protected uint GroupMask { get; }

    protected NetlinkSourceOptions Options { get; }

    protected ILogger Logger { get; }

    /// <summary>Messages whose structure failed a bounds check; each is dropped whole.</summary>
    protected Counter Malformed { get; }

    public Task RunAsync(EventWriter writer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException($"{Name}: RunAsync is called once");
        }

        return SourceThread.Start($"netlink:{Name}", () => Run(writer, cancellationToken));
    }

    /// <summary>Joins groups or resolves what the source needs, on the receive thread.</summary>
    protected virtual void Subscribe(NetlinkSocket socket)
    {
    }

    /// <summary>How long to wait for data before <see cref="OnIdle"/> (-1: forever).</summary>
    protected virtual int IdleTimeoutMs => -1;

    /// <summary>Called when <see cref="IdleTimeoutMs"/> passed with nothing to read.</summary>
    protected virtual void OnIdle(NetlinkSocket socket)
    {
    }

    /// <summary>Called on each ENOBUFS, after it is counted: the kernel dropped messages.</summary>
    protected virtual void OnOverrun(NetlinkSocket socket)
    {
    }

    /// <summary>Called when the socket has been drained and the writer flushed, before waiting.</summary>
    protected virtual void OnDrained(NetlinkSocket socket)
    {
    }

    /// <summary>Decodes one datagram the kernel sent and writes its events.</summary>
    protected abstract void OnDatagram(NetlinkSocket socket, ReadOnlySpan<byte> datagram, EventWriter writer, long receivedNs);

    /// <summary>Receive time as Unix nanoseconds: netlink carries no kernel timestamp.</summary>
    protected static long NowUnixNs() => (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) * 100;

    private void Run(EventWriter writer, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Options.DatagramBufferSize);
        try
        {
            using var socket = Open();
            using var registration = cancellationToken.UnsafeRegister(static s => ((NetlinkSocket)s!).Wake(), socket);
            _socket = socket;
            _ready.TrySetResult();
            Receive(socket, buffer, writer, cancellationToken);
        }
        catch (Exception e)
        {
            _ready.TrySetException(e);
            throw;
        }
        finally
        {
            writer.Flush();
            _socket = null;
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private NetlinkSocket Open()
    {
        var socket = NetlinkSocket.Open(Protocol, GroupMask, Options.NetworkNamespace);
        try
        {
            if (Options.ReceiveBufferSize > 0 && !socket.SetReceiveBufferSize(Options.ReceiveBufferSize))
            {
                Logger.LogInformation("{Source}: no CAP_NET_ADMIN for SO_RCVBUFFORCE; receive buffer capped by net.core.rmem_max", Name);
            }

            ReceiveBufferSize = socket.ReceiveBufferSize;
            Subscribe(socket);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private void Receive(NetlinkSocket socket, byte[] buffer, EventWriter writer, CancellationToken cancellationToken)
    {
        var inOverrun = false;
        long lastOverrunLog = 0;
        var unflushed = 0;
        var flushedSequence = writer.NextSequence;
        while (!cancellationToken.IsCancellationRequested)
        {
            var result = socket.TryReceive(buffer);
            switch (result.Status)
            {
                case NetlinkReceiveStatus.WouldBlock:
                    if (writer.NextSequence != flushedSequence)
                    {
                        writer.Flush();
                        flushedSequence = writer.NextSequence;
                    }

                    unflushed = 0;
                    inOverrun = false; // drained: the next ENOBUFS starts a new burst
                    OnDrained(socket);
                    if (!socket.Wait(IdleTimeoutMs) && !socket.IsWoken && !cancellationToken.IsCancellationRequested)
                    {
                        OnIdle(socket);
                    }

                    continue;
                case NetlinkReceiveStatus.Overrun:
                    _overrun.Increment();

                    // One line per burst, and at most one per interval: a buffer that keeps
                    // flapping shows in the counter, not as a line per drain.
                    if (!inOverrun && (lastOverrunLog == 0 || Stopwatch.GetElapsedTime(lastOverrunLog) >= OverrunLogInterval))
                    {
                        lastOverrunLog = Stopwatch.GetTimestamp();
                        Logger.LogWarning(
                            "{Source}: receive buffer overrun (ENOBUFS), the kernel dropped messages; buffer {Bytes} bytes, {Overruns} overruns so far",
                            Name,
                            ReceiveBufferSize,
                            _overrun.Value);
                    }

                    inOverrun = true;
                    OnOverrun(socket);
                    continue;
                case NetlinkReceiveStatus.Truncated:
                    _truncated.Increment();
                    continue;
            }

            if (!result.FromKernel)
            {
                _foreignSender.Increment();
                continue;
            }

            OnDatagram(socket, buffer.AsSpan(0, result.Length), writer, NowUnixNs());
            if (++unflushed >= Options.MaxDatagramsPerFlush && writer.NextSequence != flushedSequence)
            {
                writer.Flush();
                flushedSequence = writer.NextSequence;
                unflushed = 0;
            }
        }
    }
}
