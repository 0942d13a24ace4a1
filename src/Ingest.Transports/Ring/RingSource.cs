using Ingest.Transports.Events;
using Ingest.Transports.Kingest;

namespace Ingest.Transports.Ring;

/// <summary>
/// Reads a kingest mmap ring (/dev/kingest, or a <see cref="MemoryRing"/>) on a dedicated thread:
/// records are validated in place and decoded straight from the mapping into the writer as typed
/// events (<see cref="KingestRecordWriter"/>). Each burst is flushed with the position after its
/// last record as checkpoint; the consumer position in the ring is published (release) only in
/// <see cref="OnDelivered"/>, so records are freed for the producer only once the broker has them,
/// and a restarted consumer resumes from the last acknowledged position (at-least-once). When the
/// pipeline lost something this source wrote, <see cref="Rewind"/> sends the reader back to the
/// published position in the same run: the unacknowledged tail is read again.
/// </summary>
/// <remarks>
/// Counters: see <see cref="RingCounters"/>, plus <c>unknown_type</c> and <c>bad_payload</c> from
/// decoding. Ring events are lost only by the producer (ring full: <c>producer_dropped</c>).
/// </remarks>
public sealed unsafe class RingSource : IAcknowledgingSource, IDisposable
{
    private const int Idle = 0;
    private const int Running = 1;
    private const int Released = 2;

    private readonly RingMapping _mapping;
    private readonly RingSourceOptions _options;
    private readonly RingCounters _counters;
    private readonly Lock _publishLock = new();
    private ulong _lastProducerDropped;
    private int _rewindsRequested;
    private int _generation;
    private int _state;
    private bool _unmapped;
    private int _disposeRequested;

    /// <summary>Reads <paramref name="mapping"/>, which the source owns from now on.</summary>
    public RingSource(RingMapping mapping, RingSourceOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        _options = options ?? new RingSourceOptions();
        _options.Validate();
        _mapping = mapping;
        _counters = new RingCounters(Counters);
        _lastProducerDropped = Volatile.Read(ref mapping.Producer->Dropped);
        _options.Log?.Invoke($"ring {Name}: {mapping.DataSize} data bytes, resuming at {PublishedPosition} (producer at {Volatile.Read(ref mapping.Producer->ProducerPos)})");
    }

    public string Channel => "ring";

    public string Name => _mapping.Name;

    public CounterSet Counters { get; } = new();

    /// <inheritdoc />
    public int Generation => Volatile.Read(ref _generation);

    /// <summary>
    /// Bytes the producer has written that the broker has not acknowledged yet (producer position
    /// minus published consumer position): how far a restart would re-read, and how close the ring
    /// is to full. 0 once the mapping is gone.
    /// </summary>
    public long Lag
    {
        get
        {
            lock (_publishLock)
            {
                return _unmapped ? 0 : (long)(Volatile.Read(ref _mapping.Producer->ProducerPos) - Volatile.Read(ref *_mapping.ConsumerPosition));
            }
        }
    }

    /// <summary>The consumer position published in the ring: everything before it is acknowledged.</summary>
    public ulong PublishedPosition
    {
        get
        {
            lock (_publishLock)
            {
                return _unmapped ? 0 : Volatile.Read(ref *_mapping.ConsumerPosition);
            }
        }
    }

    /// <summary>Maps /dev/kingest (or <see cref="RingSourceOptions.DevicePath"/>) and reads it.</summary>
    public static RingSource OpenDevice(RingSourceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var mapping = KingestDeviceRing.Open(options.DevicePath);
        try
        {
            return new RingSource(mapping, options);
        }
        catch
        {
            mapping.Dispose();
            throw;
        }
    }

    public Task RunAsync(EventWriter writer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (Interlocked.CompareExchange(ref _state, Running, Idle) != Idle)
        {
            throw new InvalidOperationException($"ring {Name}: RunAsync is called once, before Dispose");
        }

        return SourceThread.Start(
            "ring " + Name,
            () =>
            {
                using (cancellationToken.Register(static m => ((RingMapping)m!).Wake(), _mapping))
                {
                    Run(writer, cancellationToken);
                }
            },
            onExit: () =>
            {
                // Interlocked on both sides (here and in Dispose): one of the two sees the other.
                Interlocked.Exchange(ref _state, Released);
                if (Volatile.Read(ref _disposeRequested) != 0)
                {
                    Unmap();
                }
            });
    }

