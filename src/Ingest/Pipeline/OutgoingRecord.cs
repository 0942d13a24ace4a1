using Ingest.Transports.Events;

namespace Ingest.Pipeline;

/// <summary>
/// One closed batch on its way to the broker: the encoded record value and what to do when the
/// broker answers. Delivery is reported exactly once, from the producer's delivery thread.
/// </summary>
public sealed class OutgoingRecord
{
    internal OutgoingRecord(string topic, byte[] key, byte[] value, int count, long checkpoint, SourceStats stats, IAcknowledgingSource? acknowledger)
    {
        Topic = topic;
        Key = key;
        Value = value;
        Count = count;
        Checkpoint = checkpoint;
        Stats = stats;
        Acknowledger = acknowledger;
    }

    public string Topic { get; }

    public byte[] Key { get; }

    public byte[] Value { get; }

    /// <summary>Events in the record (the <c>ingest-count</c> header).</summary>
    public int Count { get; }

    public long Checkpoint { get; }

    public SourceStats Stats { get; }

    private IAcknowledgingSource? Acknowledger { get; }

    /// <summary>True for a record of a source that resumes from acknowledged positions (the ring).</summary>
    public bool IsAcknowledged => Acknowledger is not null;

    /// <summary>The spool's view of this record (null when the spool is off): told of its outcome.</summary>
    internal IRecordListener? Listener { get; set; }

    /// <summary>Order in which the record left its batcher (set by the spool's sender).</summary>
    internal long Ordinal { get; set; }

    /// <summary>The listener's own note on this record.</summary>
    internal object? ListenerState { get; set; }

    private int _completed;
    private long _publishedTimestamp;

    /// <summary>Stopwatch ticks of the last hand-over to the producer; the start of delivery latency.</summary>
    public long PublishedTimestamp => Volatile.Read(ref _publishedTimestamp);

    /// <summary>True once <see cref="Delivered"/> or <see cref="Failed"/> ran.</summary>
    public bool IsCompleted => Volatile.Read(ref _completed) != 0;

    public void Delivered()
    {
        if (Interlocked.Exchange(ref _completed, 1) != 0)
        {
            return;
        }

        Stats.AddDelivered(Count, Value.Length);
        Stats.Observer?.OnDelivered(this, PublishedTimestamp);
        // After a lost record, a later acknowledgement would move the source's position past the
        // lost events: the source stays at its last good position and re-reads from there.
        if (Checkpoint >= 0 && !Stats.AcknowledgementsHalted)
        {
            Acknowledger?.OnDelivered(Checkpoint);
        }

        Listener?.OnDelivered(this);
    }

    /// <summary>
    /// A delivery failed for a reason that may pass (timeout, broker down): true when the spool
    /// took the record over to publish it again; false when the caller must count it failed.
    /// </summary>
    public bool TryRetry() => !IsCompleted && Listener is { } listener && listener.OnRetriableFailure(this);

    /// <summary>At shutdown, for a record still unacknowledged: true when the spool keeps it for the next start.</summary>
    public bool TrySpill()
    {
        if (IsCompleted || Listener is not { } listener || !listener.OnShutdown(this))
        {
            return false;
        }

        // Kept for the next start: a late report from the closing producer changes nothing now.
        Interlocked.Exchange(ref _completed, 1);
        return true;
    }

    internal void MarkPublished() => Volatile.Write(ref _publishedTimestamp, System.Diagnostics.Stopwatch.GetTimestamp());

    public void Failed(DropReason reason)
    {
        if (Interlocked.Exchange(ref _completed, 1) == 0)
        {
            if (Acknowledger is not null)
            {
                Stats.HaltAcknowledgements();
            }

            Stats.AddDropped(reason, Count);
            Listener?.OnFailed(this);
        }
    }
}
