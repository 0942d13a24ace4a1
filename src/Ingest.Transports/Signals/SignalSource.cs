using Ingest.Transports.Events;
using Ingest.Transports.Interop;
using Ingest.Transports.Kingest;
using Tmds.Linux;

namespace Ingest.Transports.Signals;

/// <summary>
/// Reads queued real-time signals on a dedicated thread through a signalfd and writes each as a
/// <c>signal</c> event: signo, code, origin, pid, uid, value (si_int), plus the decoded kingest
/// payload for the module's signals. The timestamp is the receive time: signals carry none.
/// </summary>
/// <remarks>
/// The thread blocks the configured signals and publishes its id (<see cref="ThreadId"/>, and
/// <see cref="SignalSourceOptions.ThreadIdFile"/>); senders direct signals at that thread with
/// rt_tgsigqueueinfo, and the module (when <see cref="SignalSourceOptions.Device"/> is set) after
/// KINGEST_IOC_SUBSCRIBE_SIGNAL from that thread. The signals' disposition is SIG_IGN process
/// wide, so a process-directed one is discarded rather than fatal (see <see cref="SignalDisposition"/>);
/// it stays so after the source stops, for the same reason.
/// <para>
/// Origin: a signal is the module's only if its si_code is KINGEST_SIG_CODE (positive: the kernel
/// refuses positive codes from rt_sigqueueinfo for any process but the sender itself) and its
/// si_band is KINGEST_SIG_BAND (F_SETSIG, the other way to get a positive code queued here, puts a
/// poll mask there); its payload is in si_fd. Other positive codes are the kernel's. A negative
/// code is a user process: one claiming si_pid 0 impersonates the kernel (ABI 1's module signal)
/// and is counted as <c>denied_sender</c> and dropped, as is one whose uid is not in
/// <see cref="SignalSourceOptions.AllowedUids"/>. si_pid and si_uid of a queued signal are the
/// sender's own claim (the kernel checks only that it may signal this process at all), so the uid
/// check is policy, not a security boundary; the module check is.
/// </para>
/// </remarks>
public sealed class SignalSource : IEventSource
{
    private const int BatchSize = 32;

    private static readonly EventName SignalEvent = new("signal");
    private static readonly EventName SignoKey = new("signo");
    private static readonly EventName CodeKey = new("code");
    private static readonly EventName OriginKey = new("origin");
    private static readonly EventName PidKey = new("pid");
    private static readonly EventName UidKey = new("uid");
    private static readonly EventName ValueKey = new("value");
    private static readonly EventName KingestKey = new("kingest");
    private static readonly EventName TypeKey = new("type");
    private static readonly EventName SeqKey = new("seq");
    private static readonly EventName SensorIdKey = new("sensor_id");
    private static readonly EventName DegreesKey = new("degrees_c");
    private static readonly EventName AlarmKey = new("alarm");
    private static readonly EventName FrameKey = new("frame");
    private static readonly EventName NetdevEventKey = new("netdev_event");
    private static readonly EventName IfIndexKey = new("ifindex");
    private static readonly EventName DetailKey = new("detail");
    private static readonly EventName ModuleOrigin = new("module");
    private static readonly EventName KernelOrigin = new("kernel");
    private static readonly EventName UserOrigin = new("user");

    private readonly SignalSourceOptions _options;
    private readonly SenderPolicy _senders;
    private readonly Counter _received;
    private readonly Counter _deniedSender;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _started;
    private volatile int _threadId;

    public SignalSource(SignalSourceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _senders = new SenderPolicy(options.AllowedUids);
        _received = Counters["received"];
        _deniedSender = Counters["denied_sender"];
    }

    public string Channel => "signal";

    public string Name => _options.Name;

    /// <summary>received (every signal read), denied_sender (dropped: si_pid 0 claimed by a user process, or a uid not allowed).</summary>
    public CounterSet Counters { get; } = new();

    /// <summary>The process id senders pass as tgid.</summary>
    public int ProcessId => Environment.ProcessId;

    /// <summary>The reader thread's id, once <see cref="Ready"/> has completed; 0 before.</summary>
    public int ThreadId => _threadId;

