namespace Ingest.Transports.Ring;

/// <summary>What a consumer of a <see cref="MemoryRing"/> waits for when it has read everything.</summary>
public enum RingWaitSemantics
{
    /// <summary>
    /// ABI 2 (KINGEST_IOC_WAIT_READ): records beyond the consumer's read position. Sleeps until
    /// the producer publishes, however many records are read but not yet acknowledged.
    /// </summary>
    ReadPosition,

    /// <summary>
    /// ABI 1 (poll / KINGEST_IOC_WAIT): records beyond the published, acknowledged consumer
    /// position. While read records await acknowledgement the ring always looks readable, so the
    /// consumer can only sleep 1 ms at a time. Kept to measure what ABI 2 changed.
    /// </summary>
    PublishedPosition,
}
