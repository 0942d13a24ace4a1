namespace Ingest.Transports.Events;

/// <summary>
/// A kernel-facing source of events: one UDP endpoint, one netlink group, one /proc scrape set.
/// </summary>
public interface IEventSource
{
    /// <summary>The channel its events are published under: "udp", "proc", "netlink", ...</summary>
    string Channel { get; }

    /// <summary>Names this source within its channel (an endpoint, a group); records carry it.</summary>
    string Name { get; }

    /// <summary>Transport-level counters: malformed input, overruns, errors. Never null.</summary>
    CounterSet Counters { get; }

    /// <summary>
    /// Reads until <paramref name="cancellationToken"/> is cancelled, writing through
    /// <paramref name="writer"/>, and returns after a final <see cref="EventWriter.Flush"/>.
    /// Called once. Sources that block in system calls run their loop on a dedicated thread and
    /// must notice cancellation within about 200 ms (a receive timeout or a wake-up fd).
    /// A fault that ends the source is thrown; bad input is counted and skipped.
    /// </summary>
    Task RunAsync(EventWriter writer, CancellationToken cancellationToken);
}

/// <summary>
/// A source that can resume from a position (the mmap ring): it is told when everything it
/// wrote up to a checkpoint passed to <see cref="EventWriter.Flush"/> is acknowledged by the
/// broker, and told to go back to the last such position when anything it wrote after it was
/// lost. Calls arrive in checkpoint order, on a thread that is not the source's.
/// </summary>
public interface IAcknowledgingSource : IEventSource
{
    /// <summary>Everything written before <paramref name="checkpoint"/> is acknowledged: publish it.</summary>
    void OnDelivered(long checkpoint);

    /// <summary>
    /// Events written after the last delivered checkpoint were lost: re-read from that checkpoint.
    /// Returns at once; the source rewinds on its own thread before it reads on, and then counts
    /// the rewind in <see cref="Generation"/>. Calls before the source got to it collapse into one.
    /// </summary>
    void Rewind();

    /// <summary>
    /// Rewinds carried out so far. Read by the writer on the source's thread at each flush, it
    /// tells apart events read before a rewind from events read after it.
    /// </summary>
    int Generation { get; }
}

/// <summary>
/// A source that writes one burst per tick of an <see cref="AlignedTimer"/> (a /proc scrape, the
/// heartbeat) and flushes it whole. Nothing more comes until the next tick, so its batches close
/// as soon as a flush arrives instead of lingering for events that cannot come: a linger timer
/// per tick would be a wake-up of the idle daemon for nothing.
/// </summary>
public interface IPeriodicSource : IEventSource;
