using Ingest.Transports.Interop;
using Ingest.Transports.Kingest;

namespace Ingest.Transports.Ring;

/// <summary>
/// The module's ring: /dev/kingest mapped read-only whole (meta, producer, data) plus its consumer
/// page mapped writable, as the module allows. Waits with poll(2) on the device beside a wake-up
/// eventfd.
/// </summary>
/// <remarks>
/// The consumer reads ahead of what it has published (it publishes only once Kafka acknowledges),
/// so it waits on its *read* position (ABI 2): KINGEST_IOC_WAIT_READ with timeout 0 records that
/// position in the open file and returns at once; poll(2) then reports the device readable only
/// for records beyond it, and returns early on the wake-up fd. No sleep loop while batches are in
/// flight; idle, the thread sleeps in poll until the producer or a stop wakes it.
/// </remarks>
public sealed unsafe class KingestDeviceRing : RingMapping
{
    private readonly KingestDevice _device;
    private readonly int _wakeFd;
    private readonly byte* _all;
    private readonly nuint _allLength;
    private readonly byte* _consumerPage;
    private readonly nuint _pageSize;

    private KingestDeviceRing(KingestDevice device, int wakeFd, byte* all, nuint allLength, byte* consumerPage, nuint pageSize, in KingestRingMeta meta, string path)
    {
        _device = device;
        _wakeFd = wakeFd;
        _all = all;
        _allLength = allLength;
        _consumerPage = consumerPage;
        _pageSize = pageSize;
        Name = path;
        Data = all + meta.DataOffset;
        DataSize = meta.DataSize;
        Producer = (KingestRingProducer*)(all + meta.ProducerOffset);
        ConsumerPosition = (ulong*)consumerPage;
    }

    public override string Name { get; }

    public static KingestDeviceRing Open(string path = KingestAbi.DevicePath)
    {
        var device = KingestDevice.Open(path);
        int wakeFd = -1;
        byte* all = null;
        nuint allLength = 0;
        try
        {
            int fd = device.Fd;
            nuint page = (nuint)Environment.SystemPageSize;
            var metaPage = (byte*)Libc.mmap(null, page, Libc.PROT_READ, Libc.MAP_SHARED, fd, 0);
            if ((nint)metaPage == Libc.MAP_FAILED)
            {
                throw new ErrnoException("mmap " + path + " meta page", Libc.LastErrno);
            }

            KingestRingMeta meta = *(KingestRingMeta*)metaPage;
            Libc.munmap(metaPage, page);
            Validate(meta, path);
            if (meta.PageSize != page)
            {
                throw new InvalidDataException($"{path}: ring page size {meta.PageSize}, process page size {page}");
            }

            allLength = (nuint)(meta.DataOffset + meta.DataSize);
            all = (byte*)Libc.mmap(null, allLength, Libc.PROT_READ, Libc.MAP_SHARED, fd, 0);
            if ((nint)all == Libc.MAP_FAILED)
            {
                all = null;
                throw new ErrnoException("mmap " + path, Libc.LastErrno);
            }

            var consumer = (byte*)Libc.mmap(null, page, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED, fd, (long)meta.ConsumerOffset);
            if ((nint)consumer == Libc.MAP_FAILED)
            {
                throw new ErrnoException("mmap " + path + " consumer page", Libc.LastErrno);
            }

            wakeFd = Libc.Check(Libc.eventfd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK), "eventfd");
            return new KingestDeviceRing(device, wakeFd, all, allLength, consumer, page, meta, path);
        }
        catch
        {
            if (all is not null)
            {
                Libc.munmap(all, allLength);
            }

            if (wakeFd >= 0)
            {
                Libc.close(wakeFd);
            }

            device.Dispose();
            throw;
        }
    }

    internal override void WaitForData(ulong readPosition, int timeoutMs)
    {
        var wait = new KingestWaitRead { ReadPos = readPosition };
        if (Libc.ioctl(_device.Fd, KingestIoctl.WaitRead, &wait) < 0)
        {
            int errno = Libc.LastErrno;
            if (errno == Libc.EINTR)
            {
                return;
            }

            if (errno != Libc.EINVAL)
            {
                throw new ErrnoException("ioctl /dev/kingest KINGEST_IOC_WAIT_READ", errno);
            }

            // A read position the module rejects (the caller validates positions, so this is a
            // producer position gone wrong): sleep on the wake-up fd alone rather than spin.
            var wake = new pollfd { fd = _wakeFd, events = Libc.POLLIN };
            Libc.poll(&wake, 1, timeoutMs);
            return;
        }

        if (wait.Available != 0)
        {
            return;
        }

        var fds = stackalloc pollfd[2];
        fds[0] = new pollfd { fd = _wakeFd, events = Libc.POLLIN };
        fds[1] = new pollfd { fd = _device.Fd, events = Libc.POLLIN };
        int result = Libc.poll(fds, 2, timeoutMs);
        if (result < 0 && Libc.LastErrno != Libc.EINTR)
        {
            throw new ErrnoException("poll /dev/kingest", Libc.LastErrno);
        }
    }

    private protected override void WakeCore()
    {
        Libc.SignalEventFd(_wakeFd);
    }

    private protected override void Release()
    {
        Libc.munmap(_consumerPage, _pageSize);
        Libc.munmap(_all, _allLength);
        Libc.close(_wakeFd);
        _device.Dispose();
    }
}
