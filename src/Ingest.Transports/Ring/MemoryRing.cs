using Ingest.Transports.Interop;
using Ingest.Transports.Kingest;
using Tmds.Linux;

namespace Ingest.Transports.Ring;

/// <summary>
/// A kingest ring in user-space shared memory (a memfd laid out exactly like /dev/kingest's
/// mapping: meta, consumer, producer pages, then the data area) with an eventfd as the doorbell
/// the module's wake-up stands for. <see cref="RingProducer"/> writes it; consumers read it
/// through <see cref="OpenConsumerMapping"/>, each a separate mmap of the same memory, so a
/// "restarted" consumer sees what the previous one published.
/// </summary>
/// <remarks>
/// Waiting mirrors KINGEST_IOC_WAIT_READ: a consumer announces itself as a sleeper (a full fence),
/// rechecks producer_pos against its read position, then sleeps on the doorbell; the producer
/// publishes producer_pos, fences, and rings only when a sleeper is announced (the kernel's
/// wq_has_sleeper), so a busy consumer costs the producer no system call.
/// <see cref="RingWaitSemantics.PublishedPosition"/> emulates ABI 1's device instead, for the
/// before/after benchmark.
/// </remarks>
public sealed unsafe class MemoryRing : IDisposable
{
    private readonly int _memFd;
    private readonly int _doorbellFd;
    private readonly byte* _base;
    private readonly nuint _length;
    private int _sleepers;
    private long _doorbellRings;
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
        _memFd = Sys.Check(Sys.MemfdCreate("kingest-ring", LibC.MFD_CLOEXEC), "memfd_create");
        try
        {
            Sys.Check(LibC.ftruncate(_memFd, (long)_length), "ftruncate");
            _base = Map(_memFd, _length);
            _doorbellFd = Sys.Check(LibC.eventfd(0, LibC.EFD_CLOEXEC | LibC.EFD_NONBLOCK), "eventfd");
        }
        catch
        {
            if (_base is not null)
            {
                LibC.munmap(_base, (size_t)(ulong)_length);
            }

            LibC.close(_memFd);
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

    /// <summary>Times the producer rang the doorbell (a consumer was asleep): one system call each.</summary>
    public long DoorbellRings => Volatile.Read(ref _doorbellRings);

    /// <summary>A new mapping of this ring for one consumer; the consumer disposes it.</summary>
    public RingMapping OpenConsumerMapping() => new MemoryRingMapping(this, RingWaitSemantics.ReadPosition);

    /// <summary>A consumer mapping that waits as <paramref name="semantics"/> says (benchmarks compare the two).</summary>
    public RingMapping OpenConsumerMapping(RingWaitSemantics semantics) => new MemoryRingMapping(this, semantics);

    /// <summary>
    /// Called after producer_pos was published: wakes sleeping consumers (the module's
    /// wake_up after wq_has_sleeper). The fence orders the publication before reading the sleeper
    /// count, pairing with the consumer's fence between announcing itself and rechecking.
    /// </summary>
    internal void RingDoorbell()
    {
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _sleepers) != 0)
        {
            Interlocked.Increment(ref _doorbellRings);
            Sys.SignalEventFd(_doorbellFd);
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            LibC.munmap(_base, (size_t)(ulong)_length);
            LibC.close(_doorbellFd);
            LibC.close(_memFd);
        }
    }

    private static byte* Map(int fd, nuint length)
    {
        var address = (byte*)LibC.mmap(null, (size_t)(ulong)length, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED, fd, 0);
        if (address == LibC.MAP_FAILED)
        {
            throw new ErrnoException("mmap memfd", Sys.LastErrno);
        }

        return address;
    }

    private sealed class MemoryRingMapping : RingMapping
    {
        private readonly MemoryRing _ring;
        private readonly byte* _base;
        private readonly int _wakeFd;

        private const int InFlightPollMs = 1;

        private readonly RingWaitSemantics _semantics;

        public MemoryRingMapping(MemoryRing ring, RingWaitSemantics semantics)
        {
            _ring = ring;
            _semantics = semantics;
            _base = Map(ring._memFd, ring._length);
            _wakeFd = LibC.eventfd(0, LibC.EFD_CLOEXEC | LibC.EFD_NONBLOCK);
            if (_wakeFd < 0)
            {
                int errno = Sys.LastErrno;
                LibC.munmap(_base, (size_t)(ulong)ring._length);
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
            if (_semantics == RingWaitSemantics.PublishedPosition)
            {
                WaitPublished(readPosition, timeoutMs);
                return;
            }

            Interlocked.Increment(ref _ring._sleepers);
            try
            {
                // After announcing: a publication the producer made before it saw us is seen here.
                if (Volatile.Read(ref Producer->ProducerPos) != readPosition)
                {
                    return;
                }

                Sleep(timeoutMs);
            }
            finally
            {
                Interlocked.Decrement(ref _ring._sleepers);
            }
        }

        /// <summary>
        /// ABI 1's device, as KingestDeviceRing waited on it: "readable" while producer_pos differs
        /// from the *published* consumer position, so with records in flight (read, not yet
        /// acknowledged) the consumer could only sleep 1 ms at a time on its wake-up fd.
        /// </summary>
        private void WaitPublished(ulong readPosition, int timeoutMs)
        {
            bool inFlight = Volatile.Read(ref *ConsumerPosition) != readPosition;
            if (inFlight)
            {
                var wake = new pollfd { fd = _wakeFd, events = LibC.POLLIN };
                Sys.poll(&wake, 1, Math.Min(timeoutMs, InFlightPollMs));
                return;
            }

            Interlocked.Increment(ref _ring._sleepers);
            try
            {
                if (Volatile.Read(ref Producer->ProducerPos) != readPosition)
                {
                    return;
                }

                Sleep(timeoutMs);
            }
            finally
            {
                Interlocked.Decrement(ref _ring._sleepers);
            }
        }

        private void Sleep(int timeoutMs)
        {
            var fds = stackalloc pollfd[2];
            fds[0] = new pollfd { fd = _wakeFd, events = LibC.POLLIN };
            fds[1] = new pollfd { fd = _ring._doorbellFd, events = LibC.POLLIN };
            int result = Sys.poll(fds, 2, timeoutMs);
            if (result < 0 && Sys.LastErrno != LibC.EINTR)
            {
                throw new ErrnoException("poll doorbell", Sys.LastErrno);
            }

            if (result > 0 && (fds[1].revents & LibC.POLLIN) != 0)
            {
                // Reset the doorbell; the caller re-reads producer_pos, so a ring after this is not lost.
                ulong count;
                LibC.read(_ring._doorbellFd, (byte*)&count, sizeof(ulong));
            }
        }

        private protected override void WakeCore()
        {
            Sys.SignalEventFd(_wakeFd);
        }

        private protected override void Release()
        {
            LibC.munmap(_base, (size_t)(ulong)_ring._length);
            LibC.close(_wakeFd);
        }
    }
}
