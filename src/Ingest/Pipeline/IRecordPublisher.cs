namespace Ingest.Pipeline;

/// <summary>
/// The broker side of the pipeline's last edge. The Kafka implementation wraps the producer in
/// Ingest.Sinks; unit tests use a fake. Implementations call <see cref="OutgoingRecord.Delivered"/>
/// or <see cref="OutgoingRecord.Failed"/> exactly once per accepted record.
/// </summary>
public interface IRecordPublisher
{
    /// <summary>Enqueues the record; false when the producer's own buffer is full.</summary>
    bool TryPublish(OutgoingRecord record);

    /// <summary>Completes when a delivery freed room (or after a short interval).</summary>
    ValueTask WaitForSpaceAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Waits up to <paramref name="timeout"/> for outstanding deliveries, then ends the rest: when
    /// it returns, every accepted record has had its <see cref="OutgoingRecord.Delivered"/> or
    /// <see cref="OutgoingRecord.Failed"/> call. Returns how many were ended without an acknowledgement.
    /// </summary>
    int Flush(TimeSpan timeout);

    /// <summary>Records accepted and not yet acknowledged.</summary>
    int InFlight { get; }

    /// <summary>
    /// True when a record has waited longer than the delivery timeout this publisher leaves to its
    /// caller to enforce (see <see cref="Abandon"/>); always false for a producer that times
    /// records out itself.
    /// </summary>
    bool HasOverdue { get; }

    /// <summary>
    /// How long until the oldest unacknowledged record turns overdue (<see cref="HasOverdue"/>):
    /// <see cref="Timeout.InfiniteTimeSpan"/> when none can (nothing outstanding, or a producer
    /// that times records out itself); null when the publisher cannot tell, and the caller polls.
    /// </summary>
    TimeSpan? UntilOverdue => null;

    /// <summary>
    /// Ends every accepted, unacknowledged record now, all together: each is reported soon after
    /// as a retriable failure (the spool then takes it), and none produced before this call can be
    /// acknowledged after it.
    /// </summary>
    void Abandon();
}
