namespace Ingest.Pipeline;

/// <summary>Why the pipeline lost events after a source wrote them. Names are the counters' names.</summary>
public enum DropReason
{
    /// <summary>The source's edge was full and its policy is drop_newest.</summary>
    QueueFull,

    /// <summary>The edge to the broker was full and its policy is drop_newest.</summary>
    SinkQueueFull,

    /// <summary>The broker did not acknowledge the record before message.timeout.ms.</summary>
    DeliveryFailed,

    /// <summary>Still unacknowledged when the shutdown flush timed out.</summary>
    Shutdown,

    /// <summary>The broker could not take the record and the spool had no room (Spool:MaxBytes or a full disk).</summary>
    SpoolFull,
}

public static class DropReasonNames
{
    private static readonly string[] Names = ["queue_full", "sink_queue_full", "delivery_failed", "shutdown", "spool_full"];

    public static int Count => Names.Length;

    public static string Name(this DropReason reason) => Names[(int)reason];
}
