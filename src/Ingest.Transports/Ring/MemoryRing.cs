using Ingest.Transports.Interop;
using Ingest.Transports.Kingest;

namespace Ingest.Transports.Ring;

/// <summary>
/// A kingest ring in user-space shared memory (a memfd laid out exactly like /dev/kingest's
/// mapping: meta, consumer, producer pages, then the data area) with an eventfd as the doorbell
/// the module's poll wake-up stands for. <see cref="RingProducer"/> writes it; consumers read it
/// through <see cref="OpenConsumerMapping"/>, each a separate mmap of the same memory, so a
/// "restarted" consumer sees what the previous one published.
/// </summary>
public sealed unsafe class MemoryRing : IDisposable
{
    private readonly int _memFd;
    private readonly int _doorbellFd;
    private readonly byte* _base;
    private readonly nuint _length;
    private int _disposed;

    public MemoryRing(ulong dataSize)
    {
        if (dataSize < KingestRingLayout.MinDataSize || (dataSize & (dataSize - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(dataSize), dataSize, "must be a power of two >= 64 KiB");
        }

        PageSize = (uint)Environment.SystemPageSize;
        DataSize = dataSize;
        DataOffset = (ulong)KingestRingLayout.DataPageOffset * PageSize;
        _length = (nuint)(DataOffset + dataSize);
        _memFd = Libc.Check(Libc.memfd_create("kingest-ring", Libc.MFD_CLOEXEC), "memfd_create");
        try
        {
            Libc.Check(Libc.ftruncate(_memFd, (long)_length), "ftruncate");
            _base = Map(_memFd, _length);
            _doorbellFd = Libc.Check(Libc.eventfd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK), "eventfd");
        }
        catch
        {
            if (_base is not null)
            {
                Libc.munmap(_base, _length);
            }

            Libc.close(_memFd);
            throw;
        }

        *(KingestRingMeta*)_base = new KingestRingMeta
        {
            Magic = KingestRingLayout.Magic,
            AbiVersion = KingestAbi.AbiVersion,
            PageSize = PageSize,
            HeaderSize = KingestRecordHeader.Size,
            DataSize = dataSize,
            DataOffset = DataOffset,
            ProducerOffset = (ulong)KingestRingLayout.ProducerPageOffset * PageSize,
            ConsumerOffset = (ulong)KingestRingLayout.ConsumerPageOffset * PageSize,
            RecordAlign = KingestRecordHeader.Align,
            MaxRecord = KingestRecordHeader.MaxRecord,
        };
    }

    public ulong DataSize { get; }

    internal uint PageSize { get; }

    internal ulong DataOffset { get; }

    internal KingestRingMeta* Meta => (KingestRingMeta*)_base;

    internal byte* Data => _base + DataOffset;

    internal ulong* ConsumerPosition => (ulong*)(_base + (KingestRingLayout.ConsumerPageOffset * PageSize));

    internal KingestRingProducer* Producer => (KingestRingProducer*)(_base + (KingestRingLayout.ProducerPageOffset * PageSize));

    /// <summary>The consumer position the last consumer published (it survives the consumer).</summary>
    public ulong PublishedConsumerPosition => Volatile.Read(ref *ConsumerPosition);

    public ulong ProducerPosition => Volatile.Read(ref Producer->ProducerPos);

    /// <summary>Records the producer dropped because the ring was full.</summary>
    public ulong ProducerDropped => Volatile.Read(ref Producer->Dropped);

    /// <summary>A new mapping of this ring for one consumer; the consumer disposes it.</summary>
    public RingMapping OpenConsumerMapping() => new MemoryRingMapping(this);

    /// <summary>Tells waiting consumers that producer_pos moved (the module's wake_up).</summary>
    internal void RingDoorbell()
    {
        Libc.SignalEventFd(_doorbellFd);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            Libc.munmap(_base, _length);
            Libc.close(_doorbellFd);
            Libc.close(_memFd);
        }
    }

    private static byte* Map(int fd, nuint length)
    {
        var address = (byte*)Libc.mmap(null, length, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED, fd, 0);
        if ((nint)address == Libc.MAP_FAILED)
        {
            throw new ErrnoException("mmap memfd", Libc.LastErrno);
        }

        return address;
    }

    private sealed class MemoryRingMapping : RingMapping
    {
        private readonly MemoryRing _ring;
        private readonly byte* _base;
        private readonly int _wakeFd;

        public MemoryRingMapping(MemoryRing ring)
        {
            _ring = ring;
            _base = Map(ring._memFd, ring._length);
            _wakeFd = Libc.eventfd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
            if (_wakeFd < 0)
            {
                int errno = Libc.LastErrno;
                Libc.munmap(_base, ring._length);
                throw new ErrnoException("eventfd", errno);
            }

            var meta = *(KingestRingMeta*)_base;
            Validate(meta, Name);
            Data = _base + meta.DataOffset;
            DataSize = meta.DataSize;
            Producer = (KingestRingProducer*)(_base + meta.ProducerOffset);
            ConsumerPosition = (ulong*)(_base + meta.ConsumerOffset);
        }

        public override string Name => "memfd:kingest-ring";

        internal override void WaitForData(ulong readPosition, int timeoutMs)
        {
            var fds = stackalloc pollfd[2];
            fds[0] = new pollfd { fd = _wakeFd, events = Libc.POLLIN };
            fds[1] = new pollfd { fd = _ring._doorbellFd, events = Libc.POLLIN };
            if (Volatile.Read(ref Producer->ProducerPos) != readPosition)
            {
                return;
            }

            int result = Libc.poll(fds, 2, timeoutMs);
            if (result < 0 && Libc.LastErrno != Libc.EINTR)
            {
                throw new ErrnoException("poll doorbell", Libc.LastErrno);
            }

            if (result > 0 && (fds[1].revents & Libc.POLLIN) != 0)
            {
                // Reset the doorbell; the caller re-reads producer_pos, so a ring after this is not lost.
                ulong count;
                Libc.read(_ring._doorbellFd, (byte*)&count, sizeof(ulong));
            }
        }

        private protected override void WakeCore()
        {
            Libc.SignalEventFd(_wakeFd);
        }

        private protected override void Release()
        {
            Libc.munmap(_base, _ring._length);
            Libc.close(_wakeFd);
        }
    }
}