    /// <summary>Completes when the reader is blocking, subscribed and published; faults if it could not start.</summary>
    public Task Ready => _ready.Task;

    public Task RunAsync(EventWriter writer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("RunAsync is called once");
        }

        // Before any thread blocks them: from here on a stray process-directed signal is discarded.
        foreach (var signo in _options.Signals)
        {
            SignalDisposition.Ignore(signo);
        }

        return SourceThread.Start($"signal:{Name}", () => Run(writer, cancellationToken), e => _ready.TrySetException(e));
    }

    private unsafe void Run(EventWriter writer, CancellationToken cancellationToken)
    {
        var mask = default(sigset_t);
        foreach (var signo in _options.Signals)
        {
            LibC.sigaddset(&mask, signo);
        }

        // Blocked for the life of this thread, which exits when the source stops.
        var error = LibC.pthread_sigmask(LibC.SIG_BLOCK, &mask, null);
        if (error != 0)
        {
            throw new ErrnoException("pthread_sigmask", error);
        }

        int signalFd = -1, wakeFd = -1, deviceFd = -1;
        var tid = Sys.gettid();
        var published = false;
        CancellationTokenRegistration registration = default;
        try
        {
            signalFd = Sys.Check(Sys.signalfd(-1, &mask, Sys.SFD_NONBLOCK | Sys.SFD_CLOEXEC), "signalfd");
            wakeFd = Sys.Check(LibC.eventfd(0, LibC.EFD_NONBLOCK | LibC.EFD_CLOEXEC), "eventfd");
            if (_options.Device is { } device)
            {
                deviceFd = Subscribe(device, _options.Signals[0]);
            }

            _threadId = tid;
            if (_options.ThreadIdFile is { } path)
            {
                ThreadIdFile.Write(path, ProcessId, tid);
                published = true;
            }

            registration = cancellationToken.UnsafeRegister(static fd => Sys.SignalEventFd((int)fd!), wakeFd);
            _ready.TrySetResult();
            ReadLoop(writer, signalFd, wakeFd, cancellationToken);
        }
        finally
        {
            registration.Dispose();
            if (published)
            {
                ThreadIdFile.Remove(_options.ThreadIdFile!, ProcessId, tid);
            }

            CloseIfOpen(deviceFd);
            CloseIfOpen(wakeFd);
            CloseIfOpen(signalFd);
        }
    }

    private unsafe void ReadLoop(EventWriter writer, int signalFd, int wakeFd, CancellationToken cancellationToken)
    {
        var records = stackalloc signalfd_siginfo[BatchSize];
        var fds = stackalloc pollfd[2];
        while (!cancellationToken.IsCancellationRequested)
        {
            fds[0] = new pollfd { fd = signalFd, events = LibC.POLLIN };
            fds[1] = new pollfd { fd = wakeFd, events = LibC.POLLIN };
            if (Sys.poll(fds, 2, -1) < 0)
            {
                if (Sys.LastErrno == LibC.EINTR)
                {
                    continue;
                }

                throw new ErrnoException("poll(signalfd)", Sys.LastErrno);
            }

            if ((fds[1].revents & LibC.POLLIN) != 0)
            {
                break;
            }

            Drain(writer, signalFd, records);
            writer.Flush();
        }

        // Signals queued before the stop are read, not left to die with the signalfd uncounted.
        Drain(writer, signalFd, records);
        writer.Flush();
    }

    /// <summary>Reads every signal queued on <paramref name="signalFd"/> now (it is non-blocking).</summary>
    private unsafe void Drain(EventWriter writer, int signalFd, signalfd_siginfo* records)
    {
        const int RecordSize = 128;
        while (true)
        {
            long n = LibC.read(signalFd, (byte*)records, BatchSize * RecordSize);
            if (n < 0)
            {
                var errno = Sys.LastErrno;
                if (errno == LibC.EINTR)
                {
                    continue;
                }

                if (errno == LibC.EAGAIN)
                {
                    return;
                }

                throw new ErrnoException("read(signalfd)", errno);
            }

            var count = (int)(n / RecordSize);
            var receivedNs = (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) * 100;
            for (var i = 0; i < count; i++)
            {
                Handle(writer, in records[i], receivedNs);
            }

            if (count < BatchSize)
            {
                return;
            }
        }
    }

    /// <summary>Classifies and writes one signal read from the signalfd (internal: unit tests feed it siginfos only the kernel can send).</summary>
    internal void Handle(EventWriter writer, in signalfd_siginfo info, long receivedNs)
    {
        _received.Increment();
        var code = info.ssi_code;
        var fromModule = code == KingestAbi.SignalCode && info.ssi_band == KingestAbi.SignalBand;
        EventName origin;
        if (fromModule)
        {
            origin = ModuleOrigin;
        }
        else if (code > 0)
        {
            origin = KernelOrigin;
        }
        else if (info.ssi_pid != 0 && _senders.IsAllowed(info.ssi_uid))
        {
            // si_pid 0 from user space is a forgery: every real sender has a pid.
            origin = UserOrigin;
        }
        else
        {
            _deniedSender.Increment();
            return;
        }

        writer.BeginEvent(SignalEvent, receivedNs, fromModule ? 7 : 6);
        writer.Write(SignoKey, (long)info.ssi_signo);
        writer.Write(CodeKey, (long)code);
        writer.Write(OriginKey, origin);
        writer.Write(PidKey, (long)info.ssi_pid);
        writer.Write(UidKey, (long)info.ssi_uid);
        // The module's payload travels in si_fd (the same bytes as si_int for sigwaitinfo callers).
        int value = fromModule ? info.ssi_fd : info.ssi_int;
        writer.Write(ValueKey, (long)value);
        if (fromModule)
        {
            WriteModulePayload(writer, (uint)value);
        }

        writer.EndEvent();
    }

    private static void WriteModulePayload(EventWriter writer, uint value)
    {
        // si_int carries a compressed event (kingest.h, KINGEST_SIG_*): decoded by the ABI mirror.
        var payload = new KingestSignalPayload(value);
        var type = (KingestEventType)payload.Type;
        writer.WriteKey(KingestKey);
        writer.WriteMapHeader(type switch
        {
            KingestEventType.Sensor => 5,
            KingestEventType.Netdev => 4,
            _ => 3,
        });
        writer.Write(TypeKey, (long)payload.Type);
        writer.Write(SeqKey, (long)payload.SequenceLow);
        switch (type)
        {
            case KingestEventType.Sensor:
                writer.Write(SensorIdKey, (long)payload.SensorId);
                writer.Write(DegreesKey, (long)payload.SensorDegreesCelsius);
                writer.Write(AlarmKey, payload.SensorAlarm);
                break;
            case KingestEventType.Image:
                writer.Write(FrameKey, (long)payload.ImageFrameLow);
                break;
            case KingestEventType.Netdev:
                writer.Write(NetdevEventKey, (long)payload.NetdevEvent);
                writer.Write(IfIndexKey, (long)payload.NetdevIfIndexLow);
                break;
            default:
                writer.Write(DetailKey, (long)payload.Detail);
                break;
        }
    }

    /// <summary>Opens the device and subscribes this thread; the subscription lives as long as the fd.</summary>
    private unsafe int Subscribe(string device, int signo)
    {
        var fd = Sys.Open(device, LibC.O_RDWR | LibC.O_CLOEXEC, 0);
        if (fd < 0)
        {
            var errno = Sys.LastErrno;
            if (errno == LibC.ENOENT)
            {
                throw new FileNotFoundException($"signal source '{Name}': device {device} does not exist; load the kingest module, or leave 'device' unset to take signals from stock senders only", device);
            }

            throw new ErrnoException($"open({device})", errno);
        }

        var subscription = new KingestSignalSubscription { Signo = signo };
        if (LibC.ioctl(fd, unchecked((int)KingestIoctl.SubscribeSignal), &subscription) < 0)
        {
            var errno = Sys.LastErrno;
            LibC.close(fd);
            throw new ErrnoException($"ioctl({device}, KINGEST_IOC_SUBSCRIBE_SIGNAL, {signo})", errno);
        }

        return fd;
    }


    private static void CloseIfOpen(int fd)
    {
        if (fd >= 0)
        {
            LibC.close(fd);
        }
    }
}
