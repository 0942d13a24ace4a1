using Ingest.Transports.Interop;
using Microsoft.Win32.SafeHandles;
using Tmds.Linux;

namespace Ingest.Transports.Kingest;

/// <summary>
/// An open /dev/kingest and its ioctls. Failures throw <see cref="ErrnoException"/> naming the
/// ioctl; WAIT retries EINTR itself because the runtime signals its threads.
/// </summary>
public sealed unsafe class KingestDevice : IDisposable
{
    private readonly SafeFileHandle _handle;

    private KingestDevice(SafeFileHandle handle) => _handle = handle;

    public SafeFileHandle Handle => _handle;

    internal int Fd => (int)_handle.DangerousGetHandle();

    public static KingestDevice Open(string path = KingestAbi.DevicePath)
    {
        int fd = Sys.Check(Sys.Open(path, LibC.O_RDWR | LibC.O_CLOEXEC, 0), "open " + path);
        return new KingestDevice(new SafeFileHandle(fd, ownsHandle: true));
    }

    public KingestInfo GetInfo()
    {
        KingestInfo info;
        Ioctl(KingestIoctl.GetInfo, &info, "ioctl KINGEST_IOC_GET_INFO");
        return info;
    }

    /// <summary>Sleeps until the ring holds unconsumed bytes or the timeout passes; returns the bytes (0 on timeout).</summary>
    public ulong Wait(uint timeoutMs)
    {
        var wait = new KingestWait { TimeoutMs = timeoutMs };
        while (LibC.ioctl(Fd, unchecked((int)KingestIoctl.Wait), &wait) < 0)
        {
            int errno = Sys.LastErrno;
            if (errno != LibC.EINTR)
            {
                throw new ErrnoException("ioctl KINGEST_IOC_WAIT", errno);
            }
        }

        return wait.Available;
    }

    /// <summary>
    /// KINGEST_IOC_WAIT_READ (ABI 2): sleeps until the producer has published beyond
    /// <paramref name="readPosition"/> (the caller's read position, not the acknowledged one) or the
    /// timeout passes; returns the bytes beyond it (0 on timeout). Also makes poll(2) on this file
    /// report readable only for records beyond <paramref name="readPosition"/>.
    /// </summary>
    public ulong WaitRead(ulong readPosition, uint timeoutMs)
    {
        var wait = new KingestWaitRead { ReadPos = readPosition, TimeoutMs = timeoutMs };
        while (LibC.ioctl(Fd, unchecked((int)KingestIoctl.WaitRead), &wait) < 0)
        {
            int errno = Sys.LastErrno;
            if (errno != LibC.EINTR)
            {
                throw new ErrnoException("ioctl KINGEST_IOC_WAIT_READ", errno);
            }
        }

        return wait.Available;
    }

    public void SubscribeSignal(int signo)
    {
        var sub = new KingestSignalSubscription { Signo = signo };
        Ioctl(KingestIoctl.SubscribeSignal, &sub, "ioctl KINGEST_IOC_SUBSCRIBE_SIGNAL");
    }

    public void UnsubscribeSignal() => Ioctl(KingestIoctl.UnsubscribeSignal, null, "ioctl KINGEST_IOC_UNSUBSCRIBE_SIGNAL");

    public void SetRate(uint hz) => Ioctl(KingestIoctl.SetRate, &hz, "ioctl KINGEST_IOC_SET_RATE");

    public void SetThreshold(uint sensorId, int thresholdMc)
    {
        var threshold = new KingestThreshold { SensorId = sensorId, ThresholdMc = thresholdMc };
        Ioctl(KingestIoctl.SetThreshold, &threshold, "ioctl KINGEST_IOC_SET_THRESHOLD");
    }

    public void ResetStats() => Ioctl(KingestIoctl.ResetStats, null, "ioctl KINGEST_IOC_RESET_STATS");

    public KingestStats GetStats()
    {
        KingestStats stats;
        Ioctl(KingestIoctl.GetStats, &stats, "ioctl KINGEST_IOC_GET_STATS");
        return stats;
    }

    /// <summary>Emits one event on the given channels; returns the channels that accepted it.</summary>
    public KingestChannelFlags Inject(KingestChannelFlags channels, ushort type, ReadOnlySpan<byte> payload)
    {
        fixed (byte* data = payload)
        {
            var inject = new KingestInject
            {
                Channels = (uint)channels,
                Type = type,
                Length = (uint)payload.Length,
                Data = (ulong)data,
            };
            return (KingestChannelFlags)Ioctl(KingestIoctl.Inject, &inject, "ioctl KINGEST_IOC_INJECT");
        }
    }

    public void Dispose() => _handle.Dispose();

    private int Ioctl(uint request, void* argument, string call)
    {
        bool added = false;
        _handle.DangerousAddRef(ref added);
        try
        {
            return Sys.Check(LibC.ioctl((int)_handle.DangerousGetHandle(), unchecked((int)request), argument), call);
        }
        finally
        {
            _handle.DangerousRelease();
        }
    }
}
