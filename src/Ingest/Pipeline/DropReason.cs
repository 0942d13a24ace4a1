namespace Ingest.Pipeline;

/// <summary>Why the pipeline lost events after a source wrote them. Names are the counters' names.</summary>
public enum DropReason
{
    /// <summary>The source's edge was full and its policy is drop_newest.</summary>
    QueueFull,

    /// <summary>The edge to the broker was full and its policy is drop_newest.</summary>
    SinkQueueFull,

    /// <summary>The broker did not acknowledge the record before message.timeout.ms, and never received it.</summary>
    DeliveryFailed,

    /// <summary>Still unacknowledged and never sent when the shutdown flush timed out.</summary>
    Shutdown,

    /// <summary>
    /// Not acknowledged, but the request may have reached the broker (librdkafka's
    /// PossiblyPersisted: a timeout or a purge while the request was in flight). The events may be
    /// in the topic; counted apart from the certain losses above.
    /// </summary>
    PossiblyDelivered,

    /// <summary>The broker could not take the record and the spool had no room (Spool:MaxBytes or a full disk).</summary>
    SpoolFull,
}

public static class DropReasonNames
{
    private static readonly string[] Names = ["queue_full", "sink_queue_full", "delivery_failed", "shutdown", "possibly_delivered", "spool_full"];

    public static int Count => Names.Length;

    public static string Name(this DropReason reason) => Names[(int)reason];
}
