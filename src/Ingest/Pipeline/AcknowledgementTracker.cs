using Ingest.Transports.Events;

namespace Ingest.Pipeline;

/// <summary>
/// Turns one acknowledging source's record outcomes into published positions. Records are
/// registered in the order the batcher closes them; a checkpoint is published only once it and
/// every record before it are acknowledged, so a position never passes an event the broker does
/// not have. Any loss asks the source to rewind to its last published position, and from then the
/// records read before the rewind (an older generation) no longer move the position: the source
/// re-reads them, with duplicates but without a gap.
/// </summary>
internal sealed class AcknowledgementTracker(IAcknowledgingSource source, SourceStats stats)
{
    private readonly Lock _gate = new();
    private readonly Queue<Entry> _pending = new();
    private int _generation;

    /// <summary>A record or a bare checkpoint, in batcher order, waiting for its predecessors.</summary>
    internal sealed class Entry(int generation, long checkpoint)
    {
        public int Generation { get; } = generation;

        public long Checkpoint { get; } = checkpoint;

        public bool Acknowledged { get; set; }
    }

    /// <summary>The generation whose records move the position (the number of rewinds asked for).</summary>
    public int Generation
    {
        get
        {
            lock (_gate)
            {
                return _generation;
            }
        }
    }

    /// <summary>Registers a record about to be sent; null when it was read before a rewind (it can no longer move the position).</summary>
    public Entry? Track(int generation, long checkpoint)
    {
        var entry = new Entry(generation, checkpoint);
        lock (_gate)
        {
            if (generation != _generation)
            {
                return null;
            }

            _pending.Enqueue(entry);
        }

        return entry;
    }

    /// <summary>A checkpoint that came without events: it is published once every record before it is acknowledged.</summary>
    public void TrackCheckpoint(int generation, long checkpoint)
    {
        lock (_gate)
        {
            if (generation != _generation)
            {
                return;
            }

            _pending.Enqueue(new Entry(generation, checkpoint) { Acknowledged = true });
            PublishContiguous();
        }
    }

    public void Acknowledged(Entry entry)
    {
        lock (_gate)
        {
            if (entry.Generation != _generation)
            {
                return;
            }

            entry.Acknowledged = true;
            PublishContiguous();
        }
    }

    /// <summary>
    /// Events of <paramref name="generation"/> were lost (delivery failure, shutdown, any drop):
    /// the source goes back to its last published position. Losses of an older generation are
    /// already covered by the rewind that ended it.
    /// </summary>
    public void Lost(int generation)
    {
        lock (_gate)
        {
            if (generation != _generation)
            {
                return;
            }

            _generation++;
            _pending.Clear();
            stats.AddRewind();

            // Under the lock: no acknowledgement of the old generation publishes after this.
            source.Rewind();
        }
    }

    private void PublishContiguous()
    {
        long checkpoint = -1;
        while (_pending.TryPeek(out var head) && head.Acknowledged)
        {
            _pending.Dequeue();
            if (head.Checkpoint >= 0)
            {
                checkpoint = head.Checkpoint;
            }
        }

        if (checkpoint >= 0)
        {
            source.OnDelivered(checkpoint);
        }
    }
}