    /// <summary>
    /// Publishes <paramref name="checkpoint"/> as the consumer position: the broker acknowledged
    /// every record before it. Called in checkpoint order from a delivery thread.
    /// </summary>
    public void OnDelivered(long checkpoint)
    {
        lock (_publishLock)
        {
            // Deliveries may still arrive after the reader stopped; never touch an unmapped page.
            if (_unmapped)
            {
                return;
            }

            ref ulong consumer = ref *_mapping.ConsumerPosition;
            if ((ulong)checkpoint > consumer)
            {
                Volatile.Write(ref consumer, (ulong)checkpoint);
            }
        }
    }

    /// <inheritdoc />
    public void Rewind()
    {
        Interlocked.Increment(ref _rewindsRequested);
        _mapping.Wake();
    }

    /// <summary>Stops the reader (within the stop-check interval) and unmaps the ring once it has stopped.</summary>
    public void Dispose()
    {
        Interlocked.Exchange(ref _disposeRequested, 1);
        _mapping.Wake();
        if (Interlocked.CompareExchange(ref _state, Released, Idle) != Running)
        {
            Unmap();
        }
    }

    private void Run(EventWriter writer, CancellationToken cancellationToken)
    {
        var cursor = new RingCursor(_mapping, _counters, Volatile.Read(ref *_mapping.ConsumerPosition));
        int timeoutMs = (int)_options.StopCheckInterval.TotalMilliseconds;
        int maxBurst = _options.MaxBurstRecords;
        while (!cancellationToken.IsCancellationRequested && Volatile.Read(ref _disposeRequested) == 0)
        {
            int requested = Volatile.Read(ref _rewindsRequested);
            if (requested != _generation)
            {
                // Everything read so far was flushed with the previous generation; what follows is
                // read again from the last position the broker acknowledged.
                ulong published = Volatile.Read(ref *_mapping.ConsumerPosition);
                _options.Log?.Invoke($"ring {Name}: rewinding from {cursor.Position} to {published} (events after it were lost on the way to the broker)");
                cursor = new RingCursor(_mapping, _counters, published);
                Volatile.Write(ref _generation, requested);
            }

            AccountProducerDrops();
            ulong limit = cursor.ReadLimit(out bool valid);
            if (!valid)
            {
                // A producer position that cannot be right (counted): do not spin on it.
                cancellationToken.WaitHandle.WaitOne(timeoutMs);
                continue;
            }

            if (limit == cursor.Position)
            {
                _mapping.WaitForData(cursor.Position, timeoutMs);
                continue;
            }

            ulong before = cursor.Position;
            for (int n = 0; n < maxBurst; n++)
            {
                KingestRecordHeader* header = cursor.Next(limit, out uint length);
                if (header is null)
                {
                    break;
                }

                var payload = new ReadOnlySpan<byte>((byte*)header + KingestRecordHeader.Size, (int)length - KingestRecordHeader.Size);
                var outcome = KingestRecordWriter.Write(writer, *header, payload);
                if (outcome != KingestRecordOutcome.Written)
                {
                    (outcome == KingestRecordOutcome.UnknownType ? _counters.UnknownType : _counters.BadPayload).Increment();
                }
            }

            if (cursor.Position != before)
            {
                writer.Flush((long)cursor.Position);
            }
        }

        AccountProducerDrops();
        writer.Flush((long)cursor.Position);
    }

    private void AccountProducerDrops()
    {
        ulong dropped = Volatile.Read(ref _mapping.Producer->Dropped);
        if (dropped != _lastProducerDropped)
        {
            _counters.ProducerDropped.Add((long)(dropped - _lastProducerDropped));
            _lastProducerDropped = dropped;
        }
    }

    private void Unmap()
    {
        lock (_publishLock)
        {
            _unmapped = true;
        }

        // Idempotent: Dispose and the reader's exit may both get here.
        _mapping.Dispose();
    }
}
