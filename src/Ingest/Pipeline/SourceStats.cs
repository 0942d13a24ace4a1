using Ingest.Transports.Events;

namespace Ingest.Pipeline;

/// <summary>
/// Per-source figures: events written by the source, delivered (acknowledged by the broker),
/// dropped by reason, in flight, spooled, and the transport's own counters. Every event a source
/// hands over is in exactly one of delivered, dropped, in flight or spooled, so
/// <c>received = delivered + dropped + in_flight + spooled</c> holds in every
/// <see cref="Read"/>. Updated once per chunk or record, never per event.
/// </summary>
public sealed class SourceStats(string channel, string name, CounterSet transportCounters)
{
    // One lock for every transition: a snapshot then never sees an event in two places (or none).
    private readonly Lock _gate = new();
    private readonly long[] _dropped = new long[DropReasonNames.Count];
    private long _received;
    private long _delivered;
    private long _records;
    private long _recordBytes;
    private long _inFlight;
    private long _spooled;
    private long _rewinds;

    public string Channel { get; } = channel;

    public string Name { get; } = name;

    public CounterSet TransportCounters { get; } = transportCounters;

    public long Received => Volatile.Read(ref _received);

    public long Delivered => Volatile.Read(ref _delivered);

    public long RecordsDelivered => Volatile.Read(ref _records);

    public long BytesDelivered => Volatile.Read(ref _recordBytes);

    /// <summary>Events received and not yet delivered, dropped or spooled: on an edge, in a batch, in the producer.</summary>
    public long InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Events in records the spool holds (taken by <see cref="AddSpooled"/>, released by <see cref="RemoveSpooled"/>).</summary>
    public long Spooled => Volatile.Read(ref _spooled);

    /// <summary>
    /// Times an acknowledging source (the ring) was sent back to its last published position
    /// because events it wrote were lost on the way to the broker; it re-reads them (duplicates, no gap).
    /// </summary>
    public long Rewinds => Volatile.Read(ref _rewinds);

    /// <summary>Chunks waiting on the source's edge.</summary>
    public Func<int> QueueDepth { get; set; } = static () => 0;

    /// <summary>Told of every acknowledged record (telemetry); null = nobody listens.</summary>
    public IRecordObserver? Observer { get; set; }

    /// <summary>Orders the acknowledgements of an acknowledging source; null for other sources.</summary>
    internal AcknowledgementTracker? Acknowledgements { get; set; }

    public long Dropped(DropReason reason) => Volatile.Read(ref _dropped[(int)reason]);

    public long DroppedTotal
    {
        get
        {
            long sum = 0;
            for (var i = 0; i < _dropped.Length; i++)
            {
                sum += Volatile.Read(ref _dropped[i]);
            }

            return sum;
        }
    }

    /// <summary>A consistent copy of the accounting figures: the identity holds in it exactly.</summary>
    public SourceFigures Read()
    {
        lock (_gate)
        {
            var dropped = new long[_dropped.Length];
            _dropped.CopyTo(dropped, 0);
            return new SourceFigures(_received, _delivered, dropped, _inFlight, _spooled, _rewinds);
        }
    }

    /// <summary>The spool took a record of <paramref name="events"/> events: they move from in flight to spooled.</summary>
    public void AddSpooled(int events)
    {
        lock (_gate)
        {
            _inFlight -= events;
            _spooled += events;
        }
    }

    /// <summary>
    /// The spool hands a record of <paramref name="events"/> events back to the producer: they move
    /// from spooled to in flight, and end as the record's delivery or drop.
    /// </summary>
    public void RemoveSpooled(int events)
    {
        lock (_gate)
        {
            _spooled -= events;
            _inFlight += events;
        }
    }

    internal void AddReceived(int events)
    {
        lock (_gate)
        {
            _received += events;
            _inFlight += events;
        }
    }

    /// <summary>Events the source wrote that never entered the pipeline (dropped at once): received and dropped together.</summary>
    internal void AddReceivedAndDropped(DropReason reason, int events)
    {
        lock (_gate)
        {
            _received += events;
            _dropped[(int)reason] += events;
        }
    }

    internal void AddDelivered(int events, int bytes)
    {
        lock (_gate)
        {
            _inFlight -= events;
            _delivered += events;
            _records++;
            _recordBytes += bytes;
        }
    }

    internal void AddDropped(DropReason reason, int events)
    {
        lock (_gate)
        {
            _inFlight -= events;
            _dropped[(int)reason] += events;
        }
    }

    internal void AddRewind() => Interlocked.Increment(ref _rewinds);
}

/// <summary>One source's accounting at one instant: <c>Received == Delivered + DroppedTotal + InFlight + Spooled</c>.</summary>
public readonly record struct SourceFigures(long Received, long Delivered, long[] DroppedByReason, long InFlight, long Spooled, long Rewinds)
{
    public long Dropped(DropReason reason) => DroppedByReason[(int)reason];

    public long DroppedTotal => DroppedByReason.Sum();

    /// <summary>Received minus everything it must be accounted as: 0 unless events were counted wrongly.</summary>
    public long Unaccounted => Received - Delivered - DroppedTotal - InFlight - Spooled;
}
