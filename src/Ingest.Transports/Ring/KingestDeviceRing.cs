using Ingest.Transports.Interop;
using Ingest.Transports.Kingest;

namespace Ingest.Transports.Ring;

/// <summary>
/// The module's ring: /dev/kingest mapped read-only whole (meta, producer, data) plus its consumer
/// page mapped writable, as the module allows. Waits with poll(2) on the device beside a wake-up
/// eventfd.
/// </summary>
/// <remarks>
/// The device reports POLLIN while producer_pos differs from the *published* consumer_pos. The
/// consumer reads ahead of what it has published (it publishes only after Kafka acknowledges), so
/// while batches are in flight the device stays readable even though nothing new is there; then
/// this waits on the wake-up fd alone for a millisecond instead of spinning.
/// </remarks>
public sealed unsafe class KingestDeviceRing : RingMapping
{
    private const int InFlightPollMs = 1;

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
        bool inFlight = Volatile.Read(ref *ConsumerPosition) != readPosition;
        var fds = stackalloc pollfd[2];
        fds[0] = new pollfd { fd = _wakeFd, events = Libc.POLLIN };
        fds[1] = new pollfd { fd = _device.Fd, events = Libc.POLLIN };
        int result = Libc.poll(fds, inFlight ? 1u : 2u, inFlight ? Math.Min(timeoutMs, InFlightPollMs) : timeoutMs);
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
