using Ingest.Transports.Events;

namespace Ingest.Pipeline;

/// <summary>
/// Per-source figures: events written by the source, delivered (acknowledged by the broker),
/// dropped by reason, and the transport's own counters. Updated once per chunk or record, never
/// per event, so the hot path does no interlocked work.
/// </summary>
public sealed class SourceStats(string channel, string name, CounterSet transportCounters)
{
    private readonly long[] _dropped = new long[DropReasonNames.Count];
    private long _received;
    private int _acknowledgementsHalted;
    private long _delivered;
    private long _records;
    private long _recordBytes;
    private long _spooled;

    public string Channel { get; } = channel;

    public string Name { get; } = name;

    public CounterSet TransportCounters { get; } = transportCounters;

    public long Received => Volatile.Read(ref _received);

    public long Delivered => Volatile.Read(ref _delivered);

    /// <summary>Events waiting in the spool (on disk, or in memory for a retry) to be published again.</summary>
    public long Spooled => Volatile.Read(ref _spooled);

    public long RecordsDelivered => Volatile.Read(ref _records);

    public long BytesDelivered => Volatile.Read(ref _recordBytes);

    /// <summary>Chunks waiting on the source's edge.</summary>
    public Func<int> QueueDepth { get; set; } = static () => 0;

    /// <summary>Told of every acknowledged record (telemetry); null = nobody listens.</summary>
    public IRecordObserver? Observer { get; set; }

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

    /// <summary>
    /// True once a record of an acknowledging source (the ring) was lost: from then on its position
    /// is no longer advanced, so a restart re-reads everything from the last good position.
    /// </summary>
    public bool AcknowledgementsHalted => Volatile.Read(ref _acknowledgementsHalted) != 0;

    internal void HaltAcknowledgements() => Volatile.Write(ref _acknowledgementsHalted, 1);

    internal void AddReceived(int events) => Interlocked.Add(ref _received, events);

    internal void AddDelivered(int events, int bytes)
    {
        Interlocked.Add(ref _delivered, events);
        Interlocked.Increment(ref _records);
        Interlocked.Add(ref _recordBytes, bytes);
    }

    internal void AddSpooled(int events) => Interlocked.Add(ref _spooled, events);

    internal void AddDropped(DropReason reason, int events) => Interlocked.Add(ref _dropped[(int)reason], events);
}
