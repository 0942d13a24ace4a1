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
/// broker. Calls arrive in checkpoint order, on a thread that is not the source's.
/// </summary>
public interface IAcknowledgingSource : IEventSource
{
    void OnDelivered(long checkpoint);
}
