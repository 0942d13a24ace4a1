using Ingest.Transports.Interop;
using Ingest.Transports.Kingest;
using Tmds.Linux;

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
            var metaPage = (byte*)LibC.mmap(null, (size_t)(ulong)page, LibC.PROT_READ, LibC.MAP_SHARED, fd, 0);
            if (metaPage == LibC.MAP_FAILED)
            {
                throw new ErrnoException("mmap " + path + " meta page", Sys.LastErrno);
            }

            KingestRingMeta meta = *(KingestRingMeta*)metaPage;
            LibC.munmap(metaPage, (size_t)(ulong)page);
            Validate(meta, path);
            if (meta.PageSize != page)
            {
                throw new InvalidDataException($"{path}: ring page size {meta.PageSize}, process page size {page}");
            }

            allLength = (nuint)(meta.DataOffset + meta.DataSize);
            all = (byte*)LibC.mmap(null, (size_t)(ulong)allLength, LibC.PROT_READ, LibC.MAP_SHARED, fd, 0);
            if (all == LibC.MAP_FAILED)
            {
                all = null;
                throw new ErrnoException("mmap " + path, Sys.LastErrno);
            }

            var consumer = (byte*)LibC.mmap(null, (size_t)(ulong)page, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED, fd, (long)meta.ConsumerOffset);
            if (consumer == LibC.MAP_FAILED)
            {
                throw new ErrnoException("mmap " + path + " consumer page", Sys.LastErrno);
            }

            wakeFd = Sys.Check(LibC.eventfd(0, LibC.EFD_CLOEXEC | LibC.EFD_NONBLOCK), "eventfd");
            return new KingestDeviceRing(device, wakeFd, all, allLength, consumer, page, meta, path);
        }
        catch
        {
            if (all is not null)
            {
                LibC.munmap(all, (size_t)(ulong)allLength);
            }

            if (wakeFd >= 0)
            {
                LibC.close(wakeFd);
            }

            device.Dispose();
            throw;
        }
    }

    internal override void WaitForData(ulong readPosition, int timeoutMs)
    {
        var wait = new KingestWaitRead { ReadPos = readPosition };
        if (LibC.ioctl(_device.Fd, unchecked((int)KingestIoctl.WaitRead), &wait) < 0)
        {
            int errno = Sys.LastErrno;
            if (errno == LibC.EINTR)
            {
                return;
            }

            if (errno != LibC.EINVAL)
            {
                throw new ErrnoException("ioctl /dev/kingest KINGEST_IOC_WAIT_READ", errno);
            }

            // A read position the module rejects (the caller validates positions, so this is a
            // producer position gone wrong): sleep on the wake-up fd alone rather than spin.
            var wake = new pollfd { fd = _wakeFd, events = LibC.POLLIN };
            Sys.poll(&wake, 1, timeoutMs);
            return;
        }

        if (wait.Available != 0)
        {
            return;
        }

        var fds = stackalloc pollfd[2];
        fds[0] = new pollfd { fd = _wakeFd, events = LibC.POLLIN };
        fds[1] = new pollfd { fd = _device.Fd, events = LibC.POLLIN };
        int result = Sys.poll(fds, 2, timeoutMs);
        if (result < 0 && Sys.LastErrno != LibC.EINTR)
        {
            throw new ErrnoException("poll /dev/kingest", Sys.LastErrno);
        }
    }

    private protected override void WakeCore()
    {
        Sys.SignalEventFd(_wakeFd);
    }

    private protected override void Release()
    {
        LibC.munmap(_consumerPage, (size_t)(ulong)_pageSize);
        LibC.munmap(_all, (size_t)(ulong)_allLength);
        LibC.close(_wakeFd);
        _device.Dispose();
    }
}
