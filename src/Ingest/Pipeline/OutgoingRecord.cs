namespace Ingest.Pipeline;

/// <summary>
/// One closed batch on its way to the broker: the encoded record value and what to do when the
/// broker answers. Its outcome is reported exactly once (<see cref="Delivered"/> or
/// <see cref="Failed"/>), from the producer's delivery thread or the pipeline; in between, a
/// spool may hold it (<see cref="Spooled"/>, <see cref="Unspooled"/>).
/// </summary>
public sealed class OutgoingRecord
{
    private int _completed;
    private long _publishedTimestamp;

    internal OutgoingRecord(string topic, byte[] key, byte[] value, int count, long checkpoint, SourceStats stats, int generation = 0, AcknowledgementTracker.Entry? acknowledgement = null)
    {
        Topic = topic;
        Key = key;
        Value = value;
        Count = count;
        Checkpoint = checkpoint;
        Stats = stats;
        Generation = generation;
        Acknowledgement = acknowledgement;
    }

    public string Topic { get; }

    public byte[] Key { get; }

    public byte[] Value { get; }

    /// <summary>Events in the record (the <c>ingest-count</c> header).</summary>
    public int Count { get; }

    /// <summary>
    /// For an acknowledging source: the position that covers exactly the events in this record and
    /// in the records before it; -1 when no chunk of the record carried one.
    /// </summary>
    public long Checkpoint { get; }

    public SourceStats Stats { get; }

    /// <summary>True for a record of a source that resumes from acknowledged positions (the ring).</summary>
    public bool IsAcknowledged => Stats.Acknowledgements is not null;

    /// <summary>The spool's view of this record (null when the spool is off): told of its outcome.</summary>
    internal IRecordListener? Listener { get; set; }

    /// <summary>Order in which the record left its batcher (set by the spool's sender).</summary>
    internal long Ordinal { get; set; }

    /// <summary>The listener's own note on this record.</summary>
    internal object? ListenerState { get; set; }

    /// <summary>Stopwatch ticks of the last hand-over to the producer; the start of delivery latency.</summary>
    public long PublishedTimestamp => Volatile.Read(ref _publishedTimestamp);

    /// <summary>True once <see cref="Delivered"/> or <see cref="Failed"/> ran.</summary>
    public bool IsCompleted => Volatile.Read(ref _completed) != 0;

    /// <summary>The acknowledging source's rewind generation its events were read in.</summary>
    internal int Generation { get; }

    /// <summary>Its place in the source's acknowledgement order; null when it cannot move the position.</summary>
    internal AcknowledgementTracker.Entry? Acknowledgement { get; }

    public void Delivered()
    {
        if (Interlocked.Exchange(ref _completed, 1) != 0)
        {
            return;
        }

        try
        {
            // The observer first: a reader that sees the delivered count also sees this record's latency.
            Stats.Observer?.OnDelivered(this, PublishedTimestamp);
        }
        finally
        {
            // Even if telemetry throws (it must not), the accounting, the checkpoint and the spool go on.
            AccountDelivered();
        }
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

    public void Failed(DropReason reason)
    {
        if (Interlocked.Exchange(ref _completed, 1) != 0)
        {
            return;
        }

        Stats.AddDropped(reason, Count);

        // An acknowledging source re-reads from its last published position: duplicates, no gap.
        Stats.Acknowledgements?.Lost(Generation);
        Listener?.OnFailed(this);
    }

    /// <summary>A spool took the record: its events count as spooled until <see cref="Unspooled"/>.</summary>
    public void Spooled() => Stats.AddSpooled(Count);

    /// <summary>The spool hands the record back to the producer: in flight again until its outcome.</summary>
    public void Unspooled() => Stats.RemoveSpooled(Count);

    private void AccountDelivered()
    {
        Stats.AddDelivered(Count, Value.Length);
        if (Acknowledgement is { } acknowledgement)
        {
            // Publishes this record's checkpoint only once every record before it is acknowledged too.
            Stats.Acknowledgements!.Acknowledged(acknowledgement);
        }

        Listener?.OnDelivered(this);
    }

    internal void MarkPublished() => Volatile.Write(ref _publishedTimestamp, System.Diagnostics.Stopwatch.GetTimestamp());
}
